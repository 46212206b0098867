"""aenn.ops: eager values, symbolic shapes, and every op's backward against finite differences."""

import numpy as np
import pytest

import aenn
from aenn import ops
from aenn.ops import _OpLayer
from tests.gradcheck import assert_grads_match

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seeded():
    aenn.random.set_global_seed(0)  # reproducible initial weights


def _fd_check(layer, inputs, positive=False):
    """Runs `layer` forward/backward in float64 and compares with central differences."""
    inputs = [np.abs(x) + 0.5 if positive else x for x in inputs]
    single = len(inputs) == 1

    def fn(*xs):
        return layer.forward(xs[0] if single else list(xs))[0]

    y, cache = layer.forward(inputs[0] if single else list(inputs))
    dout = RNG.standard_normal(np.shape(y))
    dx, wg = layer.backward(dout, cache)
    assert wg == []
    grads = [dx] if single else dx
    for g, x in zip(grads, inputs):
        assert np.shape(g) == x.shape
    assert_grads_match(fn, inputs, dout, grads, rtol=1e-6, atol=1e-8)


UNARY_CASES = [
    ("negative", {}, False), ("square", {}, False), ("sqrt", {}, True), ("exp", {}, False),
    ("log", {}, True), ("abs", {}, False),
    ("sum", {"axis": None, "keepdims": False}, False),
    ("sum", {"axis": -1, "keepdims": False}, False),
    ("sum", {"axis": (0, 2), "keepdims": True}, False),
    ("mean", {"axis": None, "keepdims": False}, False),
    ("mean", {"axis": 1, "keepdims": False}, False),
    ("mean", {"axis": -1, "keepdims": True}, False),
    ("clip", {"x_min": -0.3, "x_max": 0.4}, False),
    ("reshape", {"shape": (4, -1)}, False),
]


@pytest.mark.parametrize("op,params,positive", UNARY_CASES)
def test_unary_backward_matches_finite_differences(op, params, positive):
    x = RNG.standard_normal((4, 3, 5))
    if op == "abs":
        x[np.abs(x) < 1e-3] = 0.1  # keep away from the kink
    if op == "clip":
        x[np.abs(x + 0.3) < 1e-3] = 0.0
        x[np.abs(x - 0.4) < 1e-3] = 0.0
    _fd_check(_OpLayer(op, params=dict(params)), [x], positive)


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide", "maximum", "minimum",
                                "power"])
@pytest.mark.parametrize("shapes", [((4, 3), (4, 3)), ((4, 3), (3,)), ((4, 1), (1, 3))])
def test_binary_backward_matches_finite_differences_with_broadcasting(op, shapes):
    a = RNG.standard_normal(shapes[0])
    b = RNG.standard_normal(shapes[1])
    if op in ("divide", "power"):
        b = np.abs(b) + 0.5
    if op == "power":
        a = np.abs(a) + 0.5
    _fd_check(_OpLayer(op), [a, b])


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide", "maximum", "power"])
@pytest.mark.parametrize("const_index", [0, 1])
def test_binary_with_a_constant_backward(op, const_index):
    x = np.abs(RNG.standard_normal((3, 4))) + 0.5
    const = 1.7 if op != "power" else 2.0
    if op == "power" and const_index == 0:
        const = 1.7
    _fd_check(_OpLayer(op, const=const, const_index=const_index), [x])


def test_eager_values_match_numpy():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    y = RNG.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(ops.add(x, y), x + y, rtol=1e-6)
    np.testing.assert_allclose(ops.subtract(1.0, x), 1 - x, rtol=1e-6)
    np.testing.assert_allclose(ops.multiply(x, 3), 3 * x, rtol=1e-6)
    np.testing.assert_allclose(ops.divide(x, 2.0), x / 2, rtol=1e-6)
    np.testing.assert_allclose(ops.square(x), x * x, rtol=1e-6)
    np.testing.assert_allclose(ops.exp(x), np.exp(x), rtol=1e-6)
    np.testing.assert_allclose(ops.log(np.abs(x) + 1), np.log(np.abs(x) + 1), rtol=1e-6)
    np.testing.assert_allclose(ops.sqrt(np.abs(x)), np.sqrt(np.abs(x)), rtol=1e-6)
    np.testing.assert_allclose(ops.abs(x), np.abs(x))
    np.testing.assert_allclose(ops.negative(x), -x)
    np.testing.assert_allclose(ops.sum(x, axis=-1), x.sum(-1), rtol=1e-5)
    np.testing.assert_allclose(ops.mean(x), x.mean(), rtol=1e-5)
    assert ops.mean(x).shape == ()
    np.testing.assert_allclose(ops.maximum(x, 0.0), np.maximum(x, 0))
    np.testing.assert_allclose(ops.minimum(x, y), np.minimum(x, y))
    np.testing.assert_allclose(ops.clip(x, -0.5, 0.5), np.clip(x, -0.5, 0.5))
    assert ops.reshape(x, (-1,)).shape == (12,)
    assert ops.square(x).dtype == np.float32


