"""LearningRateScheduler: set the learning rate from a schedule function at each epoch."""

from __future__ import annotations

import numbers

import numpy as np

from .monitor import Callback


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of every epoch.

    Args:
        schedule: a function ``schedule(epoch, lr) -> new_lr`` (``epoch`` 0-based, ``lr`` the
            current rate as a float); a one-argument function ``schedule(epoch)`` is accepted too.
        verbose: 0 or 1 (prints the rate set at each epoch).

    The rate in force is added to the epoch logs as ``learning_rate``.

    Example:

    >>> def scheduler(epoch, lr):
    ...     return lr if epoch < 10 else lr * 0.9
    >>> callback = LearningRateScheduler(scheduler)
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(
                "Invalid value for argument `schedule`: expected a callable, "
                f"received schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(optimizer.learning_rate)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # a schedule that only takes the epoch
            lr = self.schedule(epoch)
        if isinstance(lr, np.ndarray) and lr.ndim == 0:
            lr = lr.item()
        if not isinstance(lr, (numbers.Real, np.floating, np.integer)) or isinstance(lr, bool):
            raise ValueError(
                'The output of the "schedule" function should be a float. '
                f"Got: {lr!r}"
            )
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
