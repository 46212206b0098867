"""Keras losses computed by aenn's C core: values, "sum_over_batch_size" reduction, gradients.

Every built-in loss is a `Loss` object: `loss(y_true, y_pred)` returns the reduced value (a
float), `loss.value_and_grad(y_true, y_pred)` also returns the gradient with respect to
`y_pred`. The module-level functions (`mean_squared_error`, `mse`, `binary_crossentropy`, ...)
return Keras's per-sample values (the mean or sum over the last axis), like `keras.losses.mse`.

Like TensorFlow, binary cross-entropy on a sigmoid output and (sparse) categorical
cross-entropy on a softmax output can be computed from the pre-activation logits: the model
engine passes `logits=` to `value_and_grad` when `loss.supports_logits(activation_name)`, and
the gradient returned is then with respect to the logits.
"""

import numpy as np

from . import _core
from .reference.loss import KINDS as _KINDS

__all__ = [
    "KLD",
    "MAE",
    "MSE",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Huber",
    "KLDivergence",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "deserialize",
    "get",
    "huber",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "serialize",
    "sparse_categorical_crossentropy",
]

_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "none", None, "auto")


def _f32(x, name, loss_name):
    if hasattr(x, "value") and not isinstance(x, np.ndarray):
        x = x.value
    try:
        arr = np.ascontiguousarray(x, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{loss_name}: Invalid value for argument `{name}`: expected a numeric "
                         f"array, received {type(x).__name__} ({e})") from None
    if arr.size == 0:
        raise ValueError(f"{loss_name}: Invalid value for argument `{name}`: expected a "
                         f"non-empty array, received shape {arr.shape}")
    return arr


def _align(y_true, y_pred, loss_name):
    """Keras's squeeze_or_expand_to_same_rank, then an exact shape check."""
    yt = np.asarray(y_true.value if hasattr(y_true, "value") and
                    not isinstance(y_true, np.ndarray) else y_true)
    if yt.ndim == y_pred.ndim + 1 and yt.shape[-1:] == (1,):
        yt = yt.reshape(yt.shape[:-1])
    elif y_pred.ndim == yt.ndim + 1 and y_pred.shape[-1] == 1:
        yt = yt.reshape(yt.shape + (1,))
    if yt.shape != y_pred.shape:
        raise ValueError(f"{loss_name}: `y_true` and `y_pred` must have the same shape, received "
                         f"y_true.shape={np.shape(y_true)} and y_pred.shape={y_pred.shape}")
    return _f32(yt, "y_true", loss_name)


def _rows_cols(shape):
    if len(shape) == 0:
        return 1, 1
    cols = shape[-1]
    return int(np.prod(shape[:-1], dtype=np.int64)) if len(shape) > 1 else 1, cols


