"""A small subset of Keras 3 ``keras.ops`` that works eagerly and symbolically.

On NumPy arrays (and Python numbers) each function computes its result now and returns a
NumPy array. On KerasTensors it adds a node to the graph: the op is a tiny layer
(`_OpLayer`) with a NumPy forward and an analytic backward, called through the normal engine,
so a functional model built with ops (or a loss tensor given to ``model.add_loss``) trains
with the same forward/backward passes as any other layer.

Supported: add, subtract, multiply, divide, negative, square, sqrt, exp, log, abs, power,
sum, mean, maximum, minimum, clip, reshape, binary_crossentropy. Binary ops broadcast (NumPy
rules); one operand may be a Python number or a constant array (no gradient flows into it).
"""

from __future__ import annotations

import numbers

import numpy as np

from .layers.layer import Layer, Variable

__all__ = [
    "abs", "add", "binary_crossentropy", "clip", "divide", "exp", "log", "maximum", "mean", "minimum", "multiply",
    "negative", "power", "reshape", "sqrt", "square", "subtract", "sum",
]

_builtin_abs = abs
_builtin_sum = sum


def _is_symbolic(x):
    from .models.engine import KerasTensor

    return isinstance(x, KerasTensor)


def _as_array(x, argname):
    if isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64):
        return x
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"ops: Invalid value for argument `{argname}`: expected a number, array "
                        f"or KerasTensor, received {type(x).__name__} (dtype {arr.dtype}).")
    return arr.astype(np.float32)


def _const(x, argname):
    """A constant operand: a Python number stays a number (keeps the other operand's dtype)."""
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    return _as_array(x, argname).astype(np.float32)


def _unbroadcast(g, shape):
    """Sums `g` down to `shape` (the reverse of NumPy broadcasting)."""
    g = np.asarray(g)
    if g.shape == tuple(shape):
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for ax, n in enumerate(shape):
        if n == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return g


