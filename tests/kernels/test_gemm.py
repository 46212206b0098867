"""aenn._core.gemm: the fast path vs the naive loop (bitwise), NumPy, transposes, threads, bad args."""

import time

import numpy as np
import pytest

from aenn import _core
from aenn.reference import dense as ref

SHAPES = [(1, 1, 1), (3, 7, 17), (17, 3, 7), (7, 17, 1), (1, 33, 300), (65, 9, 257),
          (70, 130, 520), (5, 8, 4), (13, 200, 3)]


def _operands(M, N, K, ta, tb, rng):
    A = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    B = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    return A, B


def _set_threads(n):
    _core.set_num_threads(n)
    time.sleep(0.05)  # let freshly started pool workers reach their wait loop


@pytest.mark.parametrize("M,N,K", SHAPES)
@pytest.mark.parametrize("ta,tb", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_gemm_matches_naive_bitwise_and_numpy(M, N, K, ta, tb):
    rng = np.random.default_rng(M * 1000 + N * 10 + K)
    A, B = _operands(M, N, K, ta, tb, rng)
    C = np.full((M, N), np.nan, np.float32)  # beta=0 must not read C
    C2 = np.full((M, N), np.nan, np.float32)
    _core.gemm(C, A, B, ta, tb)
    _core.gemm_naive(C2, A, B, ta, tb)
    np.testing.assert_array_equal(C, C2)
    want = ref.gemm(None, A.astype(np.float64), B.astype(np.float64), ta, tb)
    np.testing.assert_allclose(C, want, rtol=1e-4, atol=1e-4 * np.sqrt(K))


@pytest.mark.parametrize("beta", [1.0, 0.5, -2.0])
def test_gemm_beta(beta):
    rng = np.random.default_rng(1)
    M, N, K = 37, 29, 300
    A, B = _operands(M, N, K, 1, 0, rng)
    C0 = rng.standard_normal((M, N)).astype(np.float32)
    C, C2 = C0.copy(), C0.copy()
    _core.gemm(C, A, B, True, False, beta)
    _core.gemm_naive(C2, A, B, True, False, beta)
    np.testing.assert_array_equal(C, C2)
    want = ref.gemm(C0.astype(np.float64), A.astype(np.float64), B.astype(np.float64), 1, 0, beta)
    np.testing.assert_allclose(C, want, rtol=1e-4, atol=1e-3)


def test_generic_and_simd_microkernels_agree():
    rng = np.random.default_rng(2)
    M, N, K = 45, 77, 600
    A, B = _operands(M, N, K, 0, 0, rng)
    outs = []
    try:
        for simd in (False, True):
            _core.gemm_set_simd(simd)
            C = np.empty((M, N), np.float32)
            _core.gemm(C, A, B)
            outs.append(C)
    finally:
        _core.gemm_set_simd(True)
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("M,N,K", [(130, 70, 300), (3, 250, 33), (200, 5, 7)])
def test_gemm_threads_bitwise(M, N, K):
    rng = np.random.default_rng(3)
    A, B = _operands(M, N, K, 1, 0, rng)
    outs = []
    try:
        for n in (1, 2):
            _set_threads(n)
            C = np.empty((M, N), np.float32)
            _core.gemm(C, A, B, True, False)
            outs.append(C)
    finally:
        _set_threads(1)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_gemm_bad_arguments():
    A = np.ones((3, 4), np.float32)
    B = np.ones((4, 5), np.float32)
    C = np.empty((3, 5), np.float32)
    with pytest.raises(TypeError):
        _core.gemm(C, A.astype(np.float64), B)
    with pytest.raises(TypeError):
        _core.gemm(C, [[1.0]], B)
    with pytest.raises(ValueError):
        _core.gemm(C, A.reshape(-1), B)
    with pytest.raises(ValueError, match="inner dimension"):
        _core.gemm(C, A, np.ones((5, 5), np.float32))
    with pytest.raises(ValueError):
        _core.gemm(np.empty((3, 6), np.float32), A, B)
    with pytest.raises(ValueError):
        _core.gemm(C, np.ones((4, 3), np.float32)[:, :], B)  # transA not set: rows mismatch
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.gemm(C, np.ones((4, 3), np.float32).T, B)
    ro = np.empty((3, 5), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _core.gemm(ro, A, B)
    with pytest.raises(ValueError, match="empty"):
        _core.gemm(np.empty((0, 5), np.float32), np.ones((0, 4), np.float32), B)
    S = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="shares memory"):
        _core.gemm(S, S, np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match="finite"):
        _core.gemm(C, A, B, beta=float("nan"))