def test_symbolic_shapes():
    x = aenn.Input((5,))
    assert ops.sum(x, axis=-1).shape == (None,)
    assert ops.sum(x).shape == ()
    assert ops.mean(x, axis=0).shape == (5,)
    assert ops.mean(x, axis=-1, keepdims=True).shape == (None, 1)
    assert (x * 2).shape == (None, 5)
    assert (1 - x).shape == (None, 5)
    assert (x / x).shape == (None, 5)
    assert (x ** 2).shape == (None, 5)
    assert (-x).shape == (None, 5)
    assert (np.float32(2.0) * x).shape == (None, 5)
    assert ops.reshape(x, (-1, 5, 1)).shape == (None, 5, 1)
    assert (x + np.ones((5,), np.float32)).shape == (None, 5)
    with pytest.raises(ValueError, match="broadcast"):
        x + np.ones((4,), np.float32)
    with pytest.raises(ValueError, match="axis"):
        ops.sum(x, axis=2)


def test_symbolic_graph_equals_eager_and_is_differentiable_in_a_model():
    x = aenn.Input((4,))
    h = aenn.layers.Dense(3, activation="tanh")(x)
    out = ops.sum(1.0 + h - ops.square(h) - ops.exp(0.5 * h), axis=-1, keepdims=True) / 3.0
    model = aenn.Model(x, out)
    xs = RNG.standard_normal((6, 4)).astype(np.float32)
    hv = model.layers[1](xs)
    expected = np.sum(1.0 + hv - hv * hv - np.exp(0.5 * hv), axis=-1, keepdims=True) / 3.0
    np.testing.assert_allclose(model.predict(xs, verbose=0), expected, rtol=1e-5, atol=1e-6)
    # Weight gradients through the op nodes match finite differences (float64 on the weights).
    y, cache = model.forward(xs)
    dout = RNG.standard_normal(y.shape).astype(np.float32)
    _, wg = model.backward(dout, cache, need_dinputs=False)
    kernel = model.layers[1].kernel
    k0 = kernel.numpy().copy()
    eps = 1e-3
    for idx in [(0, 0), (1, 2), (3, 1)]:
        vals = []
        for s in (1, -1):
            k = k0.copy()
            k[idx] += s * eps
            kernel.assign(k)
            vals.append(float(np.sum(model.forward(xs)[0].astype(np.float64) * dout)))
        kernel.assign(k0)
        num = (vals[0] - vals[1]) / (2 * eps)
        assert abs(num - wg[0][idx]) <= 2e-3 * max(1.0, abs(num)), (idx, num, wg[0][idx])


def test_backend_aliases():
    from aenn import backend as K

    x = np.array([[1.0, -2.0]], np.float32)
    np.testing.assert_allclose(K.square(x), [[1.0, 4.0]])
    np.testing.assert_allclose(K.sum(x, axis=-1), [-1.0])
    np.testing.assert_allclose(K.mean(x), -0.5)
    np.testing.assert_allclose(K.abs(x), [[1.0, 2.0]])
    np.testing.assert_allclose(K.exp(x), np.exp(x), rtol=1e-6)
    np.testing.assert_allclose(K.log(np.abs(x)), np.log(np.abs(x)), rtol=1e-6)
    assert K.square(aenn.Input((2,))).shape == (None, 2)
    with pytest.raises(AttributeError):
        K.no_such_function


def test_bad_operands_give_clear_errors():
    x = aenn.Input((3,))
    with pytest.raises(TypeError, match="ops"):
        x + "a"
    with pytest.raises(ValueError, match="x_min"):
        ops.clip(x, 1.0, 0.0)
    with pytest.raises(ValueError, match="reshape"):
        ops.reshape(np.ones((2, 3)), (4, 2))


