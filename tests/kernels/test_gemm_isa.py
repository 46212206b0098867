"""The SIMD GEMM paths (AVX-512 16x16, AVX2 6x16 micro-kernels, cost-model split) give the SAME
BITS as the reference loop aenn_gemm_naive and the generic micro-kernel, for every ISA the CPU
has, on odd shapes (edge strips and panels, several K-blocks and column blocks), all four
transpose combinations, beta 0 / 1 / 0.5 (beta 0 never reads C, which holds NaN), and 1 vs 2
threads."""

import time

import numpy as np
import pytest

from aenn import _core

ISAS = _core.available_isas()
SIZES = [1, 3, 7, 17, 31, 33, 64, 65, 255, 257]
TRANS = [(0, 0), (0, 1), (1, 0), (1, 1)]

# Every size in every role, next to sizes that are not multiples of any micro-tile; plus shapes
# with several K-blocks (K > 256) and column blocks (N > 256), and the dense DAE's own.
SHAPES = ([(v, 33, 17) for v in SIZES] + [(17, v, 65) for v in SIZES] + [(31, 7, v) for v in SIZES]
          + [(257, 255, 65), (65, 257, 255), (33, 64, 600), (1, 600, 3), (600, 1, 257),
             (256, 196, 256), (196, 256, 256), (32, 10, 64)])


def _operands(M, N, K, ta, tb, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    B = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    C0 = rng.standard_normal((M, N)).astype(np.float32)
    return A, B, C0


def _run(fn, A, B, C0, ta, tb, beta):
    C = np.full_like(C0, np.nan) if beta == 0.0 else C0.copy()  # beta 0 must not read C
    fn(C, A, B, ta, tb, beta)
    return C


@pytest.mark.parametrize("M,N,K", SHAPES)
def test_every_isa_matches_naive_bitwise(M, N, K, restore_core):
    for n, (ta, tb) in enumerate(TRANS):
        beta = (0.0, 1.0, 0.5)[(M + N + K + n) % 3]
        A, B, C0 = _operands(M, N, K, ta, tb, seed=M * 7919 + N * 31 + K + n)
        want = _run(_core.gemm_naive, A, B, C0, ta, tb, beta)
        assert not np.isnan(want).any()
        for isa in ISAS:
            _core.set_isa(isa)
            got = _run(_core.gemm, A, B, C0, ta, tb, beta)
            np.testing.assert_array_equal(got, want, err_msg=f"isa={isa} ta={ta} tb={tb} beta={beta}")


@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5])
@pytest.mark.parametrize("ta,tb", TRANS)
def test_betas_every_isa_and_generic_kernel(beta, ta, tb, restore_core):
    M, N, K = 65, 257, 300
    A, B, C0 = _operands(M, N, K, ta, tb, seed=5)
    want = _run(_core.gemm_naive, A, B, C0, ta, tb, beta)
    outs = {}
    for isa in ISAS:
        _core.set_isa(isa)
        outs[isa] = _run(_core.gemm, A, B, C0, ta, tb, beta)
    _core.gemm_set_simd(False)  # the generic micro-kernel under the best ISA
    outs["generic-kernel"] = _run(_core.gemm, A, B, C0, ta, tb, beta)
    for name, got in outs.items():
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_nan_in_operands_propagates_like_naive(restore_core):
    M, N, K = 20, 20, 40
    A, B, C0 = _operands(M, N, K, 0, 0, seed=9)
    A[3, 5] = np.nan
    B[7, 11] = np.inf
    want = _run(_core.gemm_naive, A, B, C0, 0, 0, 0.0)
    for isa in ISAS:
        _core.set_isa(isa)
        got = _run(_core.gemm, A, B, C0, 0, 0, 0.0)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])


# Shapes where the 2-thread split differs from the 1-thread one (rows, columns, both).
@pytest.mark.parametrize("M,N,K", [(256, 512, 300), (256, 196, 256), (784, 64, 32), (32, 10, 64),
                                   (17, 600, 33), (600, 17, 257), (3, 3, 3)])
@pytest.mark.parametrize("ta,tb", TRANS)
def test_threads_bitwise_every_isa(M, N, K, ta, tb, restore_core):
    A, B, C0 = _operands(M, N, K, ta, tb, seed=M + N + K)
    want = _run(_core.gemm_naive, A, B, C0, ta, tb, 0.5)
    for isa in ISAS:
        _core.set_isa(isa)
        for n in (1, 2):
            _core.set_num_threads(n)
            time.sleep(0.02)
            got = _run(_core.gemm, A, B, C0, ta, tb, 0.5)
            np.testing.assert_array_equal(got, want, err_msg=f"isa={isa} threads={n}")
