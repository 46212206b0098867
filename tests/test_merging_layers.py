"""Merging layers: values, gradients, shape checks."""

import numpy as np
import pytest

from aenn.layers.merging import Add, Average, Concatenate, Multiply, Subtract


def _xs(n, shape=(2, 3, 4), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(n)]


def test_add_subtract_average_multiply():
    a, b, c = _xs(3)
    dout = _xs(1, seed=1)[0]
    y, cache = Add().forward([a, b, c])
    np.testing.assert_allclose(y, a + b + c, rtol=1e-6)
    dxs, _ = Add().backward(dout, cache)
    assert len(dxs) == 3 and all(np.array_equal(d, dout) for d in dxs)
    y, cache = Subtract().forward([a, b])
    np.testing.assert_array_equal(y, a - b)
    da, db = Subtract().backward(dout, cache)[0]
    np.testing.assert_array_equal(db, -dout)
    y, cache = Average().forward([a, b])
    np.testing.assert_allclose(y, (a + b) / 2, rtol=1e-6)
    np.testing.assert_allclose(Average().backward(dout, cache)[0][1], dout / 2, rtol=1e-6)
    y, cache = Multiply().forward([a, b, c])
    np.testing.assert_allclose(y, a * b * c, rtol=1e-6)
    dxs, _ = Multiply().backward(dout, cache)
    np.testing.assert_allclose(dxs[1], dout * a * c, rtol=1e-6)


def test_concatenate():
    a = np.ones((2, 3, 4), np.float32)
    b = np.zeros((2, 3, 2), np.float32)
    layer = Concatenate()
    assert layer.compute_output_shape([(None, 3, 4), (None, 3, 2)]) == (None, 3, 6)
    y, cache = layer.forward([a, b])
    np.testing.assert_array_equal(y, np.concatenate([a, b], axis=-1))
    da, db = layer.backward(y, cache)[0]
    np.testing.assert_array_equal(da, a)
    np.testing.assert_array_equal(db, b)
    c1 = Concatenate(axis=1)
    assert c1.compute_output_shape([(None, 3, 4), (None, 5, 4)]) == (None, 8, 4)
    with pytest.raises(ValueError, match=r"\(None, 3, 4\).*\(None, 2, 2\)"):
        layer.compute_output_shape([(None, 3, 4), (None, 2, 2)])
    with pytest.raises(ValueError, match="axis"):
        Concatenate(axis=0)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"\(None, 3\).*\(None, 4\)"):
        Add().compute_output_shape([(None, 3), (None, 4)])
    with pytest.raises(ValueError, match="exactly 2"):
        Subtract().compute_output_shape([(None, 3)] * 3)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        Multiply().forward([np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)])
    with pytest.raises(ValueError, match="list"):
        Add().compute_output_shape((None, 3))
