"""NumPy twins of csrc/loss.c: same names and argument order, outputs returned.

y_true / y_pred are (rows, cols); values are the per-row (per-sample) Keras losses and the
reduced loss is their mean ("sum_over_batch_size"); gradients are those of the mean.
"""

import numpy as np

KINDS = {
    "binary_crossentropy": 0, "binary_crossentropy_logits": 1, "categorical_crossentropy": 2,
    "categorical_crossentropy_logits": 3, "mean_squared_error": 4, "mean_absolute_error": 5,
    "kl_divergence": 6, "huber": 7,
}
EPS = 1e-7


def _bounds(dtype):
    eps = dtype.type(EPS)
    return eps, dtype.type(1) - eps


def _logsumexp(z):
    m = z.max(axis=-1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _values(y, p, kind, param):
    eps, hi = _bounds(p.dtype)
    if kind == 0:
        q = np.clip(p, eps, hi)
        return np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q)), axis=-1)
    if kind == 1:
        return np.mean(np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p))), axis=-1)
    if kind == 2:
        q = np.clip(p / p.sum(axis=-1, keepdims=True), eps, hi)
        return -np.sum(y * np.log(q), axis=-1)
    if kind == 3:
        return np.sum(y * (_logsumexp(p) - p), axis=-1)
    if kind == 4:
        return np.mean((y - p) ** 2, axis=-1)
    if kind == 5:
        return np.mean(np.abs(y - p), axis=-1)
    if kind == 6:
        t, q = np.clip(y, eps, 1), np.clip(p, eps, 1)
        return np.sum(t * np.log(t / q), axis=-1)
    if kind == 7:
        e = p - y
        a = np.abs(e)
        return np.mean(np.where(a <= param, 0.5 * e * e, param * a - 0.5 * param * param), axis=-1)
    raise ValueError(f"unknown loss kind {kind}")


def loss_forward(y_true, y_pred, kind, param):
    """Returns (values (rows,), loss = mean(values))."""
    values = _values(y_true, y_pred, kind, param).astype(y_pred.dtype)
    return values, float(np.mean(values.astype(np.float64)))


def loss_backward(y_true, y_pred, kind, param):
    """d mean(values) / d y_pred, (rows, cols)."""
    y, p = y_true, y_pred
    rows, cols = p.shape
    eps, hi = _bounds(p.dtype)
    inside = (p >= eps) & (p <= hi)
    if kind == 0:
        g = np.where(inside, -y / p + (1 - y) / (1 - p), 0) / cols
    elif kind == 1:
        g = (1 / (1 + np.exp(-p)) - y) / cols
    elif kind == 2:
        s = p.sum(axis=-1, keepdims=True)
        q = p / s
        gq = np.where((q >= eps) & (q <= hi), -y / q, 0)
        g = (gq - np.sum(gq * q, axis=-1, keepdims=True)) / s
    elif kind == 3:
        g = _softmax(p) * y.sum(axis=-1, keepdims=True) - y
    elif kind == 4:
        g = 2 * (p - y) / cols
    elif kind == 5:
        g = np.sign(p - y) / cols
    elif kind == 6:
        t = np.clip(y, eps, 1)
        g = np.where((p >= eps) & (p <= 1), -t / p, 0)
    elif kind == 7:
        e = p - y
        g = np.where(np.abs(e) <= param, e, param * np.sign(e)) / cols
    else:
        raise ValueError(f"unknown loss kind {kind}")
    return (g / rows).astype(p.dtype)


def sparse_cce_forward(labels, y_pred, from_logits):
    """labels (rows,) int; TensorFlow's form: log(sum clip(p)) - log clip(p)[label]."""
    p = y_pred
    rows = np.arange(p.shape[0])
    if from_logits:
        values = _logsumexp(p)[:, 0] - p[rows, labels]
    else:
        eps, hi = _bounds(p.dtype)
        q = np.clip(p, eps, hi)
        values = np.log(q.sum(axis=-1)) - np.log(q[rows, labels])
    values = values.astype(p.dtype)
    return values, float(np.mean(values.astype(np.float64)))


def sparse_cce_backward(labels, y_pred, from_logits):
    p = y_pred
    n = p.shape[0]
    onehot = np.zeros_like(p)
    onehot[np.arange(n), labels] = 1
    if from_logits:
        g = _softmax(p) - onehot
    else:
        eps, hi = _bounds(p.dtype)
        q = np.clip(p, eps, hi)
        g = 1 / q.sum(axis=-1, keepdims=True) - onehot / q
        g = np.where((p >= eps) & (p <= hi), g, 0)
    return (g / n).astype(p.dtype)
