"""Pooling and upsampling layers: shapes, values, gradients, configs, errors."""

import numpy as np
import pytest

from aenn.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from aenn.layers.upsampling import UpSampling1D, UpSampling2D
from aenn.reference import pool as ref


def run(layer, x, dout=None):
    layer.build((None,) + x.shape[1:])
    y, cache = layer.forward(x, training=True)
    assert y.shape == tuple(d if d is not None else x.shape[0]
                            for d in layer.compute_output_shape((x.shape[0],) + x.shape[1:]))
    if dout is None:
        dout = np.random.default_rng(5).standard_normal(y.shape).astype(np.float32)
    dx, grads = layer.backward(dout, cache)
    assert dx.shape == x.shape and grads == []
    return y, dx


def test_blog_chain_28_14_7_4():
    x = np.random.default_rng(0).standard_normal((2, 28, 28, 3)).astype(np.float32)
    shapes = []
    for _ in range(3):
        x, _ = run(MaxPooling2D((2, 2), padding="same"), x)
        shapes.append(x.shape[1:3])
    assert shapes == [(14, 14), (7, 7), (4, 4)]
    assert MaxPooling2D().compute_output_shape((None, 7, 7, 3)) == (None, 3, 3, 3)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, 3])
def test_2d_matches_reference(cls, padding, strides):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 7, 5, 2)).astype(np.float32)
    layer = cls(pool_size=(3, 2), strides=strides, padding=padding)
    y, _dx = run(layer, x)
    assert y.shape[1] == (-(-7 // strides) if padding == "same" else (7 - 3) // strides + 1)
    if cls is MaxPooling2D:
        r, _ = ref.maxpool2d_forward(x, 3, 2, strides, strides,
                                     *(_pads(7, 5, 3, 2, strides, padding)), y.shape[1:3])
    else:
        r = ref.avgpool2d_forward(x, 3, 2, strides, strides,
                                  *(_pads(7, 5, 3, 2, strides, padding)), y.shape[1:3])
    np.testing.assert_allclose(y, r, rtol=1e-6)


def _pads(H, W, kh, kw, s, padding):
    from aenn.layers import shapes
    return (shapes.conv_padding(H, kh, s, padding)[0], shapes.conv_padding(W, kw, s, padding)[0])


def test_1d_layers():
    x = np.arange(14, dtype=np.float32).reshape(1, 7, 2)
    y, dx = run(MaxPooling1D(padding="same"), x, np.ones((1, 4, 2), np.float32))
    np.testing.assert_array_equal(y[0, :, 0], [2, 6, 10, 12])
    np.testing.assert_array_equal(dx[0, :, 0], [0, 1, 0, 1, 0, 1, 1])
    y, dx = run(AveragePooling1D(pool_size=2), x, np.ones((1, 3, 2), np.float32))
    np.testing.assert_array_equal(y[0, :, 1], [2, 6, 10])
    np.testing.assert_array_equal(dx[0, :, 1], [.5, .5, .5, .5, .5, .5, 0])
    assert MaxPooling1D(3, padding="same").compute_output_shape((None, 7, 4)) == (None, 3, 4)


def test_global_pooling():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5, 4, 6)).astype(np.float32)
    y, dx = run(GlobalAveragePooling2D(), x)
    np.testing.assert_allclose(y, x.mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    y, _ = run(GlobalMaxPooling2D(keepdims=True), x)
    np.testing.assert_array_equal(y, x.max(axis=(1, 2), keepdims=True))
    x1 = x.reshape(3, 20, 6)
    y, dx = run(GlobalAveragePooling1D(), x1, np.ones((3, 6), np.float32))
    np.testing.assert_allclose(dx, np.full(x1.shape, 1 / 20), rtol=1e-6)
    y, _ = run(GlobalMaxPooling1D(), x1)
    np.testing.assert_array_equal(y, x1.max(axis=1))


def test_errors_and_config():
    with pytest.raises(ValueError, match="strides"):
        MaxPooling2D(strides=0)
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling2D(pool_size=(2, -1))
    with pytest.raises(ValueError, match="padding"):
        MaxPooling2D(padding="causal")
    with pytest.raises(ValueError, match="data_format"):
        MaxPooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="larger than the input"):
        MaxPooling2D((5, 5)).build((None, 4, 4, 1))
    with pytest.raises(ValueError, match="rank 4"):
        MaxPooling2D().build((None, 4, 1))
    layer = MaxPool2D((3, 3), strides=2, padding="same", name="mp")
    cfg = layer.get_config()
    assert cfg["pool_size"] == (3, 3) and cfg["strides"] == (2, 2) and cfg["padding"] == "same"
    clone = MaxPooling2D.from_config(cfg)
    assert clone.pool_size == (3, 3) and clone.name == "mp"
    assert MaxPooling1D.from_config(MaxPooling1D(3).get_config()).pool_size == (3,)


def test_upsampling():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    y, dx = run(UpSampling2D(), x, np.ones((2, 6, 8, 2), np.float32))
    np.testing.assert_array_equal(y, x.repeat(2, 1).repeat(2, 2))
    np.testing.assert_array_equal(dx, np.full(x.shape, 4.0))
    y, dx = run(UpSampling2D((1, 2), interpolation="bilinear"), x[:, :1, :3],
                np.ones((2, 1, 6, 2), np.float32))
    row = x[0, 0, :3, 0]
    np.testing.assert_allclose(y[0, 0, :, 0], [row[0], .75 * row[0] + .25 * row[1],
                                               .25 * row[0] + .75 * row[1],
                                               .75 * row[1] + .25 * row[2],
                                               .25 * row[1] + .75 * row[2], row[2]], rtol=1e-5)
    np.testing.assert_allclose(dx.sum(), 24.0, rtol=1e-6)  # weights sum to 1
    x1 = rng.standard_normal((2, 5, 3)).astype(np.float32)
    y, dx = run(UpSampling1D(3), x1, np.ones((2, 15, 3), np.float32))
    np.testing.assert_array_equal(y, x1.repeat(3, 1))
    np.testing.assert_array_equal(dx, np.full(x1.shape, 3.0))
    assert UpSampling2D((2, 3)).compute_output_shape((None, 7, None, 4)) == (None, 14, None, 4)
    with pytest.raises(ValueError, match="interpolation"):
        UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match="size"):
        UpSampling1D(0)
    assert UpSampling2D.from_config(UpSampling2D((2, 3), interpolation="bilinear").get_config()
                                    ).interpolation == "bilinear"
    assert UpSampling1D.from_config(UpSampling1D(4).get_config()).size == (4,)
