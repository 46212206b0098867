"""aenn.utils: to_categorical, normalize, set_random_seed (KERAS.md §14.1, §14.3)."""

import random
import sys
import types

import numpy as np
import pytest

from aenn.utils import normalize, set_random_seed, to_categorical
from aenn.utils import rng


def test_to_categorical_keras3():
    y = to_categorical([0, 2, 1])
    assert y.dtype == np.float64  # K3: float64 for NumPy input
    np.testing.assert_array_equal(y, np.eye(3)[[0, 2, 1]])
    y = to_categorical(np.array([[1], [3]]), num_classes=5)  # trailing axis of 1 dropped
    assert y.shape == (2, 5) and y[1, 3] == 1 and y.sum() == 2
    y = to_categorical(np.array([[0, 1], [2, 0]]))
    assert y.shape == (2, 2, 3)
    y = to_categorical(np.array([1, 0], np.uint8), num_classes=2, dtype="float32")
    assert y.dtype == np.float32
    assert to_categorical(np.array([1.0, 0.0])).tolist() == [[0, 1], [1, 0]]


def test_to_categorical_errors():
    with pytest.raises(ValueError, match="class indices must be in"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="class indices must be in"):
        to_categorical([-1, 0])
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([0], num_classes=0)
    with pytest.raises(ValueError, match="integer class indices"):
        to_categorical([0.5])


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, axis=0), [[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(np.array([[1, 3]]), order=1), [[0.25, 0.75]])
    x32 = np.ones((2, 4), np.float32)
    assert normalize(x32).dtype == np.float32


def test_set_random_seed_python_numpy(monkeypatch):
    calls = []
    fake = types.ModuleType("aenn.random")
    fake.set_global_seed = calls.append
    import aenn

    monkeypatch.setitem(sys.modules, "aenn.random", fake)
    monkeypatch.setattr(aenn, "random", fake, raising=False)
    set_random_seed(1234)
    a = (random.random(), np.random.rand())
    set_random_seed(1234)
    b = (random.random(), np.random.rand())
    assert a == b and calls == [1234, 1234]
    assert rng.get_random_seed() == 1234
    for bad in (1.5, "3", None, True):
        with pytest.raises(ValueError, match="integer"):
            set_random_seed(bad)
    set_random_seed(2**40)  # larger than NumPy's 32-bit legacy seed range is accepted