class Loss:
    """Base class: subclasses implement `call(y_true, y_pred)` (per-sample values) and, to be
    trainable, `value_and_grad`.

    Args:
        name: the loss name.
        reduction: `"sum_over_batch_size"` (default; `"mean"` and `"auto"` are the same),
            `"sum"`, or `"none"`/None (then `__call__` returns the per-sample values).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`: expected one of "
                             f"{list(_REDUCTIONS)}, received reduction={reduction!r}")
        self.name = name or type(self).__name__
        self.reduction = "sum_over_batch_size" if reduction in ("mean", "auto") else reduction

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__}.call")

    def supports_logits(self, activation_name):
        """True when this loss can be computed from the logits of `activation_name`."""
        return False

    def _reduce(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64)
            while sw.ndim > values.ndim and sw.shape[-1] == 1:
                sw = sw.reshape(sw.shape[:-1])
            values = values * sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
        if self.reduction in ("none", None):
            return values.astype(np.float32)
        total = float(np.sum(values))
        return total if self.reduction == "sum" else total / max(values.size, 1)

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self._reduce(self.call(y_true, y_pred), sample_weight)

    def value_and_grad(self, y_true, y_pred, logits=None):
        raise NotImplementedError(
            f"Loss {self.name!r} has no gradient: subclass `aenn.losses.Loss` and implement "
            "`value_and_grad(y_true, y_pred, logits=None) -> (loss, dloss/dy_pred)`.")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class _CoreLoss(Loss):
    """A loss computed by `_core.loss_forward/loss_backward` on (rows, last axis)."""

    _prob_kind = None    # kind for probabilities / plain predictions
    _logits_kind = None  # kind used from logits (None: not supported)
    _logits_activation = None

    def __init__(self, name, reduction="sum_over_batch_size", from_logits=False,
                 label_smoothing=0.0, param=0.0, dtype=None):
        super().__init__(name=name, reduction=reduction)
        self.from_logits = bool(from_logits)
        label_smoothing = float(label_smoothing)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{type(self).__name__}: Invalid value for argument "
                             f"`label_smoothing`: expected a number in [0, 1], received "
                             f"label_smoothing={label_smoothing}")
        self.label_smoothing = label_smoothing
        self._param = float(param)

    def supports_logits(self, activation_name):
        return (self._logits_kind is not None and not self.from_logits
                and activation_name == self._logits_activation)

    def _smooth(self, yt):
        return yt

    def _prepare(self, y_true, y_pred):
        yp = _f32(y_pred, "y_pred", self.name)
        yt = self._smooth(_align(y_true, yp, self.name))
        return yt, yp

    def _run(self, yt, yp, kind, want_grad):
        rows, cols = _rows_cols(yp.shape)
        yt2, yp2 = yt.reshape(rows, cols), yp.reshape(rows, cols)
        values = np.empty(rows, dtype=np.float32)
        loss = _core.loss_forward(values, yt2, yp2, kind, self._param)
        grad = None
        if want_grad:
            grad = np.empty_like(yp)
            _core.loss_backward(grad.reshape(rows, cols), yt2, yp2, kind, self._param)
        return values.reshape(yp.shape[:-1]), loss, grad

    def call(self, y_true, y_pred):
        yt, yp = self._prepare(y_true, y_pred)
        kind = self._logits_kind if self.from_logits else self._prob_kind
        return self._run(yt, yp, kind, False)[0]

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None or self.reduction in ("none", None):
            return super().__call__(y_true, y_pred, sample_weight)
        yt, yp = self._prepare(y_true, y_pred)
        kind = self._logits_kind if self.from_logits else self._prob_kind
        values, loss, _ = self._run(yt, yp, kind, False)
        return loss * values.size if self.reduction == "sum" else loss

    def value_and_grad(self, y_true, y_pred, logits=None):
        """Returns (loss, grad): the reduced loss (float) and its gradient with respect to
        `y_pred`, or with respect to `logits` when they are given (see `supports_logits`)."""
        if self.reduction in ("none", None):
            raise ValueError(f"{self.name}: value_and_grad needs a reduction, this loss has "
                             f"reduction={self.reduction!r}")
        yt, yp = self._prepare(y_true, y_pred)
        kind = self._logits_kind if self.from_logits else self._prob_kind
        if logits is not None:
            if self._logits_kind is None or self.from_logits:
                raise ValueError(f"{self.name}: cannot be computed from logits (check "
                                 "`supports_logits(activation)` before passing `logits=`)")
            z = _f32(logits, "logits", self.name)
            if z.shape != yp.shape:
                raise ValueError(f"{self.name}: `logits` has shape {z.shape} but `y_pred` has "
                                 f"shape {yp.shape}")
            yp, kind = z, self._logits_kind
        values, loss, grad = self._run(yt, yp, kind, True)
        if self.reduction == "sum":
            loss *= values.size
            grad *= np.float32(values.size)
        return loss, grad

    def get_config(self):
        config = super().get_config()
        if self._logits_kind is not None:
            config["from_logits"] = self.from_logits
        return config


class BinaryCrossentropy(_CoreLoss):
    """Binary cross-entropy: mean over the last axis of -[y log p + (1-y) log(1-p)], with p
    clipped to [1e-7, 1 - 1e-7] (or computed stably from logits when `from_logits=True`)."""

    _prob_kind = _KINDS["binary_crossentropy"]
    _logits_kind = _KINDS["binary_crossentropy_logits"]
    _logits_activation = "sigmoid"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        _check_axis(axis, name)
        super().__init__(name, reduction, from_logits, label_smoothing)

    def _smooth(self, yt):
        if self.label_smoothing:
            ls = np.float32(self.label_smoothing)
            yt = yt * (np.float32(1) - ls) + np.float32(0.5) * ls
        return yt

    def get_config(self):
        config = super().get_config()
        config["label_smoothing"] = self.label_smoothing
        return config


class CategoricalCrossentropy(_CoreLoss):
    """Categorical cross-entropy on one-hot (or soft) labels: -sum_c y log p, with p
    renormalised over the last axis and clipped to [1e-7, 1 - 1e-7]."""

    _prob_kind = _KINDS["categorical_crossentropy"]
    _logits_kind = _KINDS["categorical_crossentropy_logits"]
    _logits_activation = "softmax"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        _check_axis(axis, name)
        super().__init__(name, reduction, from_logits, label_smoothing)

    def _prepare(self, y_true, y_pred):
        yp = _f32(y_pred, "y_pred", self.name)
        yt_shape = np.shape(y_true)
        if (yp.ndim >= 1 and len(yt_shape) == yp.ndim and yt_shape[:-1] == yp.shape[:-1]
                and yt_shape[-1] != yp.shape[-1]):
            hint = (" If your labels are integer class indices, use "
                    "sparse_categorical_crossentropy." if yt_shape[-1] == 1 else "")
            raise ValueError(
                f"{self.name}: the one-hot width of `y_true` ({yt_shape[-1]}) does not match "
                f"the number of units of the output ({yp.shape[-1]}): received "
                f"y_true.shape={tuple(yt_shape)} and y_pred.shape={yp.shape}.{hint}")
        yt = _align(y_true, yp, self.name)
        if self.label_smoothing:
            ls = np.float32(self.label_smoothing)
            yt = yt * (np.float32(1) - ls) + ls / np.float32(yp.shape[-1])
        return yt, yp

    def get_config(self):
        config = super().get_config()
        config["label_smoothing"] = self.label_smoothing
        return config


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer labels (class indices) of shape y_pred.shape[:-1]
    (a trailing axis of size 1 is squeezed)."""

    def __init__(self, from_logits=False, ignore_class=None, axis=-1,
                 reduction="sum_over_batch_size", name="sparse_categorical_crossentropy",
                 dtype=None):
        _check_axis(axis, name)
        if ignore_class is not None:
            raise ValueError(f"{name}: `ignore_class` is not supported, received "
                             f"ignore_class={ignore_class!r}")
        super().__init__(name=name, reduction=reduction)
        self.from_logits = bool(from_logits)

    def supports_logits(self, activation_name):
        return not self.from_logits and activation_name == "softmax"

    def _prepare(self, y_true, y_pred):
        yp = _f32(y_pred, "y_pred", self.name)
        if yp.ndim < 1:
            raise ValueError(f"{self.name}: `y_pred` must have a class axis, received shape "
                             f"{yp.shape}")
        labels = np.asarray(y_true.value if hasattr(y_true, "value") and
                            not isinstance(y_true, np.ndarray) else y_true)
        if labels.ndim == yp.ndim and labels.shape[-1:] == (1,):
            labels = labels.reshape(labels.shape[:-1])
        if labels.shape != yp.shape[:-1]:
            hint = (" `y_true` looks one-hot encoded: use categorical_crossentropy."
                    if labels.shape == yp.shape else "")
            raise ValueError(
                f"{self.name}: expected integer labels of shape {yp.shape[:-1]} (y_pred.shape "
                f"without its class axis), received y_true.shape={np.shape(y_true)} and "
                f"y_pred.shape={yp.shape}.{hint}")
        if labels.dtype.kind not in "iub":
            if labels.dtype.kind != "f":
                raise ValueError(f"{self.name}: expected integer class indices in `y_true`, "
                                 f"received dtype {labels.dtype}")
            bad = ~np.isfinite(labels) | (labels != np.round(labels))
            if bad.any():
                raise ValueError(f"{self.name}: expected integer class indices in `y_true`, "
                                 f"received the non-integer value {float(labels[bad].flat[0])!r}")
        classes = yp.shape[-1]
        if labels.size:
            lo, hi = labels.min(), labels.max()
            if lo < 0 or hi >= classes:
                badv = lo if lo < 0 else hi
                raise ValueError(
                    f"{self.name}: `y_true` has a label value of {badv:g} which is outside "
                    f"the valid range of [0, {classes}): y_pred has {classes} classes "
                    f"(received y_true.shape={labels.shape} and y_pred.shape={yp.shape}).")
        return np.ascontiguousarray(labels, dtype=np.int32), yp

    def _run(self, labels, yp, from_logits, want_grad):
        rows, cols = _rows_cols(yp.shape)
        l1, yp2 = labels.reshape(rows), yp.reshape(rows, cols)
        values = np.empty(rows, dtype=np.float32)
        loss = _core.sparse_cce_forward(values, l1, yp2, from_logits)
        grad = None
        if want_grad:
            grad = np.empty_like(yp)
            _core.sparse_cce_backward(grad.reshape(rows, cols), l1, yp2, from_logits)
        return values.reshape(yp.shape[:-1]), loss, grad

    def call(self, y_true, y_pred):
        labels, yp = self._prepare(y_true, y_pred)
        return self._run(labels, yp, self.from_logits, False)[0]

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None or self.reduction in ("none", None):
            return super().__call__(y_true, y_pred, sample_weight)
        labels, yp = self._prepare(y_true, y_pred)
        values, loss, _ = self._run(labels, yp, self.from_logits, False)
        return loss * values.size if self.reduction == "sum" else loss

    def value_and_grad(self, y_true, y_pred, logits=None):
        if self.reduction in ("none", None):
            raise ValueError(f"{self.name}: value_and_grad needs a reduction, this loss has "
                             f"reduction={self.reduction!r}")
        labels, yp = self._prepare(y_true, y_pred)
        from_logits = self.from_logits
        if logits is not None:
            if self.from_logits:
                raise ValueError(f"{self.name}: cannot take `logits=` with from_logits=True")
            z = _f32(logits, "logits", self.name)
            if z.shape != yp.shape:
                raise ValueError(f"{self.name}: `logits` has shape {z.shape} but `y_pred` has "
                                 f"shape {yp.shape}")
            yp, from_logits = z, True
        values, loss, grad = self._run(labels, yp, from_logits, True)
        if self.reduction == "sum":
            loss *= values.size
            grad *= np.float32(values.size)
        return loss, grad

    def get_config(self):
        config = super().get_config()
        config["from_logits"] = self.from_logits
        return config


