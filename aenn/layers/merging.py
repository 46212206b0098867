"""Merging layers: Add, Subtract, Multiply, Average, Concatenate. Inputs are lists of arrays."""

from __future__ import annotations

import numpy as np

from .core import as_f32, fmt_shape
from .layer import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average", "Concatenate"]


def _compatible(a, b):
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


class _Merge(Layer):
    """Elementwise merge of inputs with identical shapes."""

    min_inputs = 1
    max_inputs = None

    def _label(self):
        return f"{type(self).__name__} {self.name!r}"

    def _check_shapes(self, shapes):
        if not isinstance(shapes, (list, tuple)) or not shapes or not all(
                isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(f"{self._label()}: a merge layer should be called on a list of "
                             f"inputs, received input_shape={shapes!r}")
        shapes = [tuple(s) for s in shapes]
        n = len(shapes)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            want = (f"exactly {self.min_inputs}" if self.max_inputs == self.min_inputs
                    else f"at least {self.min_inputs}")
            raise ValueError(f"{self._label()}: expected {want} inputs, received {n} inputs "
                             f"with shapes {[fmt_shape(s) for s in shapes]}")
        return shapes

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        if not all(_compatible(shapes[0], s) for s in shapes[1:]):
            raise ValueError(f"{self._label()}: inputs must have the same shape, received "
                             f"shapes {[fmt_shape(s) for s in shapes]}")
        out = list(shapes[0])
        for s in shapes[1:]:
            out = [a if a is not None else b for a, b in zip(out, s)]
        return tuple(out)

    def _inputs(self, inputs):
        xs = [as_f32(x) for x in inputs]
        self.compute_output_shape([x.shape for x in xs])
        return xs


class Add(_Merge):
    """Sums a list of inputs of the same shape (left to right)."""

    def forward(self, inputs, training=False):
        xs = self._inputs(inputs)
        y = xs[0].copy()
        for x in xs[1:]:
            y += x
        return y, len(xs)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        dout = as_f32(dout)
        return [dout.copy() for _ in range(cache)], []


class Subtract(_Merge):
    """Subtracts two inputs: `inputs[0] - inputs[1]`."""

    min_inputs = max_inputs = 2

    def forward(self, inputs, training=False):
        a, b = self._inputs(inputs)
        return a - b, None

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        dout = as_f32(dout)
        return [dout.copy(), -dout], []


class Multiply(_Merge):
    """Multiplies a list of inputs elementwise (left to right)."""

    def forward(self, inputs, training=False):
        xs = self._inputs(inputs)
        y = xs[0].copy()
        for x in xs[1:]:
            y *= x
        return y, xs

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        dout = as_f32(dout)
        grads = []
        for i in range(len(cache)):
            g = dout.copy()
            for j, x in enumerate(cache):  # fixed order: j = 0, 1, ... skipping i
                if j != i:
                    g *= x
            grads.append(g)
        return grads, []


class Average(_Merge):
    """Averages a list of inputs: (x0 + x1 + ... ) / n."""

    def forward(self, inputs, training=False):
        xs = self._inputs(inputs)
        y = xs[0].copy()
        for x in xs[1:]:
            y += x
        y /= np.float32(len(xs))
        return y, len(xs)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        g = as_f32(dout) / np.float32(cache)
        return [g.copy() for _ in range(cache)], []


class Concatenate(_Merge):
    """Concatenates a list of inputs along `axis` (default -1, never the batch axis).

    Args:
        axis: the concatenation axis; all other axes must match.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis == 0:
            raise ValueError(f"{self._label()}: Invalid value for argument `axis`: expected a "
                             f"non-batch axis (an int other than 0), received axis={axis!r}")
        self.axis = int(axis)

    def _axis(self, rank, shapes):
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 1 <= axis < rank:
            raise ValueError(f"{self._label()}: axis={self.axis} is out of range for inputs of "
                             f"shapes {[fmt_shape(s) for s in shapes]}")
        return axis

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        rank = len(shapes[0])
        axis = self._axis(rank, shapes)
        drop = [s[:axis] + s[axis + 1:] for s in shapes]
        if any(len(s) != rank for s in shapes) or not all(_compatible(drop[0], d) for d in drop):
            raise ValueError(f"{self._label()}: a `Concatenate` layer requires inputs with "
                             f"matching shapes except for the concatenation axis {self.axis}, "
                             f"received shapes {[fmt_shape(s) for s in shapes]}")
        out = list(shapes[0])
        for s in shapes[1:]:
            out = [a if a is not None else b for a, b in zip(out, s)]
        sizes = [s[axis] for s in shapes]
        out[axis] = None if any(v is None for v in sizes) else int(sum(sizes))
        return tuple(out)

    def forward(self, inputs, training=False):
        xs = self._inputs(inputs)
        axis = self._axis(xs[0].ndim, [x.shape for x in xs])
        return np.concatenate(xs, axis=axis), (axis, [x.shape[axis] for x in xs])

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        axis, sizes = cache
        parts = np.split(as_f32(dout), np.cumsum(sizes)[:-1], axis=axis)
        return [np.ascontiguousarray(p) for p in parts], []

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
