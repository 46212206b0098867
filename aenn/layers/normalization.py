"""BatchNormalization (KERAS.md 5.1) on the C kernels of csrc/norm.c."""

from __future__ import annotations

import numpy as np

from .. import _core
from .core import _resolve, _serialize
from .layer import Layer

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    """Normalizes the last axis with batch statistics in training and moving statistics otherwise.

    Training mode (``training=True`` and ``layer.trainable``): the output is
    ``gamma * (x - mean) / sqrt(var + epsilon) + beta`` with the mean and the biased variance of
    the batch over every axis but the last, and the moving statistics are updated as
    ``moving = momentum * moving + (1 - momentum) * batch_stat``. Otherwise (inference, or a
    frozen layer even inside ``fit``) the moving statistics are used and nothing is updated.

    Args:
        axis: the normalized axis; only -1 (channels-last) is supported.
        momentum: momentum of the moving averages (Keras semantics: 0.99 keeps 99%).
        epsilon: small float added to the variance.
        center: if True, add the offset `beta`.
        scale: if True, multiply by `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: initializers.
        beta_regularizer, gamma_regularizer: optional regularizers.

    Weights, in order: gamma (if scale), beta (if center), moving_mean, moving_variance (the last
    two non-trainable), each of shape (channels,).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        cls = type(self).__name__
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if axis != -1 and not (isinstance(axis, int) and axis > 0):
            raise ValueError(f"{cls}: Invalid value for argument `axis`: expected -1 (the last "
                             f"axis), received axis={axis!r}")
        self.axis = axis
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"{cls}: Invalid value for argument `momentum`: expected a float in "
                             f"[0, 1], received momentum={momentum!r}")
        if not float(epsilon) > 0.0:
            raise ValueError(f"{cls}: Invalid value for argument `epsilon`: expected a positive "
                             f"float, received epsilon={epsilon!r}")
        if beta_constraint is not None or gamma_constraint is not None:
            raise ValueError(f"{cls}: weight constraints are not supported by aenn")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer = _resolve("regularizers", beta_regularizer)
        self.gamma_regularizer = _resolve("regularizers", gamma_regularizer)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if ndim < 2:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected an input of rank >= "
                             f"2, received input_shape={input_shape}")
        if self.axis != -1 and self.axis != ndim - 1:
            raise ValueError(f"{type(self).__name__} {self.name!r}: only the last axis can be "
                             f"normalized (axis=-1), received axis={self.axis} for input_shape="
                             f"{input_shape}")
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the last axis of the input "
                             f"must be known, received input_shape={input_shape}")
        shape = (int(channels),)
        if self.scale:
            self.gamma = self.add_weight(shape, _resolve("initializers", self.gamma_initializer),
                                         "gamma", True, self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight(shape, _resolve("initializers", self.beta_initializer),
                                        "beta", True, self.beta_regularizer)
        self.moving_mean = self.add_weight(
            shape, _resolve("initializers", self.moving_mean_initializer), "moving_mean", False)
        self.moving_variance = self.add_weight(
            shape, _resolve("initializers", self.moving_variance_initializer), "moving_variance",
            False)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, inputs, training=False):
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        C = self.moving_mean.shape[0]
        if x.ndim < 2 or x.shape[-1] != C:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected inputs with last "
                             f"axis {C}, received an array of shape {x.shape}")
        x2 = x.reshape(-1, C)
        gamma = self.gamma.value if self.gamma is not None else None
        beta = self.beta.value if self.beta is not None else None
        out = np.empty_like(x2)
        if training and self.trainable:
            mean, inv_std, var = (np.empty(C, np.float32) for _ in range(3))
            _core.batchnorm_forward_train(out, mean, inv_std, var, x2, gamma, beta, self.epsilon)
            m = np.float32(self.momentum)
            one_m = np.float32(1.0) - m
            self.moving_mean.value[...] = self.moving_mean.value * m + mean * one_m
            self.moving_variance.value[...] = self.moving_variance.value * m + var * one_m
            cache = (x2, mean, inv_std, gamma, True, x.shape)
        else:
            mm = self.moving_mean.value.copy()
            mv = self.moving_variance.value
            _core.batchnorm_forward_infer(out, x2, gamma, beta, mm, mv, self.epsilon)
            inv_std = (np.float32(1.0) / np.sqrt(mv + np.float32(self.epsilon))).astype(np.float32)
            cache = (x2, mm, inv_std, gamma, False, x.shape)
        return out.reshape(x.shape), cache

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        x2, mean, inv_std, gamma, training, shape = cache
        C = x2.shape[1]
        d2 = np.ascontiguousarray(dout, dtype=np.float32).reshape(-1, C)
        dinp = np.empty_like(x2) if need_dinputs else None
        dgamma = np.empty(C, np.float32) if self.gamma is not None else None
        dbeta = np.empty(C, np.float32) if self.beta is not None else None
        _core.batchnorm_backward(dinp, dgamma, dbeta, d2, x2, mean, inv_std, gamma, training)
        grads = []
        for w in self.weights:
            if w is self.gamma:
                grads.append(dgamma)
            elif w is self.beta:
                grads.append(dbeta)
            else:
                grads.append(None)
        return (dinp.reshape(shape) if need_dinputs else None), grads

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _serialize(self.beta_initializer),
            "gamma_initializer": _serialize(self.gamma_initializer),
            "moving_mean_initializer": _serialize(self.moving_mean_initializer),
            "moving_variance_initializer": _serialize(self.moving_variance_initializer),
            "beta_regularizer": _serialize(self.beta_regularizer),
            "gamma_regularizer": _serialize(self.gamma_regularizer),
        })
        return config
