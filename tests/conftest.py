"""Test helpers for the engine tests.

* `ToyDense`: a tiny NumPy dense layer (linear / relu / tanh / sigmoid / softmax) following the
  Layer contract, so the engine is tested independently of the C layers.
* `restore_core`: a fixture that puts back the C core's ISA, thread count and special-path
  switches after a test that changes them.
"""

from __future__ import annotations

import numpy as np
import pytest

from aenn import _core

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


# ----- the C core's global switches, restored after a test ------------------------------------

@pytest.fixture
def restore_core():
    """Puts back the ISA, the thread count and the special-path switches a test may change."""
    isa, threads = _core.isa(), _core.get_num_threads()
    yield
    _core.set_isa(isa)
    _core.set_num_threads(threads)
    _core.gemm_set_simd(True)
    _core.conv_set_special_paths(True)
    _core.pool_set_special_paths(True)
