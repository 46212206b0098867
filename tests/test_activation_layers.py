"""Activation layers: forward/backward, logits_of/from_logits, config round-trip, errors."""

import numpy as np
import pytest

from aenn import activations
from aenn.layers.activation import ELU, Activation, Identity, LeakyReLU, ReLU, Softmax
from tests.gradcheck import assert_grads_match


def x_and_dy(shape=(3, 7), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4, 4, shape).astype(np.float32)
    x[np.abs(x) < 1e-2] = 0.5
    return x, rng.normal(size=shape).astype(np.float32)


def numeric_check(layer, x, dy):
    """The layer's float32 backward vs central differences of its float32 forward (loose)."""
    dx, grads = layer.backward(dy, layer.forward(x)[1])
    assert grads == []
    x64 = x.astype(np.float64)
    assert_grads_match(lambda v: layer.forward(v.astype(np.float32))[0].astype(np.float64), [x64],
                       dy.astype(np.float64), [dx], rtol=2e-2, atol=2e-3, eps=1e-2)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "elu", "gelu", None])
def test_activation_layer(name):
    layer = Activation(name)
    x, dy = x_and_dy()
    x_copy = x.copy()
    y, cache = layer.forward(x)
    np.testing.assert_array_equal(y, activations.get(name).forward(x))
    np.testing.assert_array_equal(x, x_copy)
    assert layer.compute_output_shape((None, 7)) == (None, 7)
    numeric_check(layer, x, dy)
    assert layer.backward(dy, cache, need_dinputs=False) == (None, [])
    config = layer.get_config()
    assert config["activation"] == activations.get(name).name
    clone = Activation.from_config(config)
    np.testing.assert_array_equal(clone.forward(x)[0], y)


@pytest.mark.parametrize("name", ["sigmoid", "softmax"])
def test_logits(name):
    layer = Activation(name)
    x, dy = x_and_dy()
    _, cache = layer.forward(x)
    np.testing.assert_array_equal(layer.logits_of(cache), x)
    dx, _ = layer.backward(dy, cache, from_logits=True)
    np.testing.assert_array_equal(dx, dy)  # dout is already wrt the pre-activation
    assert Activation("relu").logits_of(Activation("relu").forward(x)[1]) is None
    sm = Softmax()
    np.testing.assert_array_equal(sm.logits_of(sm.forward(x)[1]), x)


def test_relu_layer():
    layer = ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5)
    assert layer.name.startswith("re_lu")
    x = np.array([[-2.0, 0.5, 1.0, 7.0]], np.float32)
    y, cache = layer.forward(x)
    np.testing.assert_allclose(y, [[-0.25, 0.0, 1.0, 6.0]], rtol=1e-6)
    dx, _ = layer.backward(np.ones_like(x), cache)
    np.testing.assert_allclose(dx, [[0.1, 0.0, 1.0, 0.0]], rtol=1e-6)
    x, dy = x_and_dy(seed=3)
    x[np.abs(x - 0.5) < 2e-2] = 1.0
    x[np.abs(x - 6.0) < 2e-2] = 1.0
    numeric_check(layer, x, dy)
    clone = ReLU.from_config(layer.get_config())
    assert (clone.max_value, clone.negative_slope, clone.threshold) == (6.0, 0.1, 0.5)
    np.testing.assert_array_equal(ReLU().forward(x)[0], np.maximum(x, 0))


@pytest.mark.parametrize("kwargs,arg", [({"max_value": -1.0}, "max_value"),
                                        ({"negative_slope": -0.1}, "negative_slope"),
                                        ({"threshold": -1}, "threshold"),
                                        ({"negative_slope": None}, "negative_slope"),
                                        ({"threshold": float("nan")}, "threshold")])
def test_relu_layer_rejects_bad_arguments(kwargs, arg):
    with pytest.raises(ValueError, match=f"ReLU.*`{arg}`"):
        ReLU(**kwargs)


def test_leaky_relu_layer():
    layer = LeakyReLU()
    assert layer.negative_slope == 0.3 and layer.name.startswith("leaky_re_lu")
    x = np.array([[-1.0, 2.0]], np.float32)
    np.testing.assert_allclose(layer.forward(x)[0], [[-0.3, 2.0]], rtol=1e-6)
    with pytest.warns(UserWarning, match="alpha"):
        old = LeakyReLU(alpha=0.1)
    np.testing.assert_allclose(old.forward(x)[0], [[-0.1, 2.0]], rtol=1e-6)
    assert LeakyReLU.from_config(old.get_config()).negative_slope == 0.1
    numeric_check(LeakyReLU(0.2), *x_and_dy(seed=4))
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyReLU(-1.0)


def test_elu_layer():
    layer = ELU(alpha=0.5)
    x = np.array([[-1.0, 2.0]], np.float32)
    np.testing.assert_allclose(layer.forward(x)[0], [[0.5 * np.expm1(-1.0), 2.0]], rtol=1e-6)
    numeric_check(layer, *x_and_dy(seed=5))
    assert ELU.from_config(layer.get_config()).alpha == 0.5


def test_softmax_layer():
    layer = Softmax()
    x, dy = x_and_dy((2, 3, 5), seed=6)
    y, _ = layer.forward(x)
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)
    numeric_check(layer, x, dy)
    assert Softmax.from_config(layer.get_config()).axis == -1
    with pytest.raises(ValueError, match="axis"):
        Softmax(axis=1)


def test_identity_layer():
    layer = Identity()
    x, dy = x_and_dy()
    y, cache = layer.forward(x)
    np.testing.assert_array_equal(y, x)
    assert y is not x
    dx, grads = layer.backward(dy, cache)
    np.testing.assert_array_equal(dx, dy)
    assert grads == []


def test_unknown_activation_names_the_layer():
    with pytest.raises(ValueError, match="Activation 'act_x'.*Unknown activation: 'foo'"):
        Activation("foo", name="act_x")


def test_layers_have_no_weights():
    for layer in (Activation("relu"), ReLU(), LeakyReLU(), ELU(), Softmax(), Identity()):
        layer.build((None, 3))
        assert layer.weights == [] and layer.count_params() == 0
