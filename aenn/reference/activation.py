"""NumPy twins of csrc/activation.c: same names and argument order, outputs returned.

Dtype-generic (float32 or float64) so the backward passes can be checked with finite
differences in float64.
"""

import math

import numpy as np

# The C enum (csrc/activation.h), keyed by Keras name.
KINDS = {
    "linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3, "leaky_relu": 4, "elu": 5, "selu": 6,
    "softplus": 7, "softsign": 8, "hard_sigmoid": 9, "gelu": 10, "silu": 11, "exponential": 12,
    "relu6": 13,
}
NEEDS_OUT = {KINDS["sigmoid"], KINDS["tanh"], KINDS["exponential"]}

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def activation_forward(inp, kind, alpha):
    """out = act(inp), elementwise; `alpha` is the leaky_relu slope / the elu alpha."""
    x = inp
    dt = x.dtype.type
    if kind == KINDS["linear"]:
        return x.copy()
    if kind == KINDS["relu"]:
        return np.maximum(x, dt(0))
    if kind == KINDS["sigmoid"]:
        return _sigmoid(x).astype(x.dtype)
    if kind == KINDS["tanh"]:
        return np.tanh(x)
    if kind == KINDS["leaky_relu"]:
        return np.where(x >= 0, x, dt(alpha) * x)
    if kind == KINDS["elu"]:
        return np.where(x > 0, x, dt(alpha) * np.expm1(np.minimum(x, 0)))
    if kind == KINDS["selu"]:
        return dt(SELU_SCALE) * np.where(x > 0, x, dt(SELU_ALPHA) * np.expm1(np.minimum(x, 0)))
    if kind == KINDS["softplus"]:
        return np.logaddexp(dt(0), x)
    if kind == KINDS["softsign"]:
        return x / (1 + np.abs(x))
    if kind == KINDS["hard_sigmoid"]:
        return np.clip(x / dt(6) + dt(0.5), 0, 1).astype(x.dtype)
    if kind == KINDS["gelu"]:
        return (0.5 * x * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype)
    if kind == KINDS["silu"]:
        return (x * _sigmoid(x)).astype(x.dtype)
    if kind == KINDS["exponential"]:
        return np.exp(x)
    if kind == KINDS["relu6"]:
        return np.clip(x, 0, 6).astype(x.dtype)
    raise ValueError(f"unknown activation kind {kind}")


def activation_backward(dout, inp, out, kind, alpha):
    """dinp = dout * act'(inp); `out` = activation_forward(inp) (may be None)."""
    x = inp
    dt = x.dtype.type
    if out is None:
        out = activation_forward(inp, kind, alpha)
    y = out
    if kind == KINDS["linear"]:
        d = np.ones_like(x)
    elif kind == KINDS["relu"]:
        d = (x > 0).astype(x.dtype)
    elif kind == KINDS["sigmoid"]:
        d = y * (1 - y)
    elif kind == KINDS["tanh"]:
        d = 1 - y * y
    elif kind == KINDS["leaky_relu"]:
        d = np.where(x > 0, dt(1), dt(alpha))
    elif kind == KINDS["elu"]:
        d = np.where(x > 0, dt(1), dt(alpha) * np.exp(np.minimum(x, 0)))
    elif kind == KINDS["selu"]:
        d = dt(SELU_SCALE) * np.where(x > 0, dt(1), dt(SELU_ALPHA) * np.exp(np.minimum(x, 0)))
    elif kind == KINDS["softplus"]:
        d = _sigmoid(x)
    elif kind == KINDS["softsign"]:
        d = 1 / (1 + np.abs(x)) ** 2
    elif kind == KINDS["hard_sigmoid"]:
        d = np.where((x > -3) & (x < 3), dt(1) / dt(6), dt(0))
    elif kind == KINDS["gelu"]:
        d = 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    elif kind == KINDS["silu"]:
        s = _sigmoid(x)
        d = s * (1 + x * (1 - s))
    elif kind == KINDS["exponential"]:
        d = y
    elif kind == KINDS["relu6"]:
        d = ((x > 0) & (x < 6)).astype(x.dtype)
    else:
        raise ValueError(f"unknown activation kind {kind}")
    return (dout * d).astype(x.dtype)


def relu_forward(inp, negative_slope, max_value, threshold):
    """Keras ReLU layer: min(x, max_value) above threshold, slope*(x - threshold) below, 0 at it."""
    x = inp
    dt = x.dtype.type
    above = np.minimum(x, dt(max_value))
    below = dt(negative_slope) * (x - dt(threshold))
    return np.where(x > threshold, above, np.where(x < threshold, below, dt(0))).astype(x.dtype)


def relu_backward(dout, inp, negative_slope, max_value, threshold):
    x = inp
    dt = x.dtype.type
    d = np.where(x > threshold, (x < max_value).astype(x.dtype),
                 np.where(x < threshold, dt(negative_slope), dt(0)))
    return (dout * d).astype(x.dtype)


def softmax_forward(inp):
    """Softmax over the last axis of (rows, cols)."""
    e = np.exp(inp - inp.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(dout, out):
    """dinp = out * (dout - sum(dout * out, last axis))."""
    return out * (dout - np.sum(dout * out, axis=-1, keepdims=True))
