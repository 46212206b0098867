"""ZeroPadding2D / Cropping2D (three argument forms), ZeroPadding1D / Cropping1D."""

import numpy as np
import pytest

from aenn.layers.reshaping import Cropping1D, Cropping2D, ZeroPadding1D, ZeroPadding2D


@pytest.mark.parametrize("arg,norm", [(1, ((1, 1), (1, 1))), ((1, 2), ((1, 1), (2, 2))),
                                      (((0, 1), (2, 3)), ((0, 1), (2, 3)))])
def test_zero_padding_2d_forms(arg, norm):
    (t, b), (l, r) = norm
    layer = ZeroPadding2D(arg)
    assert layer.compute_output_shape((None, 5, 6, 2)) == (None, 5 + t + b, 6 + l + r, 2)
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 2)).astype(np.float32)
    y, c = layer.forward(x)
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (t, b), (l, r), (0, 0))))
    dx, grads = layer.backward(y, c)
    np.testing.assert_array_equal(dx, x)
    assert grads == []


def test_zero_padding_channels_first():
    layer = ZeroPadding2D(((1, 0), (0, 2)), data_format="channels_first")
    x = np.ones((1, 3, 2, 2), np.float32)
    y, _ = layer.forward(x)
    assert y.shape == (1, 3, 3, 4)
    assert layer.compute_output_shape((None, 3, 2, 2)) == (None, 3, 3, 4)


@pytest.mark.parametrize("arg,norm", [(1, ((1, 1), (1, 1))), ((2, 0), ((2, 2), (0, 0))),
                                      (((0, 1), (2, 3)), ((0, 1), (2, 3)))])
def test_cropping_2d_forms(arg, norm):
    (t, b), (l, r) = norm
    layer = Cropping2D(arg)
    assert layer.compute_output_shape((None, 7, 8, 2)) == (None, 7 - t - b, 8 - l - r, 2)
    x = np.random.default_rng(1).standard_normal((2, 7, 8, 2)).astype(np.float32)
    y, c = layer.forward(x)
    np.testing.assert_array_equal(y, x[:, t:7 - b, l:8 - r, :])
    dx, _ = layer.backward(y, c)
    want = np.zeros_like(x)
    want[:, t:7 - b, l:8 - r, :] = y
    np.testing.assert_array_equal(dx, want)


def test_errors_and_config():
    with pytest.raises(ValueError, match="padding"):
        ZeroPadding2D(-1)
    with pytest.raises(ValueError, match="padding"):
        ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="cropping"):
        Cropping2D(((1, 1), (1,)))
    with pytest.raises(ValueError, match="whole axis"):
        Cropping2D(((2, 2), (0, 0))).compute_output_shape((None, 4, 5, 1))
    with pytest.raises(ValueError, match="rank 4"):
        ZeroPadding2D(1).compute_output_shape((None, 4, 5))
    layer = Cropping2D((1, 2))
    again = Cropping2D.from_config(dict(layer.get_config(), name="c2"))
    assert again.amounts == ((1, 1), (2, 2))


def test_1d_layers():
    x = np.random.default_rng(2).standard_normal((2, 6, 3)).astype(np.float32)
    p = ZeroPadding1D((1, 2))
    y, c = p.forward(x)
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (1, 2), (0, 0))))
    np.testing.assert_array_equal(p.backward(y, c)[0], x)
    cr = Cropping1D(2)
    assert cr.compute_output_shape((None, 6, 3)) == (None, 2, 3)
    y, c = cr.forward(x)
    np.testing.assert_array_equal(y, x[:, 2:4])
