"""C pooling kernels vs the NumPy twins, finite differences, threads, bad arguments."""

import numpy as np
import pytest

from aenn import _core
from aenn.layers import shapes
from aenn.reference import pool as ref
from tests.gradcheck import assert_grads_match


def geometry(H, W, k, s, padding):
    oh = shapes.conv_output_length(H, k[0], s[0], padding)
    ow = shapes.conv_output_length(W, k[1], s[1], padding)
    pt = shapes.conv_padding(H, k[0], s[0], padding)[0]
    pl = shapes.conv_padding(W, k[1], s[1], padding)[0]
    return (k[0], k[1], s[0], s[1], pt, pl), (oh, ow)


def distinct(rng, shape):
    """Values without ties (max pool gradients are then well defined)."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) / n + 0.01 * rng.standard_normal(shape)).astype(
        np.float32)


def c_max(x, geom, out_hw):
    out = np.empty((x.shape[0], *out_hw, x.shape[3]), np.float32)
    arg = np.empty(out.shape, np.int32)
    _core.maxpool2d_forward(out, arg, x, *geom)
    return out, arg


def c_avg(x, geom, out_hw):
    out = np.empty((x.shape[0], *out_hw, x.shape[3]), np.float32)
    _core.avgpool2d_forward(out, x, *geom)
    return out


CASES = [
    # (B, H, W, C, k, s, padding)
    (1, 7, 7, 1, (2, 2), (2, 2), "same"),
    (1, 7, 7, 3, (2, 2), (2, 2), "valid"),
    (2, 7, 5, 3, (3, 3), (1, 1), "same"),
    (3, 17, 7, 2, (3, 2), (2, 3), "same"),
    (2, 17, 7, 2, (3, 2), (3, 1), "valid"),
    (2, 1, 17, 3, (1, 3), (1, 2), "same"),  # 1-D as H = 1
    (2, 4, 4, 3, (4, 4), (1, 1), "valid"),  # global
]


@pytest.mark.parametrize("B,H,W,C,k,s,padding", CASES)
def test_forward_backward_match_reference(B, H, W, C, k, s, padding):
    rng = np.random.default_rng(0)
    x = distinct(rng, (B, H, W, C))
    geom, out_hw = geometry(H, W, k, s, padding)
    out, arg = c_max(x, geom, out_hw)
    r_out, r_arg = ref.maxpool2d_forward(x, *geom, out_size=out_hw)
    np.testing.assert_array_equal(out, r_out)
    np.testing.assert_array_equal(arg, r_arg)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dinp = np.empty_like(x)
    _core.maxpool2d_backward(dinp, dout, arg, *geom)
    np.testing.assert_allclose(dinp, ref.maxpool2d_backward(dout, r_arg, *geom, (H, W)),
                               rtol=1e-6, atol=1e-6)

    a = c_avg(x, geom, out_hw)
    np.testing.assert_allclose(a, ref.avgpool2d_forward(x, *geom, out_hw), rtol=1e-5, atol=1e-6)
    _core.avgpool2d_backward(dinp, dout, *geom)
    np.testing.assert_allclose(dinp, ref.avgpool2d_backward(dout, *geom, (H, W)), rtol=1e-5,
                               atol=1e-6)


def test_odd_sizes_keras():
    x = np.arange(49, dtype=np.float32).reshape(1, 7, 7, 1)
    geom, hw = geometry(7, 7, (2, 2), (2, 2), "same")
    assert hw == (4, 4) and geom[4:] == (0, 0)
    out, _ = c_max(x, geom, hw)
    assert out[0, 3, 3, 0] == 48.0  # last window is the single corner cell
    avg = c_avg(x, geom, hw)
    assert avg[0, 3, 3, 0] == 48.0 and avg[0, 3, 0, 0] == (42 + 43) / 2
    geom, hw = geometry(7, 7, (2, 2), (2, 2), "valid")
    assert hw == (3, 3)


@pytest.mark.parametrize("B,H,W,C,k,s,padding", CASES[2:5])
def test_reference_grads_finite_differences(B, H, W, C, k, s, padding):
    rng = np.random.default_rng(1)
    x = distinct(rng, (B, H, W, C)).astype(np.float64)
    geom, hw = geometry(H, W, k, s, padding)
    out, arg = ref.maxpool2d_forward(x, *geom, out_size=hw)
    dout = rng.standard_normal(out.shape)
    assert_grads_match(lambda x: ref.maxpool2d_forward(x, *geom, out_size=hw)[0], [x], dout,
                       [ref.maxpool2d_backward(dout, arg, *geom, (H, W))])
    assert_grads_match(lambda x: ref.avgpool2d_forward(x, *geom, hw), [x], dout,
                       [ref.avgpool2d_backward(dout, *geom, (H, W))])


def test_threads_bitwise():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 17, 9, 3)).astype(np.float32)
    geom, hw = geometry(17, 9, (3, 3), (2, 2), "same")
    dout = rng.standard_normal((5, *hw, 3)).astype(np.float32)
    results = []
    old = _core.get_num_threads()
    try:
        for t in (1, 2):
            _core.set_num_threads(t)
            out, arg = c_max(x, geom, hw)
            d1 = np.empty_like(x)
            _core.maxpool2d_backward(d1, dout, arg, *geom)
            a = c_avg(x, geom, hw)
            d2 = np.empty_like(x)
            _core.avgpool2d_backward(d2, dout, *geom)
            results.append((out, arg, d1, a, d2))
    finally:
        _core.set_num_threads(old)
    for r1, r2 in zip(*results):
        assert r1.tobytes() == r2.tobytes()


def test_bad_arguments_raise():
    x = np.zeros((2, 5, 5, 3), np.float32)
    out = np.zeros((2, 2, 2, 3), np.float32)
    arg = np.zeros((2, 2, 2, 3), np.int32)
    good = (2, 2, 2, 2, 0, 0)
    _core.maxpool2d_forward(out, arg, x, *good)
    with pytest.raises(TypeError):
        _core.maxpool2d_forward(out, arg, x.astype(np.float64), *good)
    with pytest.raises(TypeError):
        _core.maxpool2d_forward(out, arg.astype(np.int64), x, *good)
    with pytest.raises(ValueError):
        _core.maxpool2d_forward(out, arg, x, 2, 2, 0, 2, 0, 0)  # stride 0
    with pytest.raises(ValueError):
        _core.maxpool2d_forward(out, arg, x, 0, 2, 2, 2, 0, 0)  # pool 0
    with pytest.raises(ValueError):
        _core.maxpool2d_forward(out, arg, x, 2, 2, 2, 2, 2, 0)  # pad >= pool
    with pytest.raises(ValueError):  # output too large for the input
        _core.maxpool2d_forward(np.zeros((2, 4, 2, 3), np.float32), np.zeros((2, 4, 2, 3), np.int32),
                                x, *good)
    with pytest.raises(ValueError):
        _core.avgpool2d_forward(np.zeros((2, 2, 2, 4), np.float32), x, *good)  # channels
    with pytest.raises(ValueError):
        _core.avgpool2d_forward(np.zeros((3, 2, 2, 3), np.float32), x, *good)  # batch
    with pytest.raises(ValueError):
        _core.avgpool2d_forward(x[:, :2, :2], x, *good)  # overlap / non-contiguous
    with pytest.raises(ValueError):
        ro = out.copy()
        ro.flags.writeable = False
        _core.avgpool2d_forward(ro, x, *good)
    with pytest.raises(ValueError):
        _core.avgpool2d_forward(out, x.reshape(2, 5, 15), *good)
    with pytest.raises(ValueError):
        _core.avgpool2d_forward(out, np.zeros((2, 0, 5, 3), np.float32), *good)
    with pytest.raises(ValueError):  # argmax out of range
        _core.maxpool2d_backward(x.copy(), out, np.full(arg.shape, 25, np.int32), *good)
    with pytest.raises(ValueError):
        _core.maxpool2d_backward(x, x, arg, *good)
    with pytest.raises(TypeError):
        _core.avgpool2d_backward([1.0], out, *good)
