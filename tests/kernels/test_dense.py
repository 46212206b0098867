"""aenn._core.dense_forward / dense_backward vs the NumPy twin; twin vs finite differences."""

import time

import numpy as np
import pytest

from aenn import _core
from aenn.reference import dense as ref
from tests.gradcheck import assert_grads_match

SHAPES = [(1, 1, 1), (1, 7, 3), (3, 17, 7), (7, 3, 17), (17, 1, 7), (65, 13, 9)]


def _data(B, C, OC, seed=0, lead=None):
    rng = np.random.default_rng(seed)
    shape = (B, C) if lead is None else (B,) + lead + (C,)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((C, OC)).astype(np.float32)
    b = rng.standard_normal(OC).astype(np.float32)
    return x, w, b


def _c_forward(x, w, b):
    out = np.empty(x.shape[:-1] + (w.shape[1],), np.float32)
    _core.dense_forward(out, x, w, b)
    return out


def _c_backward(dout, x, w, need_dinp=True, need_dbias=True):
    dinp = np.empty_like(x) if need_dinp else None
    dw = np.empty_like(w)
    db = np.empty(w.shape[1], np.float32) if need_dbias else None
    _core.dense_backward(dinp, dw, db, dout, x, w)
    return dinp, dw, db


@pytest.mark.parametrize("B,C,OC", SHAPES)
@pytest.mark.parametrize("use_bias", [True, False])
def test_forward_matches_reference(B, C, OC, use_bias):
    x, w, b = _data(B, C, OC)
    b = b if use_bias else None
    got = _c_forward(x, w, b)
    want = ref.dense_forward(x.astype(np.float64), w.astype(np.float64),
                             None if b is None else b.astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("B,C,OC", SHAPES)
def test_backward_matches_reference(B, C, OC):
    x, w, _ = _data(B, C, OC, seed=1)
    dout = np.random.default_rng(2).standard_normal((B, OC)).astype(np.float32)
    got = _c_backward(dout, x, w)
    want = ref.dense_backward(dout.astype(np.float64), x.astype(np.float64), w.astype(np.float64))
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


def test_backward_optional_outputs_and_rank3():
    x, w, b = _data(4, 5, 6, seed=3, lead=(3,))
    out = _c_forward(x, w, b)
    assert out.shape == (4, 3, 6)
    np.testing.assert_allclose(out, ref.dense_forward(x, w, b), rtol=1e-5, atol=1e-5)
    dout = np.ones_like(out)
    dinp, dw, db = _c_backward(dout, x, w, need_dinp=False, need_dbias=False)
    assert dinp is None and db is None
    np.testing.assert_allclose(dw, ref.dense_backward(dout, x, w)[1], rtol=1e-5, atol=1e-5)
    dinp, dw, db = _c_backward(dout, x, w)
    for g, r in zip((dinp, dw, db), ref.dense_backward(dout, x, w)):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


def test_backward_overwrites_gradients():
    x, w, _ = _data(5, 4, 3, seed=4)
    dout = np.ones((5, 3), np.float32)
    dinp, dw, db = np.full_like(x, 7), np.full_like(w, 7), np.full(3, 7, np.float32)
    _core.dense_backward(dinp, dw, db, dout, x, w)
    for g, r in zip((dinp, dw, db), ref.dense_backward(dout, x, w)):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("B,C,OC", [(1, 3, 2), (3, 7, 17), (7, 17, 1)])
def test_reference_gradients_finite_differences(B, C, OC):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((B, C))
    w = rng.standard_normal((C, OC))
    b = rng.standard_normal(OC)
    dout = rng.standard_normal((B, OC))
    dinp, dw, db = ref.dense_backward(dout, x, w)
    assert_grads_match(ref.dense_forward, [x, w, b], dout, [dinp, dw, db])


def test_threads_bitwise():
    B, C, OC = 150, 37, 70  # batch > 64 and not a multiple of 64
    x, w, b = _data(B, C, OC, seed=6)
    dout = np.random.default_rng(7).standard_normal((B, OC)).astype(np.float32)
    results = []
    try:
        for n in (1, 2):
            _core.set_num_threads(n)
            time.sleep(0.05)
            results.append((_c_forward(x, w, b),) + _c_backward(dout, x, w))
    finally:
        _core.set_num_threads(1)
    for a, b2 in zip(*results):
        np.testing.assert_array_equal(a, b2)


def test_bad_arguments():
    x, w, b = _data(4, 5, 3)
    out = np.empty((4, 3), np.float32)
    with pytest.raises(TypeError):
        _core.dense_forward(out, x.astype(np.float64), w, b)
    with pytest.raises(TypeError):
        _core.dense_forward(out, x, w, b.astype(np.int32))
    with pytest.raises(ValueError, match="at least 2"):
        _core.dense_forward(np.empty(3, np.float32), x[0].copy(), w, b)
    with pytest.raises(ValueError, match="axis 0 of `weight`"):
        _core.dense_forward(out, np.ones((4, 6), np.float32), w, b)
    with pytest.raises(ValueError):
        _core.dense_forward(np.empty((4, 4), np.float32), x, w, b)
    with pytest.raises(ValueError):
        _core.dense_forward(np.empty((5, 3), np.float32), x, w, b)
    with pytest.raises(ValueError):
        _core.dense_forward(out, x, w, np.ones(4, np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.dense_forward(out, np.ones((5, 4), np.float32).T, w, b)
    ro = np.empty((4, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _core.dense_forward(ro, x, w, b)
    with pytest.raises(ValueError, match="shares memory"):
        _core.dense_forward(x.reshape(-1)[:12].reshape(4, 3), x, w, b)
    dout = np.ones((4, 3), np.float32)
    dw = np.empty_like(w)
    with pytest.raises(ValueError):
        _core.dense_backward(np.empty((4, 6), np.float32), dw, None, dout, x, w)
    with pytest.raises(ValueError):
        _core.dense_backward(None, np.empty((3, 5), np.float32), None, dout, x, w)
    with pytest.raises(ValueError):
        _core.dense_backward(None, dw, np.empty(4, np.float32), dout, x, w)
    with pytest.raises(ValueError):
        _core.dense_backward(None, dw, None, np.ones((4, 2), np.float32), x, w)
    with pytest.raises(ValueError, match="shares memory"):
        _core.dense_backward(None, dw, dw[0], dout, x, w)
    with pytest.raises(ValueError, match="shares memory"):
        _core.dense_backward(None, w, None, dout, x, w)
    with pytest.raises(TypeError):
        _core.dense_backward(None, None, None, dout, x, w)
