"""Utilities (Keras ``keras.utils``): one-hot encoding, normalization, seeding."""

from .numerical import normalize, to_categorical
from .rng import set_random_seed

__all__ = ["to_categorical", "normalize", "set_random_seed"]
