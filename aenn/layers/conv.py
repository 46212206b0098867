"""Convolution layers: Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose (channels_last only).

Weights follow Keras: Conv kernels are ``kernel_size + (in_channels, filters)``, transposed-conv
kernels ``kernel_size + (filters, in_channels)``; bias ``(filters,)``. The 1-D layers run the 2-D
C kernels (aenn._core.conv2d_*) on a height-1 view of their input. Padding, output sizes and the
transpose crop come from aenn/layers/shapes.py (KERAS.md sections 1 and 2).
"""

from __future__ import annotations

import numpy as np

from .. import _core
from . import shapes
from .layer import Layer


def _serialize(obj):
    """Keras-style config entry for an initializer / regularizer argument."""
    if obj is None or isinstance(obj, (str, dict)):
        return obj
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return obj


class BaseConv(Layer):
    """Shared implementation of the convolution layers (rank 1 or 2, plain or transposed)."""

    rank = 2
    transpose = False

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, output_padding=None, **kwargs):
        super().__init__(**kwargs)
        from .. import activations, regularizers

        self.filters = self._positive_int(filters, "filters")
        self.kernel_size = self._tuple(kernel_size, "kernel_size")
        self.strides = self._tuple(strides, "strides")
        self.dilation_rate = self._tuple(dilation_rate, "dilation_rate")
        self.padding = self._padding(padding)
        if data_format not in (None, "channels_last"):
            raise ValueError(
                f"{self._who}: Invalid value for argument `data_format`: only 'channels_last' is "
                f"supported, received data_format={data_format!r}"
            )
        self.data_format = "channels_last"
        if groups != 1:
            raise ValueError(
                f"{self._who}: Invalid value for argument `groups`: only groups=1 is supported, "
                f"received groups={groups!r}"
            )
        self.groups = 1
        if any(s > 1 for s in self.strides) and any(d > 1 for d in self.dilation_rate):
            raise ValueError(
                f"{self._who}: `strides > 1` not supported in conjunction with "
                f"`dilation_rate > 1`. Received: strides={self.strides} and "
                f"dilation_rate={self.dilation_rate}"
            )
        self.output_padding = None
        if output_padding is not None:
            if not self.transpose:
                raise TypeError(f"{self._who}: unrecognized keyword arguments: ['output_padding']")
            op = self._tuple(output_padding, "output_padding", minimum=0)
            if any(p >= s for p, s in zip(op, self.strides)):
                raise ValueError(
                    f"{self._who}: Invalid value for argument `output_padding`: strides must be "
                    f"greater than output padding, received strides={self.strides}, "
                    f"output_padding={op}"
                )
            self.output_padding = op
        if kernel_constraint is not None or bias_constraint is not None:
            raise NotImplementedError(f"{self._who}: kernel/bias constraints are not supported")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        # Applied by the model engine to this layer's output (like Keras' Layer.__call__).
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_regularizer_arg = kernel_regularizer
        self._bias_regularizer_arg = bias_regularizer
        self._activity_regularizer_arg = activity_regularizer

    # ----- argument checks ------------------------------------------------------------------
    @property
    def _who(self):
        return f"{type(self).__name__} {self.name!r}"

    def _positive_int(self, value, arg):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(
                f"{self._who}: Invalid value for argument `{arg}`: expected a positive integer, "
                f"received {arg}={value!r}"
            )
        return int(value)

    def _tuple(self, value, arg, minimum=1):
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = (int(value),) * self.rank
        try:
            value = tuple(value)
        except TypeError:
            value = None
        ok = (value is not None and len(value) == self.rank
              and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum
                      for v in value))
        if not ok:
            what = "positive integers" if minimum >= 1 else "non-negative integers"
            raise ValueError(
                f"{self._who}: Invalid value for argument `{arg}`: expected an int or a tuple of "
                f"{self.rank} {what}, received {arg}={value if value is not None else value!r}"
            )
        return tuple(int(v) for v in value)

    def _padding(self, padding):
        allowed = ["valid", "same"] + (["causal"] if self.rank == 1 and not self.transpose else [])
        p = padding.lower() if isinstance(padding, str) else padding
        if p not in allowed:
            raise ValueError(
                f"{self._who}: Invalid value for argument `padding`: expected one of {allowed}, "
                f"received padding={padding!r}"
            )
        return p

    # ----- shapes -------------------------------------------------------------------------
    def _check_input_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{self._who}: expected an input of rank {self.rank + 2} (batch, "
                f"{'steps' if self.rank == 1 else 'height, width'}, channels), received an input "
                f"with shape {input_shape}"
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"{self._who}: the channel dimension of the inputs must be defined, received "
                f"input_shape={input_shape}"
            )
        return input_shape

    def _spatial_out(self, input_shape):
        out = []
        for i, n in enumerate(input_shape[1:-1]):
            k, s, d = self.kernel_size[i], self.strides[i], self.dilation_rate[i]
            if self.transpose:
                op = None if self.output_padding is None else self.output_padding[i]
                m = shapes.deconv_output_length(n, k, s, self.padding, op, d)
            else:
                m = shapes.conv_output_length(n, k, s, self.padding, d)
            if m is not None and m < 1:
                raise ValueError(
                    f"{self._who}: the kernel is larger than the "
                    f"{'padded ' if self.padding != 'valid' else ''}input: kernel_size="
                    f"{self.kernel_size}, dilation_rate={self.dilation_rate}, padding="
                    f"{self.padding!r}, input shape {tuple(input_shape)} gives an output "
                    f"length of {m} on spatial axis {i}"
                )
            out.append(m)
        return out

    def compute_output_shape(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        built_channels = getattr(self, "input_channels", None)
        if self.built and built_channels is not None and input_shape[-1] != built_channels:
            raise ValueError(
                f"{self._who}: the layer was built for inputs with {built_channels} channels "
                f"(kernel shape {tuple(self.kernel.shape)}), received an input with shape "
                f"{input_shape}"
            )
        return (input_shape[0], *self._spatial_out(input_shape), self.filters)

    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        self._spatial_out(input_shape)
        channels = int(input_shape[-1])
        pair = (self.filters, channels) if self.transpose else (channels, self.filters)
        self.kernel = self.add_weight(self.kernel_size + pair, self.kernel_initializer, "kernel",
                                      True, self.kernel_regularizer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, "bias", True,
                                        self.bias_regularizer)
        self.input_channels = channels
        self.built = True

    # ----- computation ----------------------------------------------------------------------
    def _as_4d(self, x):
        """(B, L, C) -> (B, 1, L, C) view for the 1-D layers."""
        return x.reshape(x.shape[0], 1, x.shape[1], x.shape[2]) if self.rank == 1 else x

    def _geometry(self, x4, out_hw):
        """The integer geometry arguments of the C kernels for a 4-D input x4."""
        k = (1,) * (2 - self.rank) + self.kernel_size
        s = (1,) * (2 - self.rank) + self.strides
        d = (1,) * (2 - self.rank) + self.dilation_rate
        if self.transpose:
            crops = [shapes.deconv_crop(x4.shape[1 + i], k[i], s[i], out_hw[i], d[i])[0]
                     for i in range(2)]
            return (s[0], s[1], d[0], d[1], crops[0], crops[1])
        if self.rank == 1:
            pads = (0, 0) + shapes.conv_padding(x4.shape[2], k[1], s[1], self.padding, d[1])
        else:
            pads = (shapes.conv_padding(x4.shape[1], k[0], s[0], self.padding, d[0])
                    + shapes.conv_padding(x4.shape[2], k[1], s[1], self.padding, d[1]))
        return (s[0], s[1], d[0], d[1], *pads)

    def forward(self, inputs, training=False):
        pre, x4, geom = self._pre_activation(inputs)
        y = pre if self.activation.is_linear else self.activation.forward(pre)
        return y, (x4, pre, y, geom)

    def _pre_activation(self, inputs):
        """(pre-activation output, 4-D input view, kernel geometry) of inputs."""
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        if x.ndim != self.rank + 2 or x.shape[-1] != self.input_channels:
            raise ValueError(
                f"{self._who}: expected inputs of shape (batch, "
                f"{'steps' if self.rank == 1 else 'height, width'}, {self.input_channels}), "
                f"received shape {x.shape}"
            )
        out_spatial = self._spatial_out((None,) + x.shape[1:])
        x4 = self._as_4d(x)
        out_hw = [1] * (2 - self.rank) + out_spatial
        geom = self._geometry(x4, out_hw)
        kernel4 = self.kernel.value.reshape((1,) * (2 - self.rank) + self.kernel.value.shape)
        bias = self.bias.value if self.bias is not None else None
        pre = np.empty((x.shape[0], out_hw[0], out_hw[1], self.filters), np.float32)
        if self.transpose:
            _core.conv2d_transpose_forward(pre, x4, kernel4, bias, *geom)
        else:
            _core.conv2d_forward(pre, x4, kernel4, bias, *geom)
        return pre.reshape((x.shape[0], *out_spatial, self.filters)), x4, geom

    def logits_of(self, cache):
        return cache[1] if self.activation.name in ("sigmoid", "softmax") else None

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        x4, pre, y, geom = cache
        dout = np.ascontiguousarray(dout, dtype=np.float32)
        if not (from_logits or self.activation.is_linear):
            dout = np.ascontiguousarray(self.activation.backward(dout, pre, y), dtype=np.float32)
        dout4 = self._as_4d(dout)
        kernel4 = self.kernel.value.reshape((1,) * (2 - self.rank) + self.kernel.value.shape)
        dinp = np.empty_like(x4) if need_dinputs else None
        dkernel = np.empty_like(kernel4)
        dbias = np.empty(self.filters, np.float32) if self.bias is not None else None
        fn = _core.conv2d_transpose_backward if self.transpose else _core.conv2d_backward
        fn(dinp, dkernel, dbias, dout4, x4, kernel4, *geom)
        if dinp is not None and self.rank == 1:
            dinp = dinp.reshape(x4.shape[0], x4.shape[2], x4.shape[3])
        grads = [dkernel.reshape(self.kernel.value.shape)]
        if self.bias is not None:
            grads.append(dbias)
        return dinp, grads

    # ----- config ---------------------------------------------------------------------------
    def get_config(self):
        from .. import activations

        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=_serialize(self.kernel_initializer),
            bias_initializer=_serialize(self.bias_initializer),
            kernel_regularizer=_serialize(self._kernel_regularizer_arg),
            bias_regularizer=_serialize(self._bias_regularizer_arg),
            activity_regularizer=_serialize(self._activity_regularizer_arg),
            kernel_constraint=None,
            bias_constraint=None,
        )
        if self.transpose:
            config["output_padding"] = self.output_padding
        else:
            config["groups"] = self.groups
        return config


