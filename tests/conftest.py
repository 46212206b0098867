"""Test helpers for the engine tests.

* `ToyDense`: a tiny NumPy dense layer (linear / relu / tanh / sigmoid / softmax) following the
  Layer contract, so the engine is tested independently of the C layers.
* Minimal stand-ins for aenn.random / losses / optimizers / initializers / regularizers, installed
  ONLY when the real modules (other helpers' branches) are missing. They follow the
  cross-helper APIs, so the same tests run unchanged against the real modules.
"""

from __future__ import annotations

import importlib
import sys
import types

import numpy as np


def _missing(name):
    try:
        importlib.import_module(name)
        return False
    except ImportError:
        return True


def _install(name, module):
    import aenn

    sys.modules[name] = module
    setattr(aenn, name.rsplit(".", 1)[1], module)


# ----- stand-ins ------------------------------------------------------------------------------
if _missing("aenn.random"):
    _rnd = types.ModuleType("aenn.random")
    _rnd._state = {"seed": 1337, "count": 0}

    class SeedGenerator:
        def __init__(self, seed=None):
            if seed is None:
                seed = _rnd._state["seed"] * 1000 + _rnd._state["count"]
                _rnd._state["count"] += 1
            self._rng = np.random.default_rng(seed)

    def set_global_seed(seed):
        _rnd._state["seed"] = int(seed)
        _rnd._state["count"] = 0

    def _rng(seed):
        if isinstance(seed, SeedGenerator):
            return seed._rng
        return SeedGenerator(seed)._rng

    def permutation(n, seed=None):
        return _rng(seed).permutation(n).astype(np.int64)

    def uniform(shape, minval=0.0, maxval=1.0, seed=None):
        return _rng(seed).uniform(minval, maxval, size=shape).astype(np.float32)

    _rnd.SeedGenerator = SeedGenerator
    _rnd.set_global_seed = set_global_seed
    _rnd.permutation = permutation
    _rnd.uniform = uniform
    _install("aenn.random", _rnd)

if _missing("aenn.initializers"):
    m = types.ModuleType("aenn.initializers")

    def get(identifier):
        if callable(identifier):
            return identifier
        if identifier == "zeros":
            return lambda shape: np.zeros(shape, np.float32)
        if identifier == "ones":
            return lambda shape: np.ones(shape, np.float32)
        if identifier == "glorot_uniform":
            import aenn.random as r

            def init(shape):
                limit = np.sqrt(6.0 / (shape[-2] + shape[-1])) if len(shape) >= 2 else 0.05
                return r.uniform(shape, -limit, limit)

            return init
        raise ValueError(f"Unknown initializer: {identifier!r}")

    m.get = get
    _install("aenn.initializers", m)

if _missing("aenn.regularizers"):
    m = types.ModuleType("aenn.regularizers")

    class L2:
        def __init__(self, l2=0.01):
            self.l2 = l2

        def __call__(self, x):
            return float(self.l2 * np.sum(np.square(x, dtype=np.float64)))

        def grad(self, x):
            return (2 * self.l2 * x).astype(np.float32)

    class L1:
        def __init__(self, l1=0.01):
            self.l1 = l1

        def __call__(self, x):
            return float(self.l1 * np.sum(np.abs(x), dtype=np.float64))

        def grad(self, x):
            return (self.l1 * np.sign(x)).astype(np.float32)

    m.L2, m.L1 = L2, L1
    m.get = lambda i: i
    _install("aenn.regularizers", m)

