"""Sampling: the reparameterisation layer of a variational autoencoder (keras.io VAE example)."""

from __future__ import annotations

import numpy as np

from .layer import Layer

__all__ = ["Sampling"]


def _exp(x):
    """exp through the C activation kernel when aenn.activations is available."""
    try:
        from .. import activations

        return activations.get("exponential").forward(np.ascontiguousarray(x, np.float32))
    except (ImportError, ValueError, AttributeError):
        return np.exp(x).astype(np.float32)


class Sampling(Layer):
    """Draws ``z = z_mean + exp(0.5 * z_log_var) * epsilon`` with ``epsilon ~ N(0, 1)``.

    Called on ``[z_mean, z_log_var]`` (same shapes, e.g. ``(batch, latent_dim)``); returns ``z``
    of that shape. As in the keras.io VAE layer, ``epsilon`` is drawn on every call, in training
    and in inference (``predict`` is therefore random; use ``z_mean`` for a deterministic code).

    Unlike the keras.io layer, which leaves the KL term to a custom ``train_step``, this layer
    ALSO adds the KL divergence to the model loss by default (``add_kl=True``):
    ``kl_weight * mean_over_batch(sum_over_latent(-0.5 * (1 + z_log_var - z_mean^2 -
    exp(z_log_var))))``, via ``self.add_loss``; its backward adds the KL gradient to the
    gradients of ``z_mean`` and ``z_log_var``. So a VAE is just
    ``model.compile(optimizer, loss=reconstruction_loss)``. Pass ``add_kl=False`` to get the
    plain keras.io layer (and add the KL yourself).

    Args:
        add_kl: whether to add the KL term to the loss (default True).
        kl_weight: factor of the KL term (default 1.0; "beta" of a beta-VAE).
        seed: int seed of the layer's SeedGenerator.
    """

    def __init__(self, add_kl=True, kl_weight=1.0, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(kl_weight, (int, float, np.floating, np.integer)) or kl_weight < 0:
            raise ValueError(f"{type(self).__name__}: Invalid value for argument `kl_weight`: "
                             f"expected a non-negative float, received kl_weight={kl_weight!r}")
        self.add_kl = bool(add_kl)
        self.kl_weight = float(kl_weight)
        self.seed = seed
        from .. import random

        self.seed_generator = random.SeedGenerator(seed)

    def _check_shapes(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) != 2 or not all(
                isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(f"Sampling {self.name!r}: expected two inputs [z_mean, z_log_var], "
                             f"received input_shape={shapes!r}")
        a, b = tuple(shapes[0]), tuple(shapes[1])
        if len(a) != len(b) or any(x is not None and y is not None and x != y
                                   for x, y in zip(a, b)):
            raise ValueError(f"Sampling {self.name!r}: `z_mean` and `z_log_var` must have the "
                             f"same shape, received z_mean shape {a} and z_log_var shape {b}")
        return a

    def build(self, input_shape):
        self._check_shapes(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return self._check_shapes(input_shape)

    def forward(self, inputs, training=False):
        from .. import random

        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"Sampling {self.name!r}: expected two inputs [z_mean, z_log_var], "
                             f"received {type(inputs).__name__}")
        z_mean = np.ascontiguousarray(inputs[0], np.float32)
        z_log_var = np.ascontiguousarray(inputs[1], np.float32)
        self._check_shapes([z_mean.shape, z_log_var.shape])
        eps = np.asarray(random.normal(z_mean.shape, 0.0, 1.0, seed=self.seed_generator),
                         np.float32)
        std = _exp(np.float32(0.5) * z_log_var)
        z = z_mean + std * eps
        var = None
        if self.add_kl:
            var = _exp(z_log_var)
            lv, zm = z_log_var.astype(np.float64), z_mean.astype(np.float64)
            per = -0.5 * (1.0 + lv - zm * zm - var.astype(np.float64))
            batch = z_mean.shape[0] if z_mean.ndim > 0 else 1
            self.add_loss(self.kl_weight * float(per.sum()) / batch)
        return z.astype(np.float32), (z_mean, eps, std, var)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        z_mean, eps, std, var = cache
        dout = np.asarray(dout, np.float32)
        d_mean = dout.copy()
        d_log_var = dout * eps * np.float32(0.5) * std
        if self.add_kl:
            batch = z_mean.shape[0] if z_mean.ndim > 0 else 1
            w = np.float32(self.kl_weight / batch)
            d_mean += w * z_mean
            d_log_var += w * np.float32(0.5) * (var - np.float32(1.0))
        return [d_mean.astype(np.float32), d_log_var.astype(np.float32)], []

    def get_config(self):
        config = super().get_config()
        config.update({"add_kl": self.add_kl, "kl_weight": self.kl_weight, "seed": self.seed})
        return config
