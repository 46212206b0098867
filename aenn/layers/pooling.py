"""Pooling layers: MaxPooling1D/2D, AveragePooling1D/2D and the global poolings (KERAS.md 3.1-3.2).

Channels-last only. 1-D layers run the 2-D kernels with H = 1. 'same' padding follows TF: the
window grid is ceil(n / s) long, the extra padded cell goes at the end, padded cells are ignored
by max and not counted by average.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from . import shapes
from .layer import Layer

__all__ = [
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D",
    "GlobalMaxPool1D", "GlobalMaxPool2D",
]


def _check_data_format(layer_name, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"{layer_name}: Invalid value for argument `data_format`: expected 'channels_last' "
            f"(aenn supports channels-last only), received data_format={data_format!r}"
        )
    return "channels_last"


def _int_tuple(cls_name, arg, value, rank, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * rank
    try:
        value = tuple(value)
    except TypeError:
        value = None
    ok = (value is not None and len(value) == rank
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                  for v in value))
    if not ok:
        raise ValueError(
            f"{cls_name}: Invalid value for argument `{arg}`: expected a positive integer or a "
            f"tuple of {rank} positive integers, received {arg}={value!r}"
        )
    return tuple(int(v) for v in value)


class _Pooling(Layer):
    """Shared code of the max/average pooling layers; `rank` is 1 or 2."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        cls = type(self).__name__
        self.pool_size = _int_tuple(cls, "pool_size", pool_size, self.rank)
        self.strides = (self.pool_size if strides is None
                        else _int_tuple(cls, "strides", strides, self.rank))
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(
                f"{cls}: Invalid value for argument `padding`: expected 'valid' or 'same', "
                f"received padding={padding!r}"
            )
        self.padding = padding.lower()
        self.data_format = _check_data_format(cls, data_format)

    # spatial dims of the input (excluding batch and channels), as a 2-tuple (1-D: H = 1)
    def _spatial_out(self, spatial, input_shape=None):
        out = []
        for n, k, s in zip(spatial, self.pool_size, self.strides):
            o = shapes.conv_output_length(n, k, s, self.padding)
            if o is not None and o < 1:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: the pool size {self.pool_size} is "
                    f"larger than the input (input shape {input_shape}) with padding='valid'; "
                    f"computed output size would be {o}."
                )
            out.append(o)
        return tuple(out)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: expected an input of rank {self.rank + 2} "
                f"(batch, {'steps' if self.rank == 1 else 'rows, cols'}, channels), received "
                f"input_shape={input_shape}"
            )
        self._spatial_out(input_shape[1:-1], input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        out = self._spatial_out(input_shape[1:-1], input_shape)
        return (input_shape[0],) + out + (input_shape[-1],)

    def _geometry(self, x):
        """(x4 (B, H, W, C) view, kh, kw, sh, sw, pad_top, pad_left, OH, OW)."""
        if x.ndim != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: expected an input of rank "
                f"{self.rank + 2}, received an array of shape {x.shape}"
            )
        out = self._spatial_out(x.shape[1:-1], x.shape)
        if self.rank == 1:
            x4 = x.reshape(x.shape[0], 1, x.shape[1], x.shape[2])
            kh, kw, sh, sw = 1, self.pool_size[0], 1, self.strides[0]
            oh, ow = 1, out[0]
        else:
            x4 = x
            (kh, kw), (sh, sw) = self.pool_size, self.strides
            oh, ow = out
        pt = shapes.conv_padding(x4.shape[1], kh, sh, self.padding)[0]
        pl = shapes.conv_padding(x4.shape[2], kw, sw, self.padding)[0]
        return x4, (kh, kw, sh, sw, pt, pl), (oh, ow)

    def forward(self, inputs, training=False):
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        x4, geom, (oh, ow) = self._geometry(x)
        out = np.empty((x4.shape[0], oh, ow, x4.shape[3]), dtype=np.float32)
        if self.mode == "max":
            argmax = np.empty(out.shape, dtype=np.int32)
            _core.maxpool2d_forward(out, argmax, x4, *geom)
        else:
            argmax = None
            _core.avgpool2d_forward(out, x4, *geom)
        y = out.reshape((x.shape[0],) + out.shape[1 + (2 - self.rank):])
        return y, (x.shape, x4.shape, geom, argmax)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        x_shape, x4_shape, geom, argmax = cache
        dout = np.ascontiguousarray(dout, dtype=np.float32)
        B, _H, _W, C = x4_shape
        dout4 = dout.reshape(B, 1, -1, C) if self.rank == 1 else dout
        dinp = np.empty(x4_shape, dtype=np.float32)
        if self.mode == "max":
            _core.maxpool2d_backward(dinp, dout4, argmax, *geom)
        else:
            _core.avgpool2d_backward(dinp, dout4, *geom)
        return dinp.reshape(x_shape), []

    def get_config(self):
        config = super().get_config()
        config.update({
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        })
        return config


