"""Dropout, SpatialDropout1D/2D, GaussianNoise, GaussianDropout and ActivityRegularization
(KERAS.md 5.2-5.3, 7).

The noise layers act only in training (``training=True``, as in ``fit``); otherwise they are the
identity. Each layer owns an ``aenn.random.SeedGenerator`` (seeded by ``seed``), so a run with
the same seeds draws the same masks.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _core
from .layer import Layer
from .pooling import _check_data_format

__all__ = [
    "ActivityRegularization",
    "Dropout",
    "GaussianDropout",
    "GaussianNoise",
    "SpatialDropout1D",
    "SpatialDropout2D",
]


def _random():
    from .. import random

    return random


def _mask_mul(x, mask, scale):
    """x * mask * scale on the C kernel; mask has x's shape, or (B, 1, ..., 1, C), or any shape
    that broadcasts to x (materialised)."""
    x3 = x.reshape(x.shape[0], -1, x.shape[-1]) if x.ndim >= 2 else x.reshape(1, -1, 1)
    mask = np.asarray(mask, dtype=np.float32)
    if mask.shape == x.shape:
        m3 = np.ascontiguousarray(mask).reshape(x3.shape)
    elif (x.ndim >= 2 and mask.ndim == x.ndim and mask.shape[0] == x.shape[0]
          and mask.shape[-1] == x.shape[-1] and all(d == 1 for d in mask.shape[1:-1])):
        m3 = np.ascontiguousarray(mask).reshape(x3.shape[0], 1, x3.shape[2])
    else:
        m3 = np.ascontiguousarray(np.broadcast_to(mask, x.shape)).reshape(x3.shape)
    out = np.empty(x3.shape, np.float32)
    _core.mask_mul(out, np.ascontiguousarray(x3), m3, float(scale))
    return out.reshape(x.shape)


def _check_rate(layer, rate, upper_inclusive=True):
    ok = isinstance(rate, (int, float, np.floating, np.integer)) and not isinstance(rate, bool)
    ok = ok and 0.0 <= float(rate) <= 1.0 and (upper_inclusive or float(rate) < 1.0)
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(f"{layer}: Invalid value for argument `rate`: expected a float in "
                         f"{interval}, received rate={rate!r}")
    return float(rate)


class Dropout(Layer):
    """Inverted dropout: in training each element is kept with probability ``1 - rate`` and the
    kept ones are scaled by ``1 / (1 - rate)``; identity otherwise.

    Args:
        rate: float in [0, 1], the fraction of the inputs to drop (1 drops everything).
        noise_shape: optional shape of the binary mask, broadcast against the input (None entries
            take the input's size), e.g. ``(None, 1, features)`` to drop the same features at
            every timestep.
        seed: int seed of the layer's SeedGenerator.
    """

    def __init__(self, rate, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rate = _check_rate(type(self).__name__, rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.seed_generator = _random().SeedGenerator(seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _noise_shape(self, shape):
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `noise_shape` {self.noise_shape} does not "
                f"match the rank of the input of shape {shape}")
        return tuple(s if n is None else int(n) for n, s in zip(self.noise_shape, shape))

    def forward(self, inputs, training=False):
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        if not training or self.rate == 0.0:
            return x, None
        keep = 1.0 - self.rate
        mshape = self._noise_shape(x.shape)
        if keep == 0.0:
            mask = np.zeros(mshape, np.float32)
            scale = 0.0
        else:
            mask = _random().bernoulli_mask(mshape, keep, seed=self.seed_generator)
            scale = 1.0 / keep
        return _mask_mul(x, mask, scale), (mask, scale)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        dout = np.ascontiguousarray(dout, dtype=np.float32)
        if cache is None:
            return dout, []
        mask, scale = cache
        return _mask_mul(dout, mask, scale), []

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


class SpatialDropout1D(Dropout):
    """Drops whole feature maps: one mask entry per (sample, channel) of a (batch, steps,
    channels) input. Args: rate, seed."""

    rank = 1

    def __init__(self, rate, seed=None, name=None, **kwargs):
        super().__init__(rate, noise_shape=None, seed=seed, name=name, **kwargs)

    def _noise_shape(self, shape):
        if len(shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected an input of rank "
                             f"{self.rank + 2}, received an array of shape {shape}")
        return (shape[0],) + (1,) * self.rank + (shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape", None)
        return config


class SpatialDropout2D(SpatialDropout1D):
    """Drops whole feature maps: one mask entry per (sample, channel) of a (batch, rows, cols,
    channels) input. Args: rate, data_format ('channels_last' or None), seed."""

    rank = 2

    def __init__(self, rate, data_format=None, seed=None, name=None, **kwargs):
        self.data_format = _check_data_format(type(self).__name__, data_format)
        super().__init__(rate, seed=seed, name=name, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise of standard deviation `stddev` in training.

    Args:
        stddev: float in [0, 1].
        seed: int seed of the layer's SeedGenerator.
    """

    def __init__(self, stddev, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        ok = isinstance(stddev, (int, float, np.floating, np.integer)) and not isinstance(
            stddev, bool) and 0.0 <= float(stddev) <= 1.0
        if not ok:
            raise ValueError(f"{type(self).__name__}: Invalid value for argument `stddev`: "
                             f"expected a float in [0, 1], received stddev={stddev!r}")
        self.stddev = float(stddev)
        self.seed = seed
        self.seed_generator = _random().SeedGenerator(seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, inputs, training=False):
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        if not training or self.stddev == 0.0:
            return x, None
        noise = _random().normal(x.shape, 0.0, self.stddev, seed=self.seed_generator)
        return (x + np.asarray(noise, np.float32)).astype(np.float32), None

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        return np.ascontiguousarray(dout, dtype=np.float32), []

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(Layer):
    """Multiplies the inputs by noise ~ N(1, rate / (1 - rate)) in training.

    Args:
        rate: float in [0, 1), the drop probability of the equivalent dropout.
        seed: int seed of the layer's SeedGenerator.
    """

    def __init__(self, rate, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rate = _check_rate(type(self).__name__, rate, upper_inclusive=False)
        self.seed = seed
        self.seed_generator = _random().SeedGenerator(seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, inputs, training=False):
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        if not training or self.rate == 0.0:
            return x, None
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = np.asarray(_random().normal(x.shape, 1.0, stddev, seed=self.seed_generator),
                           np.float32)
        return _mask_mul(x, noise, 1.0), noise

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        dout = np.ascontiguousarray(dout, dtype=np.float32)
        return (dout if cache is None else _mask_mul(dout, cache, 1.0)), []

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class ActivityRegularization(Layer):
    """Identity that adds ``(l1 * sum|x| + l2 * sum x^2) / batch_size`` to the loss (the Keras >=
    3.14 activity-penalty convention) and its gradient to ``dinputs``.

    Args:
        l1: L1 factor (>= 0). l2: L2 factor (>= 0), no 1/2.
    """

    def __init__(self, l1=0.0, l2=0.0, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        for arg, v in (("l1", l1), ("l2", l2)):
            if not (isinstance(v, (int, float, np.floating, np.integer)) and float(v) >= 0.0):
                raise ValueError(f"{type(self).__name__}: Invalid value for argument `{arg}`: "
                                 f"expected a non-negative float, received {arg}={v!r}")
        self.l1, self.l2 = float(l1), float(l2)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, inputs, training=False):
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        batch = x.shape[0] if x.ndim > 0 else 1
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(x), dtype=np.float64))
        if self.l2:
            penalty += self.l2 * float(np.sum(np.square(x, dtype=np.float64)))
        self.add_loss(penalty / batch)
        return x, x

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        x = cache
        batch = x.shape[0] if x.ndim > 0 else 1
        g = np.asarray(dout, dtype=np.float32).copy()
        if self.l1:
            g += np.float32(self.l1 / batch) * np.sign(x)
        if self.l2:
            g += np.float32(2.0 * self.l2 / batch) * x
        return g, []

    def get_config(self):
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config
