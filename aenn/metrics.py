"""Metrics: stateful means of per-sample values, accumulated batch-size weighted (Keras 3).

`get(identifier, y_true, y_pred)` resolves `"accuracy"` / `"acc"` from the shapes of the first
batch exactly as Keras does:

1. ``y_pred.shape[-1] == 1`` -> binary accuracy (threshold 0.5);
2. else if ``y_true.ndim < y_pred.ndim`` or (``y_true.shape[-1] == 1``) -> sparse categorical;
3. else -> categorical accuracy (argmax equality).

The log key is the user's string (``"accuracy"``, ``"acc"``, ``"mse"``...).
"""

from __future__ import annotations

import numpy as np


# ----- per-element metric functions (Keras functional forms) ------------------------------------
def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true = np.asarray(y_true, dtype=np.float32)
    y_pred = (np.asarray(y_pred) > threshold).astype(np.float32)
    return np.mean(y_true == y_pred, axis=-1)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true.astype(np.int64) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def mean_squared_error(y_true, y_pred):
    d = np.asarray(y_pred, np.float32) - np.asarray(y_true, np.float32)
    return np.mean(d * d, axis=-1)


def mean_absolute_error(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_pred, np.float32) - np.asarray(y_true, np.float32)),
                   axis=-1)


# ----- metric objects ---------------------------------------------------------------------------
class Metric:
    """Base class: `update_state(y_true, y_pred)`, `result()`, `reset_state()`."""

    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()
        self.reset_state()

    def reset_state(self):
        pass

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """Weighted mean of the values given to `update_state(values, sample_weight=None)`."""

    def __init__(self, name="mean"):
        super().__init__(name=name)

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if isinstance(values, (float, int, np.floating)) and (
                sample_weight is None or type(sample_weight) in (int, float)):
            # Scalar fast path (the training loop's loss tracker, once per step).
            w = 1 if sample_weight is None else sample_weight
            self.total += float(values) * w
            self.count += float(w)
            return
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            self.total += float(np.sum(values))
            self.count += float(values.size)
        else:
            self.total += float(np.sum(values * sample_weight))
            self.count += float(np.sum(np.broadcast_to(sample_weight, values.shape)))

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """Mean over samples of `fn(y_true, y_pred)` (per-element values averaged per sample)."""

    def __init__(self, fn, name=None, **fn_kwargs):
        self._fn = fn
        self._fn_kwargs = fn_kwargs
        super().__init__(name=name or getattr(fn, "__name__", "metric"))

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = np.asarray(self._fn(y_true, y_pred, **self._fn_kwargs))
        if sample_weight is None and values.ndim == 1:
            # One value per sample (accuracy, mse, ...): sum in float64, no temporaries.
            self.total += float(values.sum(dtype=np.float64))
            self.count += float(values.shape[0])
            return
        values = values.astype(np.float64, copy=False)
        if values.ndim == 0:
            values = values.reshape(1)
        per_sample = values.reshape(values.shape[0], -1).mean(axis=1) if values.ndim > 1 \
            else values
        super().update_state(per_sample, sample_weight)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", threshold=0.5):
        super().__init__(binary_accuracy, name=name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy"):
        super().__init__(categorical_accuracy, name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if (sample_weight is None and type(y_true) is np.ndarray and type(y_pred) is np.ndarray
                and y_true.ndim == 2 and y_true.shape == y_pred.shape):
            # The training loop's case: count the matches, no float arrays.
            hits = np.count_nonzero(y_true.argmax(axis=1) == y_pred.argmax(axis=1))
            self.total += float(hits)
            self.count += float(y_pred.shape[0])
            return
        super().update_state(y_true, y_pred, sample_weight)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name=name)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name)


_BY_NAME = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
}


def _accuracy_class(y_true, y_pred):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.shape[-1] == 1:
        return BinaryAccuracy
    if y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
        return SparseCategoricalAccuracy
    return CategoricalAccuracy


def get(identifier, y_true=None, y_pred=None):
    """A Metric from a string, a Metric instance or a callable fn(y_true, y_pred).

    "accuracy"/"acc" need `y_true` and `y_pred` (one batch) to pick the accuracy kind.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier
        if key in ("accuracy", "acc"):
            if y_true is None or y_pred is None:
                raise ValueError("Resolving metric 'accuracy' needs a batch of y_true/y_pred.")
            return _accuracy_class(y_true, y_pred)(name=identifier)
        if key in _BY_NAME:
            return _BY_NAME[key](name=identifier)
        from . import losses

        fn = getattr(losses, key, None)
        if callable(fn) and not isinstance(fn, type):
            return MeanMetricWrapper(fn, name=identifier)
        raise ValueError(f"Unknown metric: {identifier!r}. Use one of 'accuracy', "
                         f"{sorted(_BY_NAME)}, a loss function name, or a callable.")
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def is_max_better(name):
    """Whether larger values of the metric logged as `name` are better (accuracy-type)."""
    base = name.removeprefix("val_")
    return base in ("accuracy", "acc") or base.endswith("accuracy")