class MaxPooling2D(_Pooling):
    """Max pooling over 2-D windows (rows, cols) of a channels-last input.

    Args:
        pool_size: int or tuple of 2 ints, the window size. Default (2, 2).
        strides: int, tuple of 2 ints or None (= pool_size).
        padding: 'valid' (drop incomplete windows) or 'same' (output ceil(n / strides); padded
            cells are ignored).
        data_format: 'channels_last' or None.

    Input shape: (batch, rows, cols, channels). Output: (batch, pooled_rows, pooled_cols,
    channels).
    """

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling2D(_Pooling):
    """Average pooling over 2-D windows; with 'same' each window averages its real cells only.

    Args: as MaxPooling2D (pool_size defaults to (2, 2) as in tf.keras; Keras 3 requires it).
    """

    rank, mode = 2, "avg"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling1D(_Pooling):
    """Max pooling over 1-D windows of a (batch, steps, features) input.

    Args:
        pool_size: int, default 2. strides: int or None (= pool_size).
        padding: 'valid' or 'same'. data_format: 'channels_last' or None.
    """

    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["pool_size"], config["strides"] = self.pool_size[0], self.strides[0]
        return config


class AveragePooling1D(MaxPooling1D):
    """Average pooling over 1-D windows of a (batch, steps, features) input ('same' counts only
    real cells). Args as MaxPooling1D."""

    rank, mode = 1, "avg"


class _GlobalPooling(Layer):
    rank = 2
    mode = "avg"

    def __init__(self, data_format=None, keepdims=False, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.data_format = _check_data_format(type(self).__name__, data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: expected an input of rank {self.rank + 2}, "
                f"received input_shape={input_shape}"
            )
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def forward(self, inputs, training=False):
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        if x.ndim != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: expected an input of rank "
                f"{self.rank + 2}, received an array of shape {x.shape}"
            )
        B, C = x.shape[0], x.shape[-1]
        x4 = x.reshape(B, 1, -1, C) if self.rank == 1 else x
        geom = (x4.shape[1], x4.shape[2], 1, 1, 0, 0)
        out = np.empty((B, 1, 1, C), dtype=np.float32)
        argmax = None
        if self.mode == "max":
            argmax = np.empty(out.shape, dtype=np.int32)
            _core.maxpool2d_forward(out, argmax, x4, *geom)
        else:
            _core.avgpool2d_forward(out, x4, *geom)
        y = out.reshape(self.compute_output_shape(x.shape))
        return y, (x.shape, x4.shape, geom, argmax)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        x_shape, x4_shape, geom, argmax = cache
        dout4 = np.ascontiguousarray(dout, dtype=np.float32).reshape(x4_shape[0], 1, 1, -1)
        dinp = np.empty(x4_shape, dtype=np.float32)
        if self.mode == "max":
            _core.maxpool2d_backward(dinp, dout4, argmax, *geom)
        else:
            _core.avgpool2d_backward(dinp, dout4, *geom)
        return dinp.reshape(x_shape), []

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over rows and cols: (batch, rows, cols, C) -> (batch, C), or (batch, 1, 1, C) with
    keepdims=True."""

    rank, mode = 2, "avg"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over rows and cols: (batch, rows, cols, C) -> (batch, C) (keepdims: (batch, 1, 1, C))."""

    rank, mode = 2, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over steps: (batch, steps, C) -> (batch, C) (keepdims: (batch, 1, C))."""

    rank, mode = 1, "avg"


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over steps: (batch, steps, C) -> (batch, C) (keepdims: (batch, 1, C))."""

    rank, mode = 1, "max"


# Keras aliases
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