class Conv1D(BaseConv):
    """1-D convolution over the steps of a (batch, steps, channels) input.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 1 int, the window length.
        strides: int or tuple of 1 int (default 1).
        padding: "valid", "same" (TF convention: extra zero at the end) or "causal"
            (left-pads `dilation_rate * (kernel_size - 1)` zeros).
        data_format: only "channels_last" (or None).
        dilation_rate: int (default 1); cannot be combined with strides > 1.
        groups: only 1.
        activation: activation name or Activation (default None = linear).
        use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer: as in Keras.

    Input shape: (batch, steps, channels). Output shape: (batch, new_steps, filters).
    Weights: kernel (kernel_size, channels, filters), bias (filters,).
    """

    rank = 1


class Conv2D(BaseConv):
    """2-D convolution (cross-correlation) over a (batch, height, width, channels) input.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 2 ints.
        strides: int or tuple of 2 ints (default 1).
        padding: "valid" or "same" (TF convention: the odd extra zero goes bottom/right).
        data_format: only "channels_last" (or None).
        dilation_rate: int or tuple (default 1); cannot be combined with strides > 1.
        groups: only 1.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer: as in Keras.

    Input shape: (batch, height, width, channels).
    Output shape: (batch, new_height, new_width, filters).
    Weights: kernel (kh, kw, channels, filters), bias (filters,).

    Example:
    >>> layer = Conv2D(16, 3, padding="same", activation="relu")
    """

    rank = 2


class Conv1DTranspose(BaseConv):
    """Transposed 1-D convolution (the adjoint of Conv1D with the same arguments).

    Args: as Conv1D (padding "valid" or "same", no `groups`) plus `output_padding`
    (None, or an int smaller than the stride; None and 0 differ, see KERAS.md 2.3).

    Input shape: (batch, steps, channels). Output shape: (batch, new_steps, filters).
    Weights: kernel (kernel_size, filters, channels), bias (filters,).
    """

    rank = 1
    transpose = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         output_padding=output_padding, **kwargs)


class Conv2DTranspose(Conv1DTranspose):
    """Transposed 2-D convolution ("deconvolution"), the adjoint of Conv2D.

    Args: as Conv2D (padding "valid" or "same", no `groups`) plus `output_padding`
    (None, or an int / tuple of 2 ints smaller than the strides). With padding "same",
    kernel 3 and stride 2 an input of 7 gives 14 for output_padding=None or 1, but 13 for 0.

    Input shape: (batch, height, width, channels).
    Output shape: (batch, new_height, new_width, filters).
    Weights: kernel (kh, kw, filters, channels), bias (filters,).
    """

    rank = 2
    transpose = True


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
