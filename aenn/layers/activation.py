"""Activation layers: Activation, ReLU, LeakyReLU, Softmax, ELU, Identity (Keras 3 semantics)."""

import math
import warnings

import numpy as np

from .. import _core
from .. import activations as _activations
from .layer import Layer

_LOGIT_ACTIVATIONS = ("sigmoid", "softmax")


def _number(layer, arg, value, minimum=None, allow_none=False):
    """Validates a float hyper-parameter (>= minimum when given)."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (minimum is None or value >= minimum)
    if not ok:
        need = "a finite number" + (f" >= {minimum:g}" if minimum is not None else "")
        raise ValueError(f"{layer} : Invalid value for argument `{arg}`: expected {need}, "
                         f"received {arg}={value!r}")
    return value


def _as_input(x):
    return np.ascontiguousarray(x, dtype=np.float32)


class _ElementwiseActivationLayer(Layer):
    """Shared forward/backward for layers that apply one `aenn.activations.Activation`."""

    def _act(self):
        raise NotImplementedError

    def forward(self, inputs, training=False):
        x = _as_input(inputs)
        y = self._act().forward(x)
        return y, (x, y)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        x, y = cache
        act = self._act()
        if from_logits and act.name in _LOGIT_ACTIVATIONS:
            return _as_input(dout), []  # dout is already the gradient wrt the pre-activation
        return act.backward(_as_input(dout), x, y), []

    def logits_of(self, cache):
        return cache[0] if self._act().name in _LOGIT_ACTIVATIONS else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Activation(_ElementwiseActivationLayer):
    """Applies an activation function to its input.

    Args:
        activation: a Keras activation name (`"relu"`, `"sigmoid"`, `"softmax"`, ...), None
            (linear), or an `aenn.activations.Activation`.

    Example:

    >>> layer = aenn.layers.Activation("relu")
    >>> layer(np.array([-3.0, 1.0], dtype="float32"))
    array([0., 1.], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        try:
            self.activation = _activations.get(activation)
        except ValueError as e:
            raise ValueError(f"Activation {self.name!r}: Invalid value for argument "
                             f"`activation`: {e}") from None

    def _act(self):
        return self.activation

    def get_config(self):
        config = super().get_config()
        config["activation"] = _activations.serialize(self.activation)
        return config


class ReLU(Layer):
    """Rectified linear unit with optional ceiling, leak and threshold:

    `max_value` if x >= max_value; x if threshold < x < max_value;
    `negative_slope * (x - threshold)` if x < threshold.

    Args:
        max_value: float >= 0 or None (no ceiling).
        negative_slope: float >= 0, slope below the threshold.
        threshold: float >= 0.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        who = f"ReLU {self.name!r}"
        self.max_value = _number(who, "max_value", max_value, 0.0, allow_none=True)
        self.negative_slope = _number(who, "negative_slope", negative_slope, 0.0)
        self.threshold = _number(who, "threshold", threshold, 0.0)

    def _args(self):
        mx = float("inf") if self.max_value is None else self.max_value
        return self.negative_slope, mx, self.threshold

    def forward(self, inputs, training=False):
        x = _as_input(inputs)
        out = np.empty_like(x)
        _core.relu_forward(out, x, *self._args())
        return out, x

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        x = cache
        dout = _as_input(dout)
        if dout.shape != x.shape:
            raise ValueError(f"ReLU {self.name!r}: `dout` has shape {dout.shape} but the input "
                             f"had shape {x.shape}")
        dx = np.empty_like(x)
        _core.relu_backward(dx, dout, x, *self._args())
        return dx, []

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(max_value=self.max_value, negative_slope=self.negative_slope,
                      threshold=self.threshold)
        return config


class LeakyReLU(_ElementwiseActivationLayer):
    """x if x >= 0 else negative_slope * x. Keras 3 default `negative_slope=0.3`; the tf.keras
    spelling `alpha=` is accepted too."""

    def __init__(self, negative_slope=0.3, **kwargs):
        alpha = kwargs.pop("alpha", None)
        super().__init__(**kwargs)
        if alpha is not None:
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
            negative_slope = alpha
        self.negative_slope = _number(f"LeakyReLU {self.name!r}", "negative_slope",
                                      negative_slope, 0.0)
        self._activation = _activations.Activation("leaky_relu", self.negative_slope)

    def _act(self):
        return self._activation

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(_ElementwiseActivationLayer):
    """x if x > 0 else alpha * (exp(x) - 1)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _number(f"ELU {self.name!r}", "alpha", alpha)
        self._activation = _activations.Activation("elu", self.alpha)

    def _act(self):
        return self._activation

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class Softmax(_ElementwiseActivationLayer):
    """Softmax over the last axis (`axis=-1`, the only axis supported)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError(f"Softmax {self.name!r}: Invalid value for argument `axis`: only "
                             f"axis=-1 is supported, received axis={axis!r}")
        self.axis = -1
        self._activation = _activations.get("softmax")

    def _act(self):
        return self._activation

    def forward(self, inputs, training=False, mask=None):
        if mask is not None:
            raise ValueError(f"Softmax {self.name!r}: `mask` is not supported")
        return super().forward(inputs, training)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Identity(Layer):
    """Returns its input unchanged (a copy: layers never alias their inputs)."""

    def forward(self, inputs, training=False):
        return _as_input(inputs).copy(), None

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        return (_as_input(dout).copy() if need_dinputs else None), []

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