if _missing("aenn.losses"):
    m = types.ModuleType("aenn.losses")

    class Loss:
        name = "loss"

        def supports_logits(self, activation_name):
            return False

        def __call__(self, y_true, y_pred):
            return self.value_and_grad(y_true, y_pred)[0]

    class MeanSquaredError(Loss):
        name = "mean_squared_error"

        def value_and_grad(self, y_true, y_pred, logits=None):
            d = y_pred.astype(np.float64) - y_true
            return float(np.mean(d * d)), (2 * d / d.size).astype(np.float32)

    class BinaryCrossentropy(Loss):
        name = "binary_crossentropy"

        def supports_logits(self, activation_name):
            return activation_name == "sigmoid"

        def value_and_grad(self, y_true, y_pred, logits=None):
            t = y_true.astype(np.float64)
            if logits is not None:
                z = logits.astype(np.float64)
                v = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
                g = (1 / (1 + np.exp(-z)) - t) / z.size
                return float(np.mean(v)), g.astype(np.float32)
            p = np.clip(y_pred.astype(np.float64), 1e-7, 1 - 1e-7)
            v = -(t * np.log(p) + (1 - t) * np.log(1 - p))
            g = (p - t) / (p * (1 - p)) / p.size
            return float(np.mean(v)), g.astype(np.float32)

    def mean_squared_error(y_true, y_pred):
        return np.mean((np.asarray(y_pred) - y_true) ** 2, axis=-1)

    def get(identifier):
        if isinstance(identifier, Loss):
            return identifier
        table = {"mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
                 "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy}
        if identifier in table:
            return table[identifier]()
        raise ValueError(f"Unknown loss: {identifier!r}")

    m.Loss, m.MeanSquaredError, m.BinaryCrossentropy = Loss, MeanSquaredError, BinaryCrossentropy
    m.mean_squared_error = m.mse = mean_squared_error
    m.get = get
    _install("aenn.losses", m)

if _missing("aenn.optimizers"):
    m = types.ModuleType("aenn.optimizers")

    class SGD:
        def __init__(self, learning_rate=0.01):
            self.learning_rate = learning_rate
            self.iterations = 0
            self.variables = []

        def build(self, variables):
            self.variables = [np.zeros((), np.int64), np.zeros((), np.float32)]

        def apply(self, grads, variables):
            for g, v in zip(grads, variables):
                if g is not None:
                    v.value -= np.float32(self.learning_rate) * g
            self.iterations += 1

        def get_config(self):
            return {"learning_rate": self.learning_rate}

    class Adam(SGD):
        def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
            super().__init__(learning_rate)
            self.b1, self.b2, self.eps = beta_1, beta_2, epsilon

        def build(self, variables):
            self.m = [np.zeros_like(v.value) for v in variables]
            self.v = [np.zeros_like(v.value) for v in variables]
            self.variables = [np.zeros((), np.int64), np.zeros((), np.float32)] + self.m + self.v

        def apply(self, grads, variables):
            self.iterations += 1
            t = self.iterations
            lr = self.learning_rate * np.sqrt(1 - self.b2 ** t) / (1 - self.b1 ** t)
            for g, var, mm, vv in zip(grads, variables, self.m, self.v):
                if g is None:
                    continue
                mm += (1 - self.b1) * (g - mm)
                vv += (1 - self.b2) * (g * g - vv)
                var.value -= (lr * mm / (np.sqrt(vv) + self.eps)).astype(np.float32)

    def get(identifier):
        if isinstance(identifier, SGD):
            return identifier
        table = {"sgd": SGD, "adam": Adam, "rmsprop": SGD}
        if identifier in table:
            return table[identifier]()
        raise ValueError(f"Unknown optimizer: {identifier!r}")

    m.SGD, m.Adam, m.get = SGD, Adam, get
    _install("aenn.optimizers", m)


# ----- a tiny NumPy layer ---------------------------------------------------------------------
from aenn.layers.layer import Layer


class _Act:
    def __init__(self, name):
        self.name = name or "linear"

    def forward(self, z):
        if self.name == "relu":
            return np.maximum(z, 0)
        if self.name == "tanh":
            return np.tanh(z)
        if self.name == "sigmoid":
            return 0.5 * (1 + np.tanh(0.5 * z))
        if self.name == "softmax":
            e = np.exp(z - z.max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)
        return z

    def backward(self, dy, z, y):
        if self.name == "relu":
            return dy * (z > 0)
        if self.name == "tanh":
            return dy * (1 - y * y)
        if self.name == "sigmoid":
            return dy * y * (1 - y)
        if self.name == "softmax":
            return y * (dy - np.sum(dy * y, -1, keepdims=True))
        return dy


class ToyDense(Layer):
    """Dense layer in NumPy for the engine tests (kernel, bias; Keras semantics)."""

    def __init__(self, units, activation=None, kernel_regularizer=None, use_bias=True,
                 activity_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.act = _Act(activation)
        self.activation = self.act
        self.kernel_regularizer = kernel_regularizer
        self.use_bias = use_bias
        self.activity_regularizer = activity_regularizer

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), "glorot_uniform",
                                      name="kernel", regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight((self.units,), "zeros", name="bias")
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        z = x @ self.kernel.value
        if self.use_bias:
            z = z + self.bias.value
        z = z.astype(np.float32)
        y = self.act.forward(z).astype(np.float32)
        return y, (x, z, y)

    def logits_of(self, cache):
        return cache[1] if self.act.name in ("sigmoid", "softmax") else None

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        x, z, y = cache
        dz = dout if from_logits else self.act.backward(dout, z, y)
        dz = dz.astype(np.float32)
        grads = [(x.T @ dz).astype(np.float32)]
        if self.use_bias:
            grads.append(dz.sum(0).astype(np.float32))
        dx = (dz @ self.kernel.value.T).astype(np.float32) if need_dinputs else None
        return dx, grads

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=self.act.name if self.act.name != "linear"
                      else None, use_bias=self.use_bias)
        return config


class ToyAdd(Layer):
    """Sums a list of inputs (a merge layer)."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def forward(self, xs, training=False):
        return np.sum(xs, axis=0).astype(np.float32), len(xs)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        return ([dout] * cache if need_dinputs else None), []


class ToyScaleLoss(Layer):
    """Identity layer adding `factor * mean(x**2)` as a layer loss (with its gradient)."""

    def __init__(self, factor=0.1, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def forward(self, x, training=False):
        self.add_loss(self.factor * float(np.mean(x.astype(np.float64) ** 2)))
        return x, x

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        x = cache
        return (dout + 2 * self.factor * x / x.size).astype(np.float32), []

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config
