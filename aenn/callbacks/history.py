"""History: records the epoch logs of `fit` (`model.history`)."""

from __future__ import annotations

from .callback import Callback


class History(Callback):
    """`history.history` maps each log key to a list of floats (one per epoch);
    `history.epoch` lists the 0-based epoch indices."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}
        if self.model is not None:
            self.model.history = self

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))
        if self.model is not None:
            self.model.history = self
