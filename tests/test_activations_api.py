"""aenn.activations: lookup, Keras definitions, forward/backward, errors."""

import numpy as np
import pytest

from aenn import activations
from aenn.reference import activation as ref

NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu", "softplus",
         "softsign", "hard_sigmoid", "gelu", "swish", "silu", "exponential", "relu6"]


@pytest.mark.parametrize("name", NAMES)
def test_get_by_name(name):
    act = activations.get(name)
    assert isinstance(act, activations.Activation)
    assert act.name == ("silu" if name == "swish" else name)
    assert activations.serialize(act) == act.name
    assert activations.get(act) is act
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    y = act.forward(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    dx = act.backward(np.ones_like(x), x, y)
    assert dx.shape == x.shape and np.isfinite(dx).all()


def test_none_and_linear():
    assert activations.get(None).name == "linear"
    assert activations.get(None).is_linear
    assert not activations.get("relu").is_linear


def test_keras_definitions():
    x = np.array([-4.0, -3.0, -1.0, 0.0, 1.5, 3.0, 7.0], np.float32)
    np.testing.assert_allclose(activations.get("leaky_relu").forward(x),
                               np.where(x >= 0, x, 0.2 * x), rtol=1e-6)  # slope 0.2
    np.testing.assert_allclose(activations.get("hard_sigmoid").forward(x),
                               np.clip(x / 6 + 0.5, 0, 1), rtol=1e-6)  # Keras 3 form
    np.testing.assert_allclose(activations.get("relu6").forward(x), np.clip(x, 0, 6))
    np.testing.assert_allclose(activations.get("selu").forward(np.array([1.0, -1.0], np.float32)),
                               [1.0507009873554805, 1.0507009873554805 * 1.6732632423543772 *
                                (np.exp(-1) - 1)], rtol=1e-6)
    np.testing.assert_allclose(activations.get("gelu").forward(np.array([1.0], np.float32)),
                               [0.8413447460685429], rtol=1e-6)
    s = activations.get("softmax").forward(np.array([[1.0, 2.0, 3.0]], np.float32))
    np.testing.assert_allclose(s.sum(), 1.0, rtol=1e-6)


def test_functional_forms():
    x = np.array([-2.0, -0.5, 0.5, 8.0], np.float32)
    np.testing.assert_array_equal(activations.relu(x), [0, 0, 0.5, 8])
    np.testing.assert_allclose(activations.relu(x, max_value=6.0), [0, 0, 0.5, 6])
    np.testing.assert_allclose(activations.relu(x, negative_slope=0.1, threshold=0.5),
                               [-0.25, -0.1, 0, 8], rtol=1e-6)
    np.testing.assert_allclose(activations.leaky_relu(x, negative_slope=0.5), [-1, -0.25, 0.5, 8])
    np.testing.assert_allclose(activations.elu(x, alpha=2.0)[0], 2 * np.expm1(-2.0), rtol=1e-6)
    np.testing.assert_allclose(activations.sigmoid(x), 1 / (1 + np.exp(-x.astype(np.float64))),
                               rtol=1e-6)
    assert activations.get(activations.relu).name == "relu"
    assert activations.get(activations.softmax).name == "softmax"
    with pytest.raises(ValueError, match="axis"):
        activations.softmax(np.ones((2, 3)), axis=0)


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_reference(name):
    act = activations.get(name)
    x = np.random.default_rng(0).uniform(-4, 4, (5, 7)).astype(np.float32)
    dy = np.random.default_rng(1).normal(size=x.shape).astype(np.float32)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    if act.name == "softmax":
        expected = ref.softmax_backward(dy64, ref.softmax_forward(x64))
    else:
        expected = ref.activation_backward(dy64, x64, None, ref.KINDS[act.name], act.alpha)
    np.testing.assert_allclose(act.backward(dy, x, act.forward(x)), expected, rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(act.backward(dy, x), expected, rtol=1e-5, atol=2e-6)  # y recomputed


def test_inputs_not_modified_and_float64_accepted():
    x = np.array([[-1.0, 2.0]])
    y = activations.get("relu").forward(x)
    assert y.dtype == np.float32 and x[0, 0] == -1.0
    x32 = np.array([[-1.0, 2.0]], np.float32)
    activations.get("sigmoid").backward(np.ones_like(x32), x32)
    assert x32[0, 0] == -1.0


def test_errors():
    with pytest.raises(ValueError, match="Unknown activation: 'foo'"):
        activations.get("foo")
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(lambda x: x)
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(3)
    with pytest.raises(ValueError, match="non-empty"):
        activations.get("relu").forward(np.zeros((0, 3), np.float32))
    act = activations.get("tanh")
    with pytest.raises(ValueError, match="shape"):
        act.backward(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="approximate"):
        activations.gelu(np.ones(3), approximate=True)


def test_custom_subclass_passes_through():
    class Square(activations.Activation):
        def __init__(self):
            super().__init__("linear")
            self.name = "square"

        def forward(self, x):
            return np.square(np.asarray(x, np.float32))

        def backward(self, dy, x, y=None):
            return 2 * np.asarray(x, np.float32) * dy

    sq = Square()
    assert activations.get(sq) is sq
    np.testing.assert_array_equal(sq.forward(np.array([3.0])), [9.0])
