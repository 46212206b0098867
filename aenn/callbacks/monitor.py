"""Shared "monitor" logic of the callbacks that watch a logged quantity.

EarlyStopping, ModelCheckpoint and ReduceLROnPlateau all compare a value from the epoch logs
(``monitor``, e.g. ``"val_loss"``) with the best value seen so far. As in Keras 3:

* ``mode="min"`` / ``"max"`` pick the direction; ``mode="auto"`` uses ``min`` for losses
  (``loss``, ``val_loss``, any name ending in ``loss``) and the metric's natural direction for
  metrics (accuracy-type metrics, AUC, precision, recall → ``max``; error metrics such as
  ``mae`` / ``mse`` → ``min``). A name whose direction is unknown raises ``ValueError`` asking
  for an explicit ``mode``.
* An improvement is ``current < best - |min_delta|`` (min) or ``current > best + |min_delta|``
  (max); the first observed value (``best is None``) always counts as an improvement.
"""

from __future__ import annotations

import math
import warnings

from .callback import Callback


# Metric names (without the `val_` prefix) whose larger values are better.
_MAX_METRICS = {
    "acc", "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "auc", "precision",
    "recall", "f1_score", "fbeta_score", "r2_score", "true_positives", "true_negatives",
    "iou", "mean_iou", "one_hot_iou", "one_hot_mean_iou", "binary_iou", "cosine_similarity",
    "specificity_at_sensitivity", "sensitivity_at_specificity", "precision_at_recall",
    "recall_at_precision",
}
# Metric names whose smaller values are better.
_MIN_METRICS = {
    "mse", "mae", "mape", "msle", "rmse", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "root_mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "kl_divergence", "kld", "kullback_leibler_divergence",
    "poisson", "hinge", "squared_hinge", "categorical_hinge", "log_cosh", "logcosh", "huber",
    "false_positives", "false_negatives", "binary_focal_crossentropy",
    "categorical_focal_crossentropy", "mean", "sum",
}


def metric_direction(name):
    """``"min"`` or ``"max"`` for a logged quantity name, or None when it is unknown."""
    base = name[4:] if name.startswith("val_") else name
    if base == "loss" or base.endswith("loss") or base.endswith("_loss"):
        return "min"
    if base in _MAX_METRICS or base.endswith("_accuracy") or base.endswith("_acc"):
        return "max"
    if base in _MIN_METRICS or base.endswith("_error") or base.endswith("crossentropy"):
        return "min"
    return None


def resolve_mode(monitor, mode, model=None):
    """The concrete direction ("min"/"max") for `monitor` under `mode` (Keras 3 rules)."""
    if mode in ("min", "max"):
        return mode
    direction = None
    # A metric object on the model may declare its own direction (Keras 3 `_direction`).
    base = monitor[4:] if monitor.startswith("val_") else monitor
    for metric in getattr(model, "metrics", None) or []:
        if getattr(metric, "name", None) == base:
            direction = getattr(metric, "_direction", None) or getattr(metric, "direction", None)
            if direction in ("up", "max"):
                direction = "max"
            elif direction in ("down", "min"):
                direction = "min"
            else:
                direction = None
            break
    if direction is None:
        direction = metric_direction(monitor)
    if direction is None:
        raise ValueError(
            f"Could not infer the direction of monitor={monitor!r} (mode='auto'). "
            "Please specify `mode='min'` or `mode='max'` explicitly."
        )
    return direction


def as_float(value):
    """A log value as a Python float (0-d arrays and NumPy scalars included)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


class MonitorCallback(Callback):
    """Base of the callbacks that track the best value of ``monitor``.

    Args:
        monitor: the log key to watch.
        mode: one of ``"auto"``, ``"min"``, ``"max"``; anything else warns and falls back to
            ``"auto"`` as Keras does.
        baseline: optional reference value the monitored quantity must beat.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.baseline = baseline
        self.min_delta = abs(float(min_delta))
        self.best = None
        self._direction = None

    @property
    def monitor_op_name(self):
        return self._direction

    def _set_monitor_op(self):
        self._direction = resolve_mode(self.monitor, self.mode, self.model)

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        if self._direction is None:
            self._set_monitor_op()
        if self._direction == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__}: the monitored quantity `{self.monitor}` is not "
                f"available in the logs. Available keys: {sorted(logs)}.",
                stacklevel=3,
            )
            return None
        return as_float(value)


def is_nan_or_inf(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return False
    return math.isnan(value) or math.isinf(value)
