"""ModelCheckpoint: save the model (or its weights) during training."""

from __future__ import annotations

import os
import warnings

from .monitor import MonitorCallback


_MODEL_EXTS = (".aenn", ".keras", ".h5", ".hdf5")
_WEIGHTS_EXTS = (".weights.npz", ".weights.h5")


class ModelCheckpoint(MonitorCallback):
    """Saves the model or its weights at the end of every epoch (or every `save_freq` batches).

    Args:
        filepath: where to save; formatted with ``str.format`` using ``epoch`` (1-based) and the
            epoch's log values, e.g. ``"ae-{epoch:02d}-{val_loss:.4f}.aenn"``. A full model is
            saved to a path ending in ``.aenn`` or ``.keras`` (aenn's zip format in both cases;
            ``.h5`` is accepted and also holds the zip format); weights only
            (``save_weights_only=True``) to a path ending in ``.weights.npz`` or ``.weights.h5``
            (NumPy ``.npz`` content in both cases).
        monitor: the log key compared when ``save_best_only=True``.
        verbose: 0 or 1 (prints a line each time it saves or skips).
        save_best_only: only save when the monitored quantity improved; the file is then
            overwritten unless ``filepath`` has format fields that change.
        save_weights_only: save only the weights (``model.save_weights``).
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see EarlyStopping).
        save_freq: ``"epoch"`` or an integer number of batches.
        initial_value_threshold: initial "best" value; only values that beat it are saved.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode)
        filepath = os.fspath(filepath)
        if save_weights_only:
            if not filepath.endswith(_WEIGHTS_EXTS):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.npz` or `.weights.h5`. "
                    f"Received: filepath={filepath}"
                )
        elif not filepath.endswith(_MODEL_EXTS):
            raise ValueError(
                "The filepath provided must end in `.aenn` or `.keras` (aenn's model file "
                f"format). Received: filepath={filepath}"
            )
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(
                "Invalid value for argument `save_freq`: expected 'epoch' or a positive "
                f"integer, received save_freq={save_freq!r}"
            )
        self.filepath = filepath
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold
        self._batches_seen = 0
        self._current_epoch = 0

    def on_train_begin(self, logs=None):
        self._batches_seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _get_file_path(self, epoch, batch, logs):
        logs = {k: _plain(v) for k, v in (logs or {}).items()}
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". '
                f"Reason: {e!r} is not in the logs (available: {sorted(logs)})."
            ) from None

    def _write(self, path):
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def _save(self, epoch, batch, logs):
        path = self._get_file_path(epoch, batch, logs)
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            self._write(path)
            return
        if self._direction is None:
            self._set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available, skipping.",
                stacklevel=2,
            )
            return
        current = float(current)
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                previous = "None" if self.best is None else f"{self.best:.5f}"
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {previous} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
            self._write(path)
        elif self.verbose > 0:
            previous = "None" if self.best is None else f"{self.best:.5f}"
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {previous}")


def _plain(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value