def test_op_model_config_round_trip():
    x = aenn.Input((3,))
    y = ops.sum(ops.square(aenn.layers.Dense(2)(x) - 1.0), axis=-1)
    model = aenn.Model(x, y)
    clone = aenn.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    xs = RNG.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(clone.predict(xs, verbose=0), model.predict(xs, verbose=0))


# ----- custom layers written with call() ------------------------------------------------------
class _Residual(aenn.layers.Layer):
    """A Keras-3 style custom layer: call() from sub-layers and ops, no forward/backward."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.d1 = aenn.layers.Dense(units, activation="tanh")
        self.d2 = aenn.layers.Dense(units)

    def call(self, x):
        h = self.d1(x)
        return x + 0.5 * self.d2(h) - ops.square(h) / 4.0


class _KLEncoder(aenn.layers.Layer):
    """Adds a KL-like penalty with self.add_loss inside call (Keras-3 custom-layer style)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mean = aenn.layers.Dense(2)
        self.log_var = aenn.layers.Dense(2)

    def call(self, x):
        zm, zv = self.mean(x), self.log_var(x)
        kl = -0.5 * ops.sum(1 + zv - ops.square(zm) - ops.exp(zv), axis=-1)
        self.add_loss(ops.mean(kl))
        return zm


def test_custom_call_layer_matches_the_same_functional_graph():
    layer = _Residual(4)
    x_in = aenn.Input((4,))
    m = aenn.Model(x_in, aenn.layers.Dense(4)(layer(x_in)))
    assert len(layer.weights) == 4 and m.count_params() == 3 * 20
    # the same computation written functionally with the same layers
    h = layer.d1(x_in)
    ref = aenn.Model(x_in, m.layers[-1](x_in + 0.5 * layer.d2(h) - ops.square(h) / 4.0))
    xs = RNG.standard_normal((10, 4)).astype(np.float32)
    np.testing.assert_allclose(m.predict(xs, verbose=0), ref.predict(xs, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(layer(xs), xs + 0.5 * layer.d2(layer.d1(xs))
                               - layer.d1(xs) ** 2 / 4.0, rtol=1e-5, atol=1e-6)
    for model in (m, ref):
        model.compile(optimizer="sgd", loss="mse")
    _, _, gm, vm = m._compute_gradients(m._prepare_x(xs), xs)
    _, _, gr, vr = ref._compute_gradients(ref._prepare_x(xs), xs)
    by_id = {id(v): g for v, g in zip(vr, gr)}
    assert {id(v) for v in vm} == set(by_id)
    for v, g in zip(vm, gm):
        np.testing.assert_allclose(g, by_id[id(v)], rtol=1e-5, atol=1e-7)
    before = m.evaluate(xs, xs, verbose=0)
    m.fit(xs, xs, epochs=20, batch_size=10, verbose=0)
    assert m.evaluate(xs, xs, verbose=0) < before
    layer.trainable = False
    assert not layer.d1.trainable and m.count_params() == 60


def test_custom_call_layer_add_loss_trains():
    enc = _KLEncoder()
    x_in = aenn.Input((3,))
    m = aenn.Model(x_in, enc(x_in))
    m.compile(optimizer=aenn.optimizers.SGD(learning_rate=0.0), loss=None)
    xs = RNG.standard_normal((8, 3)).astype(np.float32)
    wm, bm = enc.mean.get_weights()
    wv, bv = enc.log_var.get_weights()
    zm, zv = xs @ wm + bm, xs @ wv + bv
    kl = float(np.mean(-0.5 * np.sum(1 + zv - zm ** 2 - np.exp(zv), axis=-1)))
    assert m.evaluate(xs, verbose=0) == pytest.approx(kl, rel=1e-5)
    m.compile(optimizer=aenn.optimizers.Adam(learning_rate=0.05), loss=None)
    m.fit(xs, epochs=10, batch_size=8, verbose=0)
    assert m.evaluate(xs, verbose=0) < 0.5 * kl


def test_weights_used_directly_in_ops_raise():
    class Bad(aenn.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.w

    with pytest.raises(NotImplementedError, match="weight"):
        Bad()(aenn.Input((3,)))