class MeanSquaredError(_CoreLoss):
    """Mean over the last axis of (y_true - y_pred)^2."""

    _prob_kind = _KINDS["mean_squared_error"]

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name, reduction)


class MeanAbsoluteError(_CoreLoss):
    """Mean over the last axis of |y_true - y_pred|."""

    _prob_kind = _KINDS["mean_absolute_error"]

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name, reduction)


class KLDivergence(_CoreLoss):
    """sum over the last axis of y log(y / p), both clipped to [1e-7, 1]."""

    _prob_kind = _KINDS["kl_divergence"]

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name, reduction)


class Huber(_CoreLoss):
    """Mean over the last axis of e^2/2 where |e| <= delta, delta*|e| - delta^2/2 elsewhere
    (e = y_pred - y_true)."""

    _prob_kind = _KINDS["huber"]

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        try:
            delta = float(delta)
        except (TypeError, ValueError):
            delta = float("nan")
        if not (delta > 0 and np.isfinite(delta)):
            raise ValueError(f"Huber: Invalid value for argument `delta`: expected a positive "
                             f"number, received delta={delta}")
        super().__init__(name, reduction, param=delta)
        self.delta = delta

    def get_config(self):
        config = super().get_config()
        config["delta"] = self.delta
        return config


class LossFunctionWrapper(Loss):
    """Wraps a plain function fn(y_true, y_pred) -> per-sample values. It can be evaluated;
    training with it needs a gradient (subclass `Loss` and implement `value_and_grad`)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)


def _check_axis(axis, name):
    if axis != -1:
        raise ValueError(f"{name}: only axis=-1 is supported, received axis={axis}")


# ---- functional forms: per-sample values ------------------------------------------------------

def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    return SparseCategoricalCrossentropy(from_logits, ignore_class, axis).call(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().call(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    return KLDivergence().call(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    return Huber(delta).call(y_true, y_pred)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
kld = KLD = kullback_leibler_divergence = kl_divergence

_BY_NAME = {
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "KLD": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "huber": Huber, "huber_loss": Huber,
}
_CLASSES = {cls.__name__: cls for cls in (
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError,
    MeanAbsoluteError, KLDivergence, Huber)}
_FUNCTIONS = {
    binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    kl_divergence: KLDivergence, huber: Huber,
}
_METRIC_NAMES = {"accuracy", "acc", "binary_accuracy", "categorical_accuracy",
                 "sparse_categorical_accuracy", "top_k_categorical_accuracy", "auc", "precision",
                 "recall"}


def get(identifier):
    """Resolves a loss name, class name, config dict, `Loss` instance or function to a `Loss`.

    Example:

    >>> aenn.losses.get("mse")(np.zeros((2, 3)), np.ones((2, 3)))
    1.0
    """
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier]()
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        hint = (f" {identifier!r} is a metric, not a loss: pass it as "
                f"`metrics=[{identifier!r}]` in `compile()`." if identifier in _METRIC_NAMES
                else "")
        raise ValueError(f"Unknown loss function: {identifier!r}.{hint} Valid names: "
                         f"{sorted(_BY_NAME)}")
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]()
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config, custom_objects=None):
    if isinstance(config, str):
        if custom_objects and config in custom_objects:
            return get(custom_objects[config])
        return get(config)
    class_name = config.get("class_name")
    cls = (custom_objects or {}).get(class_name) or _CLASSES.get(class_name)
    if cls is None:
        raise ValueError(f"Unknown loss class: {class_name!r}. Pass it in `custom_objects`.")
    return cls.from_config(config.get("config", {}))
