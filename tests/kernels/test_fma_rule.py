"""The rounding rule of the matrix products (docs/determinism.md, rule 1): every multiply-add of a
GEMM is one fused multiply-add, rounded once, on every ISA build (generic C through fmaf(),
AVX2 and AVX-512 through vfmadd). The other tests compare the paths with each other; these pin
what they all compute, against an exact model written here with Python fractions:

    acc = beta * c (rounded); for k in order: acc = round_f32(a_k * b_k + acc)   (exact inside)
"""

from fractions import Fraction

import numpy as np
import pytest

from aenn import _core

ISAS = _core.available_isas()


def round_f32(x):
    """The float32 nearest to the exact rational x, ties to even (IEEE round-to-nearest)."""
    guess = np.float32(float(x))  # within one float32 step of the answer
    best = None
    for cand in (np.nextafter(guess, np.float32(-np.inf)), guess,
                 np.nextafter(guess, np.float32(np.inf))):
        err = abs(Fraction(float(cand)) - x)
        if best is None or err < best[0] or (
                err == best[0] and int(cand.view(np.uint32)) % 2 == 0):
            best = (err, cand)
    return best[1]


def fused_chain(a_row, b_col, acc):
    """k ascending: acc = round(a*b + acc) with the product and the sum exact before rounding."""
    acc = np.float32(acc)
    for a, b in zip(a_row, b_col):
        acc = round_f32(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(acc)))
    return acc


def test_round_f32_model():
    # 1 + 2^-24 lies halfway between 1 and the next float32: ties go to the even one, 1.0
    assert round_f32(Fraction(1) + Fraction(1, 2 ** 24)) == np.float32(1.0)
    assert round_f32(Fraction(1) + Fraction(3, 2 ** 25)) == np.nextafter(np.float32(1),
                                                                         np.float32(2))


def test_a_product_that_a_separate_multiply_would_round():
    # (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: a float32 multiply drops the 2^-24 (a tie, to even);
    # a fused multiply-add keeps it, so a*b - (1 + 2^-11) is 2^-24, not 0.
    a = np.float32(1 + 2.0 ** -12)
    c = np.float32(-(1 + 2.0 ** -11))
    assert np.float32(a * a) + c == np.float32(0.0)  # what mul-then-add would give
    for isa in ISAS:
        _core.set_isa(isa)
        for simd in (True, False):
            _core.gemm_set_simd(simd)
            C = np.array([[c]], np.float32)
            _core.gemm(C, np.array([[a]], np.float32), np.array([[a]], np.float32), 0, 0, 1.0)
            assert C[0, 0] == np.float32(2.0 ** -24), (isa, simd)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("ta,tb", [(0, 0), (1, 1)])
def test_gemm_is_a_chain_of_fused_multiply_adds(isa, ta, tb, restore_core):
    _core.set_isa(isa)
    rng = np.random.default_rng(7)
    M, N, K = 5, 19, 37  # edge strips and panels in every micro-kernel
    A = rng.standard_normal((M, K)).astype(np.float32)
    B = rng.standard_normal((K, N)).astype(np.float32)
    C0 = rng.standard_normal((M, N)).astype(np.float32)
    beta = np.float32(0.5)
    want = np.empty((M, N), np.float32)
    for i in range(M):
        for j in range(N):
            want[i, j] = fused_chain(A[i], B[:, j], beta * C0[i, j])
    for simd in (True, False):
        _core.gemm_set_simd(simd)
        C = C0.copy()
        _core.gemm(C, np.ascontiguousarray(A.T) if ta else A,
                   np.ascontiguousarray(B.T) if tb else B, ta, tb, float(beta))
        np.testing.assert_array_equal(C.view(np.uint32), want.view(np.uint32))
    C = C0.copy()
    _core.gemm_naive(C, A, B, 0, 0, float(beta))
    np.testing.assert_array_equal(C.view(np.uint32), want.view(np.uint32))
