"""UpSampling1D / UpSampling2D (KERAS.md 3.3): integer-factor nearest or bilinear upsampling."""

from __future__ import annotations

import numpy as np

from .. import _core
from .layer import Layer
from .pooling import _check_data_format, _int_tuple

__all__ = ["UpSampling1D", "UpSampling2D"]


class UpSampling2D(Layer):
    """Upsamples rows and cols of a channels-last image by integer factors.

    Args:
        size: int or tuple of 2 ints, the factors for rows and cols. Default (2, 2).
        data_format: 'channels_last' or None.
        interpolation: 'nearest' (each pixel repeated) or 'bilinear' (half-pixel centres, edge
            clamp, as `tf.image.resize(method="bilinear")`).

    Input shape: (batch, rows, cols, channels). Output: (batch, rows*size[0], cols*size[1],
    channels).
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", name=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        cls = type(self).__name__
        self.size = _int_tuple(cls, "size", size, 2)
        self.data_format = _check_data_format(cls, data_format)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                f"{cls}: Invalid value for argument `interpolation`: expected 'nearest' or "
                f"'bilinear' (aenn does not implement bicubic/lanczos), received "
                f"interpolation={interpolation!r}"
            )
        self.interpolation = interpolation

    def build(self, input_shape):
        if len(tuple(input_shape)) != 4:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: expected an input of rank 4 "
                f"(batch, rows, cols, channels), received input_shape={tuple(input_shape)}"
            )
        self.built = True

    def compute_output_shape(self, input_shape):
        b, h, w, c = tuple(input_shape)
        return (b, None if h is None else h * self.size[0],
                None if w is None else w * self.size[1], c)

    def _run(self, x4, sh, sw):
        B, H, W, C = x4.shape
        out = np.empty((B, H * sh, W * sw, C), np.float32)
        getattr(_core, f"upsample_{self.interpolation}_forward")(out, x4, sh, sw)
        return out

    def _run_backward(self, d4, shape4, sh, sw):
        dinp = np.empty(shape4, np.float32)
        getattr(_core, f"upsample_{self.interpolation}_backward")(dinp, d4, sh, sw)
        return dinp

    def forward(self, inputs, training=False):
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected an input of rank 4, "
                             f"received an array of shape {x.shape}")
        return self._run(x, *self.size), x.shape

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        d = np.ascontiguousarray(dout, dtype=np.float32)
        return self._run_backward(d, cache, *self.size), []

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config


class UpSampling1D(UpSampling2D):
    """Repeats each timestep `size` times: (batch, steps, features) -> (batch, steps*size,
    features).

    Args:
        size: positive int, default 2.
    """

    def __init__(self, size=2, name=None, **kwargs):
        Layer.__init__(self, name=name, **kwargs)
        self.size = _int_tuple(type(self).__name__, "size", size, 1)
        self.interpolation = "nearest"

    def build(self, input_shape):
        if len(tuple(input_shape)) != 3:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: expected an input of rank 3 "
                f"(batch, steps, features), received input_shape={tuple(input_shape)}"
            )
        self.built = True

    def compute_output_shape(self, input_shape):
        b, t, c = tuple(input_shape)
        return (b, None if t is None else t * self.size[0], c)

    def forward(self, inputs, training=False):
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        if x.ndim != 3:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected an input of rank 3, "
                             f"received an array of shape {x.shape}")
        B, T, C = x.shape
        y = self._run(x.reshape(B, 1, T, C), 1, self.size[0])
        return y.reshape(B, T * self.size[0], C), x.shape

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        B, T, C = cache
        d = np.ascontiguousarray(dout, dtype=np.float32).reshape(B, 1, -1, C)
        return self._run_backward(d, (B, 1, T, C), 1, self.size[0]).reshape(cache), []

    def get_config(self):
        config = Layer.get_config(self)
        config["size"] = self.size[0]
        return config
