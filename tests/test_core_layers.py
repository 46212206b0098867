"""Dense and the shape-only core layers: shapes, parameter counts, values, gradients, configs."""


import numpy as np
import pytest

from aenn.layers.core import Dense, Flatten, Identity, Permute, RepeatVector, Reshape
from aenn.reference import dense as ref


def _build(layer, shape):
    layer.build(shape)
    return layer


def test_dense_param_counts():
    sizes = [(784, 64), (64, 64), (64, 10)]
    assert sum(_build(Dense(o), (None, i)).count_params() for i, o in sizes) == 55_050
    sizes = [(784, 500), (500, 300), (300, 10)]
    assert sum(_build(Dense(o), (None, i)).count_params() for i, o in sizes) == 545_810
    assert _build(Dense(5, use_bias=False), (None, 3)).count_params() == 15


def test_dense_shapes_and_weights():
    d = Dense(7)
    assert d.compute_output_shape((None, 4, 3)) == (None, 4, 7)
    d.build((None, 3))
    assert [w.name for w in d.weights] == ["kernel", "bias"]
    assert d.kernel.shape == (3, 7) and d.bias.shape == (7,)
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    y, _ = d.forward(x)
    assert y.shape == (2, 4, 7)


@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_forward_backward_vs_reference(use_bias):
    rng = np.random.default_rng(1)
    d = _build(Dense(5, use_bias=use_bias), (None, 3))
    if use_bias:
        d.bias.assign(rng.standard_normal(5))
    x = rng.standard_normal((7, 3)).astype(np.float32)
    y, cache = d.forward(x)
    b = d.bias.value if use_bias else None
    np.testing.assert_allclose(y, ref.dense_forward(x, d.kernel.value, b), rtol=1e-5, atol=1e-6)
    dout = rng.standard_normal((7, 5)).astype(np.float32)
    dx, grads = d.backward(dout, cache)
    rdx, rdw, rdb = ref.dense_backward(dout, x, d.kernel.value)
    np.testing.assert_allclose(dx, rdx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads[0], rdw, rtol=1e-5, atol=1e-6)
    assert len(grads) == len(d.weights)
    if use_bias:
        np.testing.assert_allclose(grads[1], rdb, rtol=1e-5, atol=1e-6)
    dx, _ = d.backward(dout, cache, need_dinputs=False)
    assert dx is None


def test_dense_activation_and_logits():
    rng = np.random.default_rng(2)
    d = _build(Dense(4, activation="sigmoid"), (None, 3))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y, cache = d.forward(x)
    z = x @ d.kernel.value + d.bias.value
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-z)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d.logits_of(cache), z, rtol=1e-5, atol=1e-6)
    dout = rng.standard_normal((5, 4)).astype(np.float32)
    dx, grads = d.backward(dout, cache)
    dz = dout * y * (1 - y)
    np.testing.assert_allclose(dx, dz @ d.kernel.value.T, rtol=1e-4, atol=1e-6)
    dx2, grads2 = d.backward(dout, cache, from_logits=True)  # dout is then wrt z
    np.testing.assert_allclose(dx2, dout @ d.kernel.value.T, rtol=1e-5, atol=1e-6)
    assert _build(Dense(4, activation="relu"), (None, 3)).logits_of(cache) is None


def test_dense_errors_and_config():
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="activation"):
        Dense(3, activation="nope")
    d = _build(Dense(3, activation="relu", name="dd"), (None, 4))
    with pytest.raises(ValueError, match=r"\(2, 5\)"):
        d.forward(np.ones((2, 5), np.float32))
    cfg = d.get_config()
    assert cfg["units"] == 3 and cfg["activation"] == "relu" and cfg["use_bias"] is True
    d2 = Dense.from_config(dict(cfg, name="dd2"))
    assert d2.units == 3 and d2.activation.name == "relu"


def test_flatten_reshape_identity():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    f = Flatten()
    assert f.compute_output_shape((None, 3, 4, 5)) == (None, 60)
    assert f.compute_output_shape((None,)) == (None, 1)
    y, c = f.forward(x)
    np.testing.assert_array_equal(y, x.reshape(2, -1))
    np.testing.assert_array_equal(f.backward(y, c)[0], x)
    y1, _ = Flatten().forward(np.arange(3, dtype=np.float32))
    assert y1.shape == (3, 1)
    fc = Flatten(data_format="channels_first")
    yc, cc = fc.forward(x)
    np.testing.assert_array_equal(yc, np.moveaxis(x, 1, -1).reshape(2, -1))
    np.testing.assert_array_equal(fc.backward(yc, cc)[0], x)

    r = Reshape((4, -1))
    assert r.compute_output_shape((None, 3, 4, 5)) == (None, 4, 15)
    y, c = r.forward(x)
    assert y.shape == (2, 4, 15)
    np.testing.assert_array_equal(r.backward(y, c)[0], x)
    with pytest.raises(ValueError, match=r"\(None, 3, 4, 5\).*\(7, 9\)"):
        Reshape((7, 9), name="rr").compute_output_shape((None, 3, 4, 5))
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((-1, -1))

    i = Identity()
    y, c = i.forward(x)
    np.testing.assert_array_equal(y, x)


def test_repeat_vector_and_permute():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    rv = RepeatVector(4)
    assert rv.compute_output_shape((None, 3)) == (None, 4, 3)
    y, c = rv.forward(x)
    np.testing.assert_array_equal(y, np.repeat(x[:, None], 4, axis=1))
    dout = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(rv.backward(dout, c)[0], dout.sum(axis=1), rtol=1e-6)

    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    p = Permute((3, 1, 2))
    assert p.compute_output_shape((None, 3, 4, 5)) == (None, 5, 3, 4)
    y, c = p.forward(x)
    np.testing.assert_array_equal(y, x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(p.backward(y, c)[0], x)
    with pytest.raises(ValueError, match="dims"):
        Permute((1, 1))
    assert Permute.from_config(p.get_config()).dims == (3, 1, 2)
