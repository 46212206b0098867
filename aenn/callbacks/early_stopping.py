"""EarlyStopping: stop training when a monitored quantity has stopped improving."""

from __future__ import annotations

from .monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stops training when a monitored quantity has stopped improving (Keras 3 semantics).

    Each epoch the monitored value is compared with the best so far; after ``patience`` epochs
    without improvement (and never at the first epoch) ``model.stop_training`` is set.

    Args:
        monitor: quantity to watch, default ``"val_loss"``.
        min_delta: minimum change that counts as an improvement (its sign is ignored).
        patience: number of epochs without improvement after which training stops.
        verbose: 0 (silent) or 1 (prints when it stops and when it restores weights).
        mode: ``"auto"``, ``"min"`` or ``"max"``; ``"auto"`` is ``min`` for losses and the
            metric's direction for metrics.
        baseline: value the monitored quantity must beat; epochs that improve on the best value
            but not on the baseline still count towards ``patience``.
        restore_best_weights: keep a copy of the weights of the best epoch and restore them at
            the end of training. As in Keras 3 they are restored at the end of training
            whenever a snapshot exists, also when training ran all epochs without stopping
            (tf.keras 2 restored only when it stopped training itself).
        start_from_epoch: number of epochs to wait before monitoring starts (warm-up).

    Example:

    >>> callback = EarlyStopping(monitor="loss", patience=3)
    >>> history = model.fit(x, x, epochs=10, callbacks=[callback])  # doctest: +SKIP
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, baseline=baseline, min_delta=min_delta)
        if int(patience) != patience or patience < 0:
            raise ValueError(
                "Invalid value for argument `patience`: expected a non-negative integer, "
                f"received patience={patience!r}"
            )
        if int(start_from_epoch) != start_from_epoch or start_from_epoch < 0:
            raise ValueError(
                "Invalid value for argument `start_from_epoch`: expected a non-negative "
                f"integer, received start_from_epoch={start_from_epoch!r}"
            )
        self.patience = int(patience)
        self.verbose = verbose
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self._direction is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # The first monitored epoch is the reference even when it does not improve.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
