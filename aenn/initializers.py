"""Weight initializers (Keras 3 `keras.initializers`), drawn from aenn's Philox generator.

An initializer is a callable `init(shape, dtype=None) -> float32 ndarray`. Random initializers
take `seed`: an int (every call gives the same values, so a seeded instance reused for several
layers gives them identical weights), a `SeedGenerator` (advanced by each call), or None (an int
seed is derived at construction from the global seed and a per-process counter, so two layers
differ and `aenn.random.set_global_seed` makes runs repeat).

Example:

```python
init = aenn.initializers.get("he_normal")
w = init((3, 3, 16, 32))
```
"""

from __future__ import annotations

import math

import numpy as np

from . import random as _random


def _snake(name):
    import re

    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid value for argument `shape`: expected a tuple of integers, "
                         f"received shape={shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"Invalid value for argument `shape`: expected non-negative sizes, "
                         f"received shape={shape!r}")
    return shape


def _check_dtype(dtype):
    if dtype is not None and str(np.dtype(dtype)) != "float32":
        raise ValueError(f"Only dtype='float32' is supported, received dtype={dtype!r}")


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, Keras rules: axis -2 is fan-in, axis -1 fan-out and
    the leading axes form the receptive field."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None)` and `get_config()`."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        return np.zeros(_shape(shape), dtype=np.float32)


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        return np.ones(_shape(shape), dtype=np.float32)


class Constant(Initializer):
    """Every entry equal to `value` (a scalar)."""

    def __init__(self, value=0.0):
        try:
            self.value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"Invalid value for argument `value`: expected a scalar, received "
                             f"value={value!r}") from None

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        return np.full(_shape(shape), self.value, dtype=np.float32)

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """`gain` times the identity matrix (2D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer requires a 2D shape, received shape={shape}")
        return (self.gain * np.eye(*shape)).astype(np.float32)

    def get_config(self):
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Base of the random initializers: resolves `seed` (see the module docstring)."""

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            gen = _random.SeedGenerator()
            seed = gen.key[0] | (gen.key[1] << 32)
        elif isinstance(seed, _random.SeedGenerator):
            pass
        elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(
                "Invalid value for argument `seed`: expected None, an integer or a "
                f"SeedGenerator, received seed={seed!r}"
            )
        else:
            seed = int(seed)
        self.seed = seed

    def get_config(self):
        seed = self._init_seed
        return {"seed": seed if not isinstance(seed, _random.SeedGenerator) else None}


class _NormalInitializer(RandomInitializer):
    """Shared body of RandomNormal and TruncatedNormal; `_draw` is the distribution."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = float(mean), float(stddev)
        if not self.stddev >= 0:
            raise ValueError(f"Invalid value for argument `stddev`: expected stddev >= 0, "
                             f"received stddev={stddev}")
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        return self._draw(_shape(shape), self.mean, self.stddev, seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomNormal(_NormalInitializer):
    """Normal distribution N(mean, stddev**2)."""

    _draw = staticmethod(_random.normal)


class TruncatedNormal(_NormalInitializer):
    """Normal distribution N(mean, stddev**2) re-drawn outside mean ± 2*stddev."""

    _draw = staticmethod(_random.truncated_normal)


class RandomUniform(RandomInitializer):
    """Uniform distribution on [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = float(minval), float(maxval)
        if not self.minval <= self.maxval:
            raise ValueError(f"Invalid value for argument `maxval`: expected maxval >= minval, "
                             f"received minval={minval}, maxval={maxval}")
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        return _random.uniform(_shape(shape), self.minval, self.maxval, seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class VarianceScaling(RandomInitializer):
    """Scale-aware initializer: variance `scale / fan` with fan chosen by `mode`.

    Args:
        scale: positive float.
        mode: "fan_in", "fan_out" or "fan_avg".
        distribution: "truncated_normal" (std `sqrt(scale/fan)/0.8796...`, cut at ±2 std),
            "untruncated_normal" or "uniform" (limit `sqrt(3*scale/fan)`).
        seed: see the module docstring.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if not float(scale) > 0:
            raise ValueError(f"Invalid value for argument `scale`: expected a positive float, "
                             f"received scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"Invalid value for argument `mode`: expected one of "
                             f"{self._MODES}, received mode={mode!r}")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"Invalid value for argument `distribution`: expected one of "
                             f"{self._DISTRIBUTIONS}, received distribution={distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        super().__init__(seed)

    def _scale(self, shape):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        return self.scale / max(1.0, fan[self.mode])

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        shape = _shape(shape)
        scale = self._scale(shape)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978
            return _random.truncated_normal(shape, 0.0, stddev, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return _random.normal(shape, 0.0, math.sqrt(scale), seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return _random.uniform(shape, -limit, limit, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class _FixedVarianceScaling(VarianceScaling):
    _ARGS = (1.0, "fan_in", "uniform")

    def __init__(self, seed=None):
        super().__init__(*self._ARGS, seed=seed)

    def get_config(self):
        return {"seed": VarianceScaling.get_config(self)["seed"]}


class GlorotUniform(_FixedVarianceScaling):
    """U(-L, L), L = sqrt(6 / (fan_in + fan_out))."""
    _ARGS = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with variance 2 / (fan_in + fan_out)."""
    _ARGS = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """U(-L, L), L = sqrt(6 / fan_in)."""
    _ARGS = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with variance 2 / fan_in."""
    _ARGS = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """U(-L, L), L = sqrt(3 / fan_in)."""
    _ARGS = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with variance 1 / fan_in."""
    _ARGS = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR decomposition of a normal draw
    (shapes of rank >= 2 are flattened to (prod(shape[:-1]), shape[-1]))."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = float(gain)
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer requires a shape of rank >= 2, received "
                             f"shape={shape}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = _random.normal((max(rows, cols), min(rows, cols)), seed=self.seed).astype(np.float64)
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(np.float32)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


_ALIASES = {
    "zero": Zeros, "zeros": Zeros, "one": Ones, "ones": Ones, "constant": Constant,
    "identity": Identity, "normal": RandomNormal, "random_normal": RandomNormal,
    "uniform": RandomUniform, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
}
_CLASSES = {cls.__name__: cls for cls in set(_ALIASES.values())}

# Keras' functional spellings: aenn.initializers.glorot_uniform(seed=None) -> instance.
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity


def serialize(initializer):
    """{"class_name": ..., "config": ...} of an Initializer."""
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config, custom_objects=None):
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name) or _ALIASES.get(name)
    if cls is None:
        raise ValueError(f"Unknown initializer: {name!r}. Please ensure you are using a "
                         "`keras.utils.custom_object_scope` and that this object is included "
                         "in the scope.")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """An Initializer from a name ("glorot_uniform", "GlorotUniform", ...), a config dict, an
    Initializer instance or any callable(shape, dtype=None); None gives None."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier) or _ALIASES.get(
            _snake(identifier))
        if cls is None:
            raise ValueError(
                f"Could not interpret initializer identifier: {identifier!r}. Known names: "
                f"{sorted(_ALIASES)}"
            )
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
