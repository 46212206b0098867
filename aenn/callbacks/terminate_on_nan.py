"""TerminateOnNaN: stop training as soon as the loss becomes NaN or infinite."""

from __future__ import annotations

from .monitor import Callback, is_nan_or_inf


class TerminateOnNaN(Callback):
    """Sets ``model.stop_training`` when a batch's ``loss`` is NaN or infinite.

    Prints ``Batch N: Invalid loss, terminating training`` (N 0-based) as Keras does.
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and is_nan_or_inf(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)
