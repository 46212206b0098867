"""The fused Conv2D(one input channel) + ReLU + 2x2 max-pool kernel (csrc/convpool.c): the same
bits as the three unfused kernels (forward output and argmax, weight and bias gradients), on
every ISA, thread count and with the special paths off; vs its NumPy twin; twin vs finite
differences; bad arguments raise."""

import numpy as np
import pytest

from aenn import _core, activations
from aenn.reference import convpool as ref
from tests.gradcheck import assert_grads_match

ISAS = _core.available_isas()
RELU = activations.get("relu")

# (B, H, W, KH, OC, pads (top, bottom, left, right), bias)
CASES = [
    (5, 28, 28, 3, 16, (1, 1, 1, 1), True),   # the conv denoiser's first layer; 3 chunks of rows
    (3, 28, 28, 3, 32, (0, 0, 0, 0), True),   # the MNIST convnet's first layer (26x26 -> 13x13)
    (2, 7, 9, 3, 5, (1, 1, 1, 1), False),     # odd conv output: a last row and column in no window
    (1, 4, 6, 1, 3, (0, 0, 1, 1), True),      # one kernel row
    (2, 5, 5, 2, 17, (1, 0, 1, 1), True),     # two kernel rows, channels past a vector
    (1, 2, 2, 3, 1, (1, 1, 1, 1), True),      # one output channel, the smallest input
    (1, 4, 128, 3, 32, (1, 1, 1, 1), True),   # a conv row of exactly AENN_CONVPOOL_ROW_MAX floats
]


def _data(B, H, W, KH, OC, bias, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, H, W, 1)).astype(np.float32)
    if sparse:  # MNIST-like: most pixels exactly 0, so pre-activations tie and sit at 0
        x[rng.random(x.shape) < 0.8] = 0.0
    w = rng.standard_normal((KH, 3, 1, OC)).astype(np.float32)
    b = (rng.standard_normal(OC).astype(np.float32) if not sparse else np.zeros(OC, np.float32)) \
        if bias else None
    return x, w, b


