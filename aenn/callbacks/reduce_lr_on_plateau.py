"""ReduceLROnPlateau: reduce the learning rate when a metric has stopped improving."""

from __future__ import annotations

import warnings

import numpy as np

from .monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by ``factor`` after ``patience`` epochs without improvement.

    Every epoch it also writes the learning rate used during that epoch into the logs under
    ``learning_rate`` (Keras 3; tf.keras 2 used ``lr``), so it appears in ``History`` and on the
    progress bar.

    Args:
        monitor: quantity to watch, default ``"val_loss"``.
        factor: factor by which the learning rate is reduced, ``new_lr = lr * factor``; must be
            < 1.
        patience: number of epochs without improvement after which the rate is reduced.
        verbose: 0 or 1 (prints each reduction).
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: threshold for measuring a new optimum (default 1e-4).
        cooldown: number of epochs to wait after a reduction before counting again.
        min_lr: lower bound on the learning rate.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if "epsilon" in kwargs:  # old spelling of min_delta
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unrecognized keyword arguments: {sorted(kwargs)}")
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                "ReduceLROnPlateau does not support a factor >= 1.0. "
                f"Received factor={factor}"
            )
        self.factor = float(factor)
        self.min_lr = float(min_lr)
        self.patience = int(patience)
        self.verbose = verbose
        self.cooldown = int(cooldown)
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                "Learning rate reduction is conditioned on metric "
                f"`{self.monitor}` which is not available. Available metrics are: "
                f"{','.join(sorted(logs))}.",
                stacklevel=2,
            )
            return
        current = float(current)
        if self._direction is None:
            self._set_monitor_op()
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                              f"rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