def _broadcast_shapes(a, b, opname):
    """NumPy broadcasting for static shapes that may contain None (unknown) dimensions."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        elif x == y:
            out.append(x)
        else:
            raise ValueError(f"ops.{opname}: operands could not be broadcast together with "
                             f"shapes {tuple(a)} and {tuple(b)}")
    return tuple(out)


def _norm_axis(axis, ndim, opname):
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not isinstance(ax, (int, np.integer)) or not -ndim <= ax < ndim:
            raise ValueError(f"ops.{opname}: Invalid value for argument `axis`: axis {ax!r} is "
                             f"out of range for a tensor of rank {ndim}")
        out.append(int(ax) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"ops.{opname}: repeated axis in axis={axis!r}")
    return tuple(sorted(out))


# ----- the op table -----------------------------------------------------------------------
# Unary: name -> (forward(x, p), backward(dout, x, y, p) -> dx). `p` is the op's parameters.
def _reduce_fwd(fn):
    def fwd(x, p):
        axis, keep = p["axis"], p["keepdims"]
        y = fn(x.astype(np.float64), axis=axis, keepdims=keep)
        return np.asarray(y, dtype=x.dtype)
    return fwd


def _sum_bwd(d, x, y, p):
    d = np.asarray(d, dtype=x.dtype)
    if p["axis"] is not None and not p["keepdims"]:
        d = np.expand_dims(d, p["axis"])
    return np.broadcast_to(d, x.shape).copy()


def _count(x, axis):
    if axis is None:
        return x.size
    return int(np.prod([x.shape[a] for a in axis]))


def _mean_bwd(d, x, y, p):
    n = _count(x, p["axis"])
    return _sum_bwd(d, x, y, p) / x.dtype.type(n)


def _clip_fwd(x, p):
    return np.clip(x, x.dtype.type(p["x_min"]), x.dtype.type(p["x_max"]))


def _clip_bwd(d, x, y, p):
    return d * ((x >= p["x_min"]) & (x <= p["x_max"])).astype(x.dtype)


_UNARY = {
    "negative": (lambda x, p: -x, lambda d, x, y, p: -d),
    "square": (lambda x, p: x * x, lambda d, x, y, p: d * (2 * x)),
    "sqrt": (lambda x, p: np.sqrt(x), lambda d, x, y, p: d * (0.5 / y)),
    "exp": (lambda x, p: np.exp(x), lambda d, x, y, p: d * y),
    "log": (lambda x, p: np.log(x), lambda d, x, y, p: d / x),
    "abs": (lambda x, p: np.abs(x), lambda d, x, y, p: d * np.sign(x)),
    "sum": (_reduce_fwd(np.sum), _sum_bwd),
    "mean": (_reduce_fwd(np.mean), _mean_bwd),
    "clip": (_clip_fwd, _clip_bwd),
    "reshape": (lambda x, p: np.reshape(x, p["shape"]),
                lambda d, x, y, p: np.reshape(d, x.shape)),
}


def _pow_fwd(a, b):
    if isinstance(b, float) and b == 2.0:
        return a * a
    return np.power(a, b)


# Binary: name -> (forward(a, b), backward(dout, a, b, y) -> (da, db)).
_BINARY = {
    "add": (lambda a, b: a + b, lambda d, a, b, y: (d, d)),
    "subtract": (lambda a, b: a - b, lambda d, a, b, y: (d, -d)),
    "multiply": (lambda a, b: a * b, lambda d, a, b, y: (d * b, d * a)),
    "divide": (lambda a, b: a / b, lambda d, a, b, y: (d / b, -d * a / (b * b))),
    "maximum": (np.maximum, lambda d, a, b, y: (d * (a >= b), d * (a < b))),
    "minimum": (np.minimum, lambda d, a, b, y: (d * (a <= b), d * (a > b))),
    "power": (_pow_fwd, lambda d, a, b, y: (d * b * np.power(a, b - 1),
                                             d * y * np.log(np.where(a > 0, a, 1)))),
}


class _OpLayer(Layer):
    """One `aenn.ops` call in a graph: NumPy forward, analytic backward, no weights.

    Args:
        op: the op name (a key of the unary or binary table).
        const: for a binary op with one constant operand, that constant (a float or a list).
        const_index: which operand (0 or 1) is the constant.
        params: the op's keyword parameters (axis, keepdims, shape, x_min, x_max).
    """

    def __init__(self, op, const=None, const_index=None, params=None, name=None, **kwargs):
        if op not in _UNARY and op not in _BINARY:
            raise ValueError(f"_OpLayer: unknown op {op!r}")
        from . import naming

        super().__init__(name=name or naming.unique_name(op), **kwargs)
        self.op = op
        if isinstance(const, list):
            const = np.asarray(const, dtype=np.float32)
        self.const = const
        self.const_index = const_index
        self.params = dict(params or {})
        if "axis" in self.params and isinstance(self.params["axis"], list):
            self.params["axis"] = tuple(self.params["axis"])
        if "shape" in self.params:
            self.params["shape"] = tuple(self.params["shape"])
        self.built = True

    # The engine calls `forward` with one array (unary op or one constant) or a list of two.
    def _operands(self, inputs):
        if self.op in _UNARY:
            return [inputs]
        if self.const_index is None:
            return list(inputs)
        ops = [inputs, inputs]
        ops[self.const_index] = self.const
        return ops

    def compute_output_shape(self, input_shape):
        if self.op in _BINARY:
            if self.const_index is None:
                a, b = input_shape
            else:
                a = tuple(input_shape)
                b = np.shape(self.const)
            return _broadcast_shapes(a, b, self.op)
        shape = tuple(input_shape)
        p = self.params
        if self.op in ("sum", "mean"):
            axis = _norm_axis(p["axis"], len(shape), self.op)
            p["axis"] = axis
            if axis is None:
                return (1,) * len(shape) if p["keepdims"] else ()
            return tuple((1 if i in axis else s) for i, s in enumerate(shape)
                         if p["keepdims"] or i not in axis)
        if self.op == "reshape":
            return _reshape_shape(shape, p["shape"])
        return shape

    def forward(self, inputs, training=False):
        if self.op in _UNARY:
            x = np.asarray(inputs)
            if self.op in ("sum", "mean") and self.params["axis"] is not None:
                self.params["axis"] = _norm_axis(self.params["axis"], x.ndim, self.op)
            y = _UNARY[self.op][0](x, self.params)
            return np.asarray(y, dtype=x.dtype), x
        a, b = self._operands(inputs)
        y = _BINARY[self.op][0](a, b)
        dtype = np.result_type(*[v for v in (a, b) if isinstance(v, np.ndarray)])
        return np.asarray(y, dtype=dtype), (a, b, y)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        if self.op in _UNARY:
            x = cache
            y = None
            if self.op in ("sqrt", "exp"):
                y = _UNARY[self.op][0](x, self.params)
            dx = _UNARY[self.op][1](np.asarray(dout, dtype=x.dtype), x, y, self.params)
            return np.ascontiguousarray(dx, dtype=x.dtype), []
        a, b, y = cache
        grads = _BINARY[self.op][1](np.asarray(dout, dtype=y.dtype), a, b, y)
        out = []
        for i, (v, g) in enumerate(zip((a, b), grads)):
            if i == self.const_index:
                continue
            out.append(np.ascontiguousarray(_unbroadcast(g, v.shape), dtype=v.dtype))
        return (out[0] if self.const_index is not None else out), []

    def get_config(self):
        config = super().get_config()
        const = self.const
        if isinstance(const, np.ndarray):
            const = const.tolist()
        params = dict(self.params)
        if isinstance(params.get("axis"), tuple):
            params["axis"] = list(params["axis"])
        if "shape" in params:
            params["shape"] = list(params["shape"])
        config.update({"op": self.op, "const": const, "const_index": self.const_index,
                       "params": params})
        return config


def _reshape_shape(shape, new):
    new = list(new)
    if new.count(-1) > 1:
        raise ValueError(f"ops.reshape: only one -1 is allowed in the new shape, received {new}")
    if None in shape:
        return tuple(None if s == -1 else int(s) for s in new)
    total = int(np.prod(shape))
    fixed = int(np.prod([s for s in new if s != -1]))
    if -1 in new:
        if fixed == 0 or total % fixed:
            raise ValueError(f"ops.reshape: cannot reshape a tensor of shape {shape} into {new}")
        new[new.index(-1)] = total // fixed
    elif fixed != total:
        raise ValueError(f"ops.reshape: cannot reshape a tensor of shape {shape} into {tuple(new)}")
    return tuple(int(s) for s in new)


def _unary(op, x, **params):
    if _is_symbolic(x):
        return _OpLayer(op, params=params)(x)
    arr = _as_array(x, "x")
    if op in ("sum", "mean"):
        params["axis"] = _norm_axis(params["axis"], arr.ndim, op)
    return np.asarray(_UNARY[op][0](arr, params), dtype=arr.dtype)


def _binary(op, x1, x2):
    s1, s2 = _is_symbolic(x1), _is_symbolic(x2)
    if (s1 or s2) and isinstance(x1 if s2 else x2, Variable):
        raise NotImplementedError(
            f"ops.{op}: a layer weight ({(x1 if s2 else x2).path!r}) combined with a symbolic "
            "tensor would be a constant without gradient; aenn has no autodiff for weights used "
            "in ops. Use a layer that owns the weight (e.g. Dense) instead.")
    if s1 and s2:
        return _OpLayer(op)([x1, x2])
    if s1:
        return _OpLayer(op, const=_const(x2, "x2"), const_index=1)(x1)
    if s2:
        return _OpLayer(op, const=_const(x1, "x1"), const_index=0)(x2)
    a = _const(x1, "x1")
    b = _const(x2, "x2")
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        a = np.float32(a)
    return np.asarray(_BINARY[op][0](a, b), dtype=np.float32)


# ----- public functions -------------------------------------------------------------------
def add(x1, x2):
    """Element-wise ``x1 + x2`` (broadcasting)."""
    return _binary("add", x1, x2)


def subtract(x1, x2):
    """Element-wise ``x1 - x2`` (broadcasting)."""
    return _binary("subtract", x1, x2)


def multiply(x1, x2):
    """Element-wise ``x1 * x2`` (broadcasting)."""
    return _binary("multiply", x1, x2)


def divide(x1, x2):
    """Element-wise ``x1 / x2`` (broadcasting)."""
    return _binary("divide", x1, x2)


def maximum(x1, x2):
    """Element-wise maximum (the gradient goes to `x1` on ties)."""
    return _binary("maximum", x1, x2)


def minimum(x1, x2):
    """Element-wise minimum (the gradient goes to `x1` on ties)."""
    return _binary("minimum", x1, x2)


def power(x1, x2):
    """Element-wise ``x1 ** x2``."""
    return _binary("power", x1, x2)


def negative(x):
    """Element-wise ``-x``."""
    return _unary("negative", x)


def square(x):
    """Element-wise ``x * x``."""
    return _unary("square", x)


def sqrt(x):
    """Element-wise square root."""
    return _unary("sqrt", x)


def exp(x):
    """Element-wise exponential."""
    return _unary("exp", x)


def log(x):
    """Element-wise natural logarithm."""
    return _unary("log", x)


def abs(x):  # noqa: A001 - keras.ops name
    """Element-wise absolute value (gradient sign(x), 0 at 0)."""
    return _unary("abs", x)


def sum(x, axis=None, keepdims=False):  # noqa: A001 - keras.ops name
    """Sum over `axis` (an int, a tuple, or None for all axes: a scalar of shape ())."""
    return _unary("sum", x, axis=axis, keepdims=bool(keepdims))


def mean(x, axis=None, keepdims=False):
    """Mean over `axis` (an int, a tuple, or None for all axes: a scalar of shape ())."""
    return _unary("mean", x, axis=axis, keepdims=bool(keepdims))


def clip(x, x_min, x_max):
    """Clips `x` to ``[x_min, x_max]`` (the gradient is 0 outside the interval)."""
    for argname, v in (("x_min", x_min), ("x_max", x_max)):
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            raise TypeError(f"ops.clip: Invalid value for argument `{argname}`: expected a "
                            f"number, received {v!r}")
    if x_min > x_max:
        raise ValueError(f"ops.clip: x_min={x_min} is greater than x_max={x_max}")
    return _unary("clip", x, x_min=float(x_min), x_max=float(x_max))


def reshape(x, newshape):
    """Reshapes `x` to `newshape` (which includes the batch axis; one -1 allowed)."""
    if isinstance(newshape, (int, np.integer)):
        newshape = (int(newshape),)
    newshape = tuple(-1 if s is None else int(s) for s in newshape)
    if _is_symbolic(x):
        _reshape_shape(x.shape, newshape)  # validate now
        return _OpLayer("reshape", params={"shape": newshape})(x)
    arr = _as_array(x, "x")
    return np.reshape(arr, newshape)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy of probabilities `output` against `target` (no
    reduction; ``mean(..., axis=-1)`` gives ``keras.losses.binary_crossentropy``). `output` is
    clipped to ``[epsilon, 1 - epsilon]`` as Keras does. Built from the ops above, so it works
    on arrays and on KerasTensors (e.g. a Keras-2 VAE reconstruction term for `add_loss`)."""
    if from_logits:
        raise NotImplementedError("ops.binary_crossentropy: from_logits=True is not supported; "
                                  "pass probabilities (e.g. a sigmoid output).")
    from .backend import epsilon

    eps = epsilon()
    out = clip(output, eps, 1.0 - eps)
    return negative(add(multiply(target, log(out)),
                        multiply(subtract(1.0, target), log(subtract(1.0, out)))))