def _dout(x, w, pads, seed=1):
    B, H, W, _ = x.shape
    OH, OW = H + pads[0] + pads[1] - w.shape[0] + 1, W + pads[2] + pads[3] - 2
    return np.random.default_rng(seed).standard_normal(
        (B, OH // 2, OW // 2, w.shape[3])).astype(np.float32)


def fused(x, w, b, dout, pads):
    out = np.empty(dout.shape, np.float32)
    argmax = np.empty(dout.shape, np.int32)
    _core.convpool_forward(out, argmax, x, w, b, *pads)
    dw = np.empty_like(w)
    db = np.empty(w.shape[3], np.float32) if b is not None else None
    _core.convpool_backward(dw, db, dout, out, argmax, x, *pads)
    return out, argmax, dw, db


def unfused(x, w, b, dout, pads):
    """Conv2D, ReLU and MaxPooling2D as the layers run them, one kernel each."""
    B, H, W, _ = x.shape
    OH, OW = H + pads[0] + pads[1] - w.shape[0] + 1, W + pads[2] + pads[3] - 2
    pre = np.empty((B, OH, OW, w.shape[3]), np.float32)
    _core.conv2d_forward(pre, x, w, b, 1, 1, 1, 1, *pads)
    y = RELU.forward(pre)
    out = np.empty(dout.shape, np.float32)
    argmax = np.empty(dout.shape, np.int32)
    _core.maxpool2d_forward(out, argmax, y, 2, 2, 2, 2, 0, 0)
    dy = np.empty_like(y)
    _core.maxpool2d_backward(dy, dout, argmax, 2, 2, 2, 2, 0, 0)
    dpre = RELU.backward(dy, pre, y)
    dw = np.empty_like(w)
    db = np.empty(w.shape[3], np.float32) if b is not None else None
    _core.conv2d_backward(None, dw, db, dpre, x, w, 1, 1, 1, 1, *pads)
    return out, argmax, dw, db


def _same_bits(got, want):
    for g, e in zip(got, want):
        if e is None:
            assert g is None
        else:
            assert g.tobytes() == e.tobytes()


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("B,H,W,KH,OC,pads,bias", CASES)
def test_same_bits_as_the_unfused_layers(restore_core, B, H, W, KH, OC, pads, bias, sparse):
    x, w, b = _data(B, H, W, KH, OC, bias, sparse=sparse)
    dout = _dout(x, w, pads)
    want = unfused(x, w, b, dout, pads)
    for isa in ISAS:
        _core.set_isa(isa)
        for threads in (1, 2):
            _core.set_num_threads(threads)
            _same_bits(fused(x, w, b, dout, pads), want)
    # and the unfused layers' general (not special-path) kernels give those bits too
    _core.conv_set_special_paths(False)
    _core.pool_set_special_paths(False)
    _same_bits(fused(x, w, b, dout, pads), want)
    _same_bits(unfused(x, w, b, dout, pads), want)


@pytest.mark.parametrize("B,H,W,KH,OC,pads,bias", CASES[:5])
def test_matches_the_twin(B, H, W, KH, OC, pads, bias):
    x, w, b = _data(B, H, W, KH, OC, bias, seed=3)
    dout = _dout(x, w, pads, seed=4)
    out, argmax, dw, db = fused(x, w, b, dout, pads)
    f64 = (lambda a: None if a is None else a.astype(np.float64))
    r_out, r_arg = ref.convpool_forward(f64(x), f64(w), f64(b), pads)
    r_dw, r_db = ref.convpool_backward(f64(dout), f64(x), f64(w), f64(b), pads)
    np.testing.assert_allclose(out, r_out, rtol=1e-5, atol=1e-5)
    # float32 vs float64 rounding can swap two nearly equal maxima; almost all must agree
    assert np.mean(argmax == r_arg) > 0.999
    np.testing.assert_allclose(dw, r_dw, rtol=1e-4, atol=1e-3)
    if bias:
        np.testing.assert_allclose(db, r_db, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("pads,bias", [((1, 1, 1, 1), True), ((0, 0, 0, 0), False)])
def test_twin_matches_finite_differences(pads, bias):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, 7, 1))
    w = rng.standard_normal((3, 3, 1, 4))
    b = rng.standard_normal(4) if bias else None
    dout = rng.standard_normal(ref.convpool_forward(x, w, b, pads)[0].shape)
    dw, db = ref.convpool_backward(dout, x, w, b, pads)
    if bias:
        assert_grads_match(lambda w_, b_: ref.convpool_forward(x, w_, b_, pads)[0], [w, b], dout,
                           [dw, db], rtol=1e-5, atol=1e-6)
    else:
        assert_grads_match(lambda w_: ref.convpool_forward(x, w_, None, pads)[0], [w], dout,
                           [dw], rtol=1e-5, atol=1e-6)


def _args(B=2, H=6, W=6, C=1, KH=3, KW=3, OC=4, PH=3, PW=3):
    x = np.zeros((B, H, W, C), np.float32)
    w = np.zeros((KH, KW, C, OC), np.float32)
    b = np.zeros(OC, np.float32)
    out = np.empty((B, PH, PW, OC), np.float32)
    return x, w, b, out, np.empty(out.shape, np.int32)


PADS = (1, 1, 1, 1)


@pytest.mark.parametrize("change,match", [
    (dict(C=2), "one channel"),
    (dict(KW=5), r"\(KH, 3, 1, OC\)"),
    (dict(KH=4), r"\(KH, 3, 1, OC\)"),
    (dict(PH=2), "half the conv output height"),
    (dict(PW=4), "half the conv output width"),
    (dict(H=1, W=1, PH=1, PW=1), "too small for a 2x2 pool"),
    (dict(W=200, PW=100, OC=32), "over the fused op's limit"),
])
def test_bad_forward_arguments_raise(change, match):
    x, w, b, out, argmax = _args(**change)
    with pytest.raises(ValueError, match=match):
        _core.convpool_forward(out, argmax, x, w, b, *PADS)


def test_bad_arrays_raise():
    x, w, b, out, argmax = _args()
    with pytest.raises(ValueError, match="padding"):
        _core.convpool_forward(out, argmax, x, w, b, 3, 1, 1, 1)
    with pytest.raises(TypeError, match="argmax"):
        _core.convpool_forward(out, argmax.astype(np.int64), x, w, b, *PADS)
    with pytest.raises(ValueError, match="bias"):
        _core.convpool_forward(out, argmax, x, w, np.zeros(5, np.float32), *PADS)
    with pytest.raises(ValueError, match="argmax"):
        _core.convpool_forward(out, np.empty((2, 3, 3, 5), np.int32), x, w, b, *PADS)
    with pytest.raises(ValueError, match="shares memory"):
        _core.convpool_backward(out.reshape(-1)[:w.size].reshape(w.shape), None, out, out,
                                argmax, x, *PADS)
    with pytest.raises(ValueError, match="dbias"):
        _core.convpool_backward(np.empty_like(w), np.empty(3, np.float32), out, out, argmax, x,
                                *PADS)
    with pytest.raises(ValueError, match="out"):
        _core.convpool_backward(np.empty_like(w), None, out, out[:, :2], argmax, x, *PADS)
    ro = np.empty_like(w)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="dweight"):
        _core.convpool_backward(ro, None, out, out, argmax, x, *PADS)


def test_garbage_argmax_cannot_crash():
    """argmax is only compared with positions, never used as an address."""
    x, w, b = _data(2, 6, 6, 3, 4, True)
    out = np.zeros((2, 3, 3, 4), np.float32)
    argmax = np.full(out.shape, -7, np.int32)
    dw = np.empty_like(w)
    db = np.empty(4, np.float32)
    _core.convpool_backward(dw, db, np.ones_like(out), out, argmax, x, *PADS)
    assert not dw.any() and not db.any()
