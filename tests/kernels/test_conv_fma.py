"""The conv kernels accumulate every product with one fused multiply-add, acc = fma(x, w, acc)
(the exact product added with a single rounding), in the documented order: the C bits equal an
exact Python model of that chain (rationals, rounded once to float32, ties to even), on every
ISA the CPU has and on 1 and 2 threads, for the general tiles and the one-channel special paths.

Python 3.11 has no math.fma, and a float64 product plus a float64 add then a float32 rounding
can round twice, so the model rounds the exact rational result itself."""

from fractions import Fraction

import numpy as np
import pytest

from aenn import _core
from tests.kernels import test_conv as tc

ISAS = _core.available_isas()


def _round_f32(q):
    """q (a Fraction, not 0) correctly rounded to float32, ties to even."""
    f = np.float32(float(q))  # within an ulp of the answer
    cands = [np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf))]
    return min(cands, key=lambda c: (abs(Fraction(float(c)) - q),
                                     int(np.array(c, np.float32).view(np.uint32)) & 1))


def fma32(a, b, c):
    """float32 fma(a, b, c) = a*b + c rounded once."""
    q = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    if q == 0:  # exact zero: -0 only if a*b and c are both -0 (round to nearest)
        neg = (np.signbit(a) != np.signbit(b)) and np.signbit(c)
        return np.float32(-0.0 if neg else 0.0)
    return _round_f32(q)


def _unfused32(a, b, c):
    return np.float32(np.float32(a * b) + c)


def _geom(case):
    sh, sw, dh, dw, pt, pb, pl, pr = case["geom"]
    oh = (case["h"] + pt + pb - (case["kh"] - 1) * dh - 1) // sh + 1
    ow = (case["w"] + pl + pr - (case["kw"] - 1) * dw - 1) // sw + 1
    return sh, sw, dh, dw, pt, pl, oh, ow


def model_forward(x, w, b, case, fma):
    """y[b,oh,ow,n]: bias (or 0); then u, t ascending over the taps inside x, m ascending."""
    sh, sw, dh, dw, pt, pl, OH, OW = _geom(case)
    B, H, W, M = x.shape
    KH, KW, _, N = w.shape
    y = np.empty((B, OH, OW, N), np.float32)
    for bi in range(B):
        for oh in range(OH):
            for ow in range(OW):
                for n in range(N):
                    acc = np.float32(b[n]) if b is not None else np.float32(0.0)
                    for u in range(KH):
                        ih = oh * sh + u * dh - pt
                        if not 0 <= ih < H:
                            continue
                        for t in range(KW):
                            iw = ow * sw + t * dw - pl
                            if not 0 <= iw < W:
                                continue
                            for m in range(M):
                                acc = fma(x[bi, ih, iw, m], w[u, t, m, n], acc)
                    y[bi, oh, ow, n] = acc
    return y


def model_dinp(dy, w, case):
    """dx[b,ih,iw,m]: 0; then u, t ascending over the (oh, ow) that read it, n ascending."""
    sh, sw, dh, dw, pt, pl, OH, OW = _geom(case)
    B, H, W, M = case["b"], case["h"], case["w"], case["c"]
    KH, KW, _, N = w.shape
    dx = np.empty((B, H, W, M), np.float32)
    for bi in range(B):
        for ih in range(H):
            for iw in range(W):
                for m in range(M):
                    acc = np.float32(0.0)
                    for u in range(KH):
                        ph = ih + pt - u * dh
                        if ph < 0 or ph % sh or ph // sh >= OH:
                            continue
                        for t in range(KW):
                            pw = iw + pl - t * dw
                            if pw < 0 or pw % sw or pw // sw >= OW:
                                continue
                            for n in range(N):
                                acc = fma32(dy[bi, ph // sh, pw // sw, n], w[u, t, m, n], acc)
                    dx[bi, ih, iw, m] = acc
    return dx


def model_dweight(x, dy, case):
    """One chunk (B*OH <= 64 rows): 0; then rows (b, oh) ascending, ow ascending; the chunk
    partial is then added to 0 (the chunk combine)."""
    sh, sw, dh, dw, pt, pl, OH, OW = _geom(case)
    B, H, W, M = x.shape
    N = dy.shape[3]
    assert B * OH <= 64
    dwt = np.empty((case["kh"], case["kw"], M, N), np.float32)
    for u in range(case["kh"]):
        for t in range(case["kw"]):
            for m in range(M):
                for n in range(N):
                    acc = np.float32(0.0)
                    for bi in range(B):
                        for oh in range(OH):
                            ih = oh * sh + u * dh - pt
                            if not 0 <= ih < H:
                                continue
                            for ow in range(OW):
                                iw = ow * sw + t * dw - pl
                                if 0 <= iw < W:
                                    acc = fma32(x[bi, ih, iw, m], dy[bi, oh, ow, n], acc)
                    dwt[u, t, m, n] = np.float32(0.0) + acc
    return dwt


# general tiles (channel tails on every vector width), two rows' short blocks at once
# (corr_block_pair: whole vectors of output channels -- 16 forward, 4 in the backward-data pass),
# one input channel (row_m1, wgrad_m1 / wgrad_m1_chunk), one output channel (corr_n1 on
# transposed rows, wgrad_n1, the backward-data row_m1 with a negative tap step), a stride-2 and a
# dilated case
CASES = [
    dict(b=1, h=4, w=6, c=3, oc=5, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=1, h=5, w=5, c=5, oc=17, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=1, h=6, w=7, c=3, oc=16, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=1, h=6, w=7, c=16, oc=4, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=2, h=5, w=7, c=1, oc=16, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=1, h=5, w=19, c=16, oc=1, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=1, h=7, w=9, c=3, oc=4, kh=3, kw=2, geom=(2, 2, 1, 1, 1, 1, 0, 1)),
    dict(b=1, h=6, w=11, c=1, oc=3, kh=2, kw=3, geom=(1, 1, 2, 2, 1, 1, 2, 2)),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['c']}to{c['oc']}-{i}" for i, c in enumerate(CASES)])
def test_conv_accumulates_with_fma_in_order(restore_core, case):
    x, w, b = tc._arrays(case, False, seed=7)
    dy = np.cos(np.arange(np.prod(_geom(case)[6:]) * case["b"] * case["oc"], dtype=np.float32)
                ).reshape(case["b"], *_geom(case)[6:], case["oc"]).astype(np.float32)
    want = [model_forward(x, w, b, case, fma32), model_dinp(dy, w, case),
            model_dweight(x, dy, case)]
    # the data is such that fusing matters: the unfused chain differs somewhere
    assert model_forward(x, w, b, case, _unfused32).tobytes() != want[0].tobytes()
    for isa in ISAS:
        _core.set_isa(isa)
        for threads in (1, 2):
            _core.set_num_threads(threads)
            got = [tc.c_conv_forward(x, w, b, case["geom"]),
                   *tc.c_conv_backward(dy, x, w, case["geom"], need_dbias=False)[:2]]
            for name, g, r in zip(("out", "dinp", "dweight"), got, want):
                assert g.tobytes() == r.tobytes(), f"{name} isa={isa} threads={threads}"
