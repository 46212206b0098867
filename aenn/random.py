"""Random numbers: seed generators and the draws built on aenn's Philox4x32-10 kernels.

Every random value in aenn (weight initialisation, shuffling, dropout masks, noise, sampling)
comes from `csrc/rng.c`. A draw is addressed by a generator's 64-bit key and its draw counter,
so results depend only on the seed and the order of draws, never on the thread count or the
machine.

Example:

```python
gen = aenn.random.SeedGenerator(42)
a = aenn.random.normal((2, 3), seed=gen)       # advances gen
b = aenn.random.uniform((4,), seed=7)          # an int seed: the same values on every call
aenn.random.set_global_seed(1)                 # unseeded generators repeat from here on
```
"""

from __future__ import annotations

import os
import random as _pyrandom

import numpy as np

from . import _core

_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1

# The global seed: random per process until set_global_seed() is called (as in Keras, unseeded
# runs differ from process to process).
_global_seed = int.from_bytes(os.urandom(8), "little")
_global_seed_was_set = False
_creation_count = 0
_global_generator = None


def set_global_seed(seed):
    """Seeds every unseeded generator created from now on, and Python's and NumPy's.

    After `set_global_seed(s)` the sequence of SeedGenerators created without a seed (and so
    every unseeded initializer, dropout layer, shuffle, ...) repeats exactly.

    Args:
        seed: a non-negative integer.
    """
    global _global_seed, _global_seed_was_set, _creation_count, _global_generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"Invalid value for argument `seed`: expected a non-negative integer, received "
            f"seed={seed!r}"
        )
    seed = int(seed)
    _global_seed = seed & _MASK64
    _global_seed_was_set = True
    _creation_count = 0
    _global_generator = None
    _pyrandom.seed(seed)
    np.random.seed(seed & _MASK32)


def get_global_seed():
    """The seed set by set_global_seed(), or None if it was never called."""
    return _global_seed if _global_seed_was_set else None


def _check_int_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(  # noqa: TRY004 (Keras raises ValueError)
            "Invalid value for argument `seed`: expected None, an integer or a SeedGenerator, "
            f"received seed={seed!r}"
        )
    return int(seed) & _MASK64


class SeedGenerator:
    """A stream of random draws: a Philox key and a draw counter.

    Args:
        seed: an integer, or None to derive the key from the global seed and the number of
            unseeded generators created so far in this process (so two unseeded layers get
            different values, and `set_global_seed` makes everything repeat).

    Each draw through `aenn.random.*(..., seed=generator)` uses the next counter value.
    """

    def __init__(self, seed=None, **kwargs):
        global _creation_count
        kwargs.pop("name", None)
        if kwargs:
            raise TypeError(f"SeedGenerator: unrecognized keyword arguments: {sorted(kwargs)}")
        self._seed = None if seed is None else _check_int_seed(seed)
        if self._seed is None:
            index = _creation_count
            _creation_count += 1
            g = _global_seed
            words = _core.philox4x32_10(index & _MASK32, (index >> 32) & _MASK32, 0x5EED5EED, 0,
                                        g & _MASK32, (g >> 32) & _MASK32)
            self.key = (int(words[0]), int(words[1]))
        else:
            self.key = (self._seed & _MASK32, (self._seed >> 32) & _MASK32)
        self.counter = 0

    @property
    def seed(self):
        return self._seed

    def next(self):
        """Returns (k0, k1, counter) for one draw and advances the counter."""
        c = self.counter
        self.counter = (self.counter + 1) & _MASK64
        return self.key[0], self.key[1], c

    def get_config(self):
        return {"seed": self._seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator key=({self.key[0]:#x}, {self.key[1]:#x}), counter={self.counter}>"


def global_seed_generator():
    """The generator used by draws with seed=None (recreated by set_global_seed)."""
    global _global_generator
    if _global_generator is None:
        _global_generator = SeedGenerator()
    return _global_generator


def draw_key(seed=None):
    """(k0, k1, counter) for one draw: from a SeedGenerator (advanced), an int (a fresh
    generator, so the same int gives the same values) or None (the global generator)."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return global_seed_generator().next()
    return SeedGenerator(_check_int_seed(seed)).next()


def _shape(shape):
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(
            "Invalid value for argument `shape`: expected a tuple of non-negative integers, "
            f"received shape={shape!r}"
        ) from None
    if any(s < 0 for s in shape):
        raise ValueError(
            "Invalid value for argument `shape`: expected a tuple of non-negative integers, "
            f"received shape={shape!r}"
        )
    return shape


def _dtype(dtype):
    if dtype is not None and np.dtype(dtype) != np.float32:
        raise ValueError(f"Only dtype='float32' is supported, received dtype={dtype!r}")


def _finite(name, value):
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"Invalid value for argument `{name}`: expected a finite number, "
                         f"received {name}={value!r}")
    return value


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """float32 values drawn uniformly from [minval, maxval)."""
    shape = _shape(shape)
    _dtype(dtype)
    minval, maxval = _finite("minval", minval), _finite("maxval", maxval)
    if minval > maxval:
        raise ValueError(f"Invalid value for argument `maxval`: expected maxval >= minval, "
                         f"received minval={minval}, maxval={maxval}")
    out = np.empty(shape, dtype=np.float32)
    k0, k1, c = draw_key(seed)
    if out.size:
        _core.rng_uniform(out, k0, k1, c, minval, maxval)
    return out


def _fill_normal(kernel, shape, mean, stddev, dtype, seed):
    """Checks (shape, mean, stddev) and fills a new float32 array with `kernel`."""
    shape = _shape(shape)
    _dtype(dtype)
    mean, stddev = _finite("mean", mean), _finite("stddev", stddev)
    if stddev < 0:
        raise ValueError(f"Invalid value for argument `stddev`: expected stddev >= 0, "
                         f"received stddev={stddev}")
    out = np.empty(shape, dtype=np.float32)
    k0, k1, c = draw_key(seed)
    if out.size:
        kernel(out, k0, k1, c, mean, stddev)
    return out


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """float32 values from the normal distribution N(mean, stddev**2)."""
    return _fill_normal(_core.rng_normal, shape, mean, stddev, dtype, seed)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """float32 normal values re-drawn until within mean ± 2*stddev."""
    return _fill_normal(_core.rng_truncated_normal, shape, mean, stddev, dtype, seed)


def bernoulli_mask(shape, keep_prob, seed=None):
    """float32 array of 1.0 (probability keep_prob) and 0.0."""
    shape = _shape(shape)
    keep_prob = _finite("keep_prob", keep_prob)
    if not 0.0 <= keep_prob <= 1.0:
        raise ValueError(f"Invalid value for argument `keep_prob`: expected a float in [0, 1], "
                         f"received keep_prob={keep_prob}")
    out = np.empty(shape, dtype=np.float32)
    k0, k1, c = draw_key(seed)
    if out.size:
        _core.rng_bernoulli(out, k0, k1, c, keep_prob)
    return out


def permutation(n, seed=None):
    """A random permutation of range(n) as an int64 array."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"Invalid value for argument `n`: expected a non-negative integer, "
                         f"received n={n!r}")
    out = np.empty(int(n), dtype=np.int64)
    k0, k1, c = draw_key(seed)
    if out.size:
        _core.rng_permutation(out, k0, k1, c)
    return out


def shuffle(x, axis=0, seed=None):
    """A copy of x with its entries along `axis` in random order."""
    x = np.asarray(x)
    return np.take(x, permutation(x.shape[axis], seed=seed), axis=axis)
