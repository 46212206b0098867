"""Numerical utilities: one-hot encoding and normalization (Keras ``keras.utils``)."""

from __future__ import annotations

import numpy as np


def to_categorical(x, num_classes=None, dtype=None):
    """Converts a class vector (integers) to a one-hot class matrix.

    Like Keras 3, a trailing axis of size 1 is dropped first and the output has shape
    ``x.shape + (num_classes,)`` with dtype **float64** for NumPy input; pass ``dtype="float32"``
    (the tf.keras 2 default) to get float32 directly.

    Args:
        x: array-like of class indices in ``[0, num_classes)``.
        num_classes: total number of classes; default ``max(x) + 1``.
        dtype: output dtype; ``None`` means float64 (Keras 3 behaviour).

    Returns:
        The one-hot NumPy array.

    Example:

    >>> to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
            raise ValueError(
                "Invalid value for argument `x`: expected integer class indices, received "
                "non-integer values"
            )
    elif x.dtype.kind not in "iub":
        raise ValueError(
            f"Invalid value for argument `x`: expected integer class indices, received dtype {x.dtype}"
        )
    x = x.astype(np.int64)
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    elif int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(
            "Invalid value for argument `num_classes`: expected a positive integer, received "
            f"num_classes={num_classes!r}"
        )
    num_classes = int(num_classes)
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"Invalid value for argument `x`: class indices must be in [0, {num_classes}), "
            f"received values in [{x.min()}, {x.max()}]"
        )
    out = np.zeros((x.shape[0], num_classes), dtype=np.float64 if dtype is None else dtype)
    out[np.arange(x.shape[0]), x] = 1
    return out.reshape(tuple(input_shape) + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Normalizes an array to unit ``order``-norm along ``axis`` (zero vectors stay zero).

    Args:
        x: array to normalize.
        axis: axis along which to normalize.
        order: normalization order (e.g. ``order=2`` for the L2 norm).

    Returns:
        A normalized copy of ``x`` (float64 for integer input, else ``x``'s float dtype).
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        x = x.astype(np.float64)
    if axis is None:  # the whole array as one vector
        norm = np.linalg.norm(x.reshape(-1), order)
        return x / (norm if norm != 0 else 1)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
