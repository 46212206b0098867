"""ProgbarLogger: draws the Keras 3 progress bar for fit / evaluate / predict."""

from __future__ import annotations

from ..utils.progbar import Progbar
from .callback import Callback


class ProgbarLogger(Callback):
    """Prints `Epoch i/N` (when N > 1) and a progress bar per epoch (verbose 1) or one line per
    epoch (verbose 2). Inside `fit`, the validation pass draws nothing of its own."""

    def __init__(self):
        super().__init__()
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self.progbar = None
        self._in_fit = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _new_bar(self):
        self.progbar = Progbar(self.target, verbose=self.verbose, stateful_metrics=True,
                               unit_name="step")

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            Progbar.write(f"Epoch {epoch + 1}/{self.epochs}\n")
        self._new_bar()

    def on_train_batch_end(self, batch, logs=None):
        if self.progbar is not None:
            self.progbar.update(batch + 1, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is not None:
            current = max(self.progbar.current, 1) if self.target is None else self.target
            self.progbar.update(current, list((logs or {}).items()), finalize=True)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit and self.progbar is not None:
            self.progbar.update(batch + 1, list((logs or {}).items()), finalize=False)

    def on_test_end(self, logs=None):
        if not self._in_fit and self.progbar is not None:
            self.progbar.update(self.target, list((logs or {}).items()), finalize=True)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        if self.progbar is not None:
            self.progbar.update(batch + 1, finalize=False)

    def on_predict_end(self, logs=None):
        if self.progbar is not None:
            self.progbar.update(self.target, finalize=True)
