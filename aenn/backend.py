"""Backend utilities (Keras ``keras.backend`` / ``keras.config``): data format, epsilon, floatx.

aenn has a single backend (its C core), works in float32 and channels-last layout only.
"""

from __future__ import annotations

_EPSILON = 1e-7


def backend():
    """The name of the backend: ``"aenn"``."""
    return "aenn"


def image_data_format():
    """The image data format: always ``"channels_last"`` (NHWC / NWC)."""
    return "channels_last"


def set_image_data_format(data_format):
    """Accepts only ``"channels_last"``; aenn has no channels-first kernels."""
    if data_format != "channels_last":
        raise ValueError(
            "Invalid value for argument `data_format`: aenn supports only 'channels_last', "
            f"received data_format={data_format!r}"
        )


def epsilon():
    """The fuzz factor used in numeric expressions (default ``1e-7``)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor returned by `epsilon()`."""
    global _EPSILON
    _EPSILON = float(value)


def floatx():
    """The default float type: always ``"float32"``."""
    return "float32"


def set_floatx(value):
    """Accepts only ``"float32"``."""
    if str(value) != "float32":
        raise ValueError(
            f"Invalid value for argument `value`: aenn supports only 'float32', received value={value!r}"
        )


def int_shape(x):
    """The shape of a tensor as a tuple of ints / None.

    A symbolic ``KerasTensor`` gives its static shape with ``None`` for the batch axis; a NumPy
    array (or a Variable) gives its actual shape, as in Keras.
    """
    shape = getattr(x, "shape", None)
    if shape is None:
        raise ValueError(f"Invalid value for argument `x`: expected a tensor or array, received {x!r}")
    return tuple(None if d is None else int(d) for d in shape)


def clear_session():
    """Resets the global state: default layer names (``dense``, ``dense_1``, ... start again) and
    the counters of aenn's global random generator (unseeded SeedGenerators created afterwards
    draw the same streams as in a fresh process with the same global seed)."""
    from . import naming

    naming.reset()
    try:
        from . import random as aenn_random
    except ImportError:  # pragma: no cover - before the random module is merged
        return
    for name in ("clear_session", "reset_global_generator", "_reset"):
        fn = getattr(aenn_random, name, None)
        if callable(fn):
            fn()
            break


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Float32 samples from a normal distribution drawn by aenn's Philox generator."""
    if dtype is not None:
        set_floatx(dtype)
    from . import random as aenn_random

    return aenn_random.normal(tuple(shape), mean=mean, stddev=stddev, seed=seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Float32 samples from a uniform distribution drawn by aenn's Philox generator."""
    if dtype is not None:
        set_floatx(dtype)
    from . import random as aenn_random

    return aenn_random.uniform(tuple(shape), minval=minval, maxval=maxval, seed=seed)


def __getattr__(name):
    # Keras-2 style `K.square(x)`, `K.exp`, ...: thin re-exports of aenn.ops (arrays or
    # KerasTensors).
    if name in ("square", "exp", "sum", "mean", "log", "abs", "sqrt", "clip", "maximum",
                "minimum", "reshape"):
        from . import ops

        return getattr(ops, name)
    raise AttributeError(f"module 'aenn.backend' has no attribute {name!r}")
