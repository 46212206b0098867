"""Zero-padding and cropping layers (pure data movement with NumPy slicing)."""

from __future__ import annotations

import numpy as np

from .core import _normalize_data_format, as_f32, fmt_shape
from .layer import Layer

__all__ = ["ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D"]


def _pair(layer, arg, value, allow_int=True):
    """An int `p` -> (p, p); a pair of non-negative ints -> itself."""
    if allow_int and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    try:
        pair = tuple(int(v) for v in value)
        valid = len(pair) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    except (TypeError, ValueError):
        valid = False
    if not valid or min(pair) < 0:
        raise ValueError(
            f"{layer}: Invalid value for argument `{arg}`: expected a non-negative integer or "
            f"a tuple of 2 non-negative integers, received {arg}={value!r}"
        )
    return pair


def normalize_2d(layer, arg, value):
    """Keras' three forms: int c -> ((c,c),(c,c)); (a, b) -> ((a,a),(b,b)); ((t,b),(l,r))."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        p = _pair(layer, arg, value)
        return (p, p)
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if items is None or len(items) != 2:
        raise ValueError(
            f"{layer}: Invalid value for argument `{arg}`: expected an int, a tuple of 2 ints or "
            f"a tuple of 2 tuples of 2 ints, received {arg}={value!r}"
        )
    return (_pair(layer, arg, items[0]), _pair(layer, arg, items[1]))


def _spatial_axes(ndim, data_format):
    """Indices of the spatial axes of a (batch, ..., channels) or (batch, channels, ...) array."""
    n = ndim - 2
    return tuple(range(1, 1 + n)) if data_format == "channels_last" else tuple(range(2, 2 + n))


class _PadCrop(Layer):
    """Shared logic: `amounts` is one (before, after) pair per spatial axis."""

    rank = 2
    crop = False
    arg = "padding"

    def _label(self):
        return f"{type(self).__name__} {self.name!r}"

    def _check(self, shape):
        shape = tuple(shape)
        if len(shape) != self.rank + 2:
            raise ValueError(
                f"{self._label()}: expected an input of rank {self.rank + 2}, received "
                f"input_shape={fmt_shape(shape)}"
            )
        if self.crop:
            for axis, (a, b) in zip(_spatial_axes(len(shape), self.data_format), self.amounts):
                if shape[axis] is not None and shape[axis] - a - b <= 0:
                    raise ValueError(
                        f"{self._label()}: `{self.arg}`={self.amounts} removes the whole axis "
                        f"{axis} of an input of shape {fmt_shape(shape)}"
                    )

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        out = list(input_shape)
        sign = -1 if self.crop else 1
        for axis, (a, b) in zip(_spatial_axes(len(out), self.data_format), self.amounts):
            if out[axis] is not None:
                out[axis] = out[axis] + sign * (a + b)
        return tuple(out)

    def _slices(self, shape):
        index = [slice(None)] * len(shape)
        for axis, (a, b) in zip(_spatial_axes(len(shape), self.data_format), self.amounts):
            index[axis] = slice(a, shape[axis] - b)
        return tuple(index)

    def forward(self, inputs, training=False):
        x = as_f32(inputs)
        self._check(x.shape)
        if self.crop:
            return np.ascontiguousarray(x[self._slices(x.shape)]), x.shape
        out_shape = self.compute_output_shape(x.shape)
        y = np.zeros(out_shape, np.float32)
        y[self._slices(out_shape)] = x
        return y, x.shape

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        dout = as_f32(dout)
        if self.crop:
            dx = np.zeros(cache, np.float32)
            dx[self._slices(cache)] = dout
            return dx, []
        return np.ascontiguousarray(dout[self._slices(dout.shape)]), []

    def get_config(self):
        config = super().get_config()
        config[self.arg] = self.amounts if self.rank == 2 else self.amounts[0]
        if self.rank == 2:
            config["data_format"] = self.data_format
        return config


class ZeroPadding2D(_PadCrop):
    """Adds rows and columns of zeros around an image.

    Args:
        padding: int `p` (same on all sides), tuple `(ph, pw)` (symmetric per axis) or
            `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, rows, cols, channels)`. Output shape: `(batch, rows + top + bottom,
    cols + left + right, channels)`.
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.amounts = normalize_2d(self._label(), "padding", padding)
        self.data_format = _normalize_data_format(self._label(), data_format)


class Cropping2D(_PadCrop):
    """Crops an image along its spatial axes.

    Args:
        cropping: int `c`, tuple `(ch, cw)` or `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    crop = True
    arg = "cropping"

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.amounts = normalize_2d(self._label(), "cropping", cropping)
        self.data_format = _normalize_data_format(self._label(), data_format)


class ZeroPadding1D(_PadCrop):
    """Pads a `(batch, steps, features)` input with zeros: `padding` int or `(left, right)`."""

    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.amounts = (_pair(self._label(), "padding", padding),)
        self.data_format = "channels_last"


class Cropping1D(_PadCrop):
    """Crops a `(batch, steps, features)` input: `cropping` int or `(left, right)`."""

    rank = 1
    crop = True
    arg = "cropping"

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.amounts = (_pair(self._label(), "cropping", cropping),)
        self.data_format = "channels_last"
