"""Global seeding: ``aenn.utils.set_random_seed`` (Keras ``keras.utils.set_random_seed``)."""

from __future__ import annotations

import random as _py_random

import numpy as np

_global_seed = None


def get_random_seed():
    """The seed last given to `set_random_seed`, or None."""
    return _global_seed


def set_random_seed(seed):
    """Sets all random seeds: Python's `random`, NumPy's global generator and aenn's own.

    aenn draws every random number it uses (weight initialisation, shuffling, dropout masks,
    noise, sampling) from its own counter-based generator (Philox4x32-10) seeded here, so a
    given seed gives the same results on every platform, NumPy version and thread count.
    Python's and NumPy's global generators are seeded too, as Keras does, for user code.

    Args:
        seed: an integer.
    """
    global _global_seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            "Expected `seed` argument to be an integer. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"Invalid value for argument `seed`: expected a non-negative integer, "
                         f"received seed={seed}")
    _global_seed = seed
    _py_random.seed(seed)
    np.random.seed(seed % (2**32))
    try:
        from .. import random as aenn_random
    except ImportError:  # pragma: no cover - before the random module is merged
        return
    aenn_random.set_global_seed(seed)
