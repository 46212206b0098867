"""aenn.random seeding semantics and aenn.initializers (Keras fan rules and formulas)."""

import math

import numpy as np
import pytest

from aenn import initializers as I
from aenn import random as R


def test_seed_generator_semantics():
    g = R.SeedGenerator(42)
    a, b = R.normal((5,), seed=g), R.normal((5,), seed=g)
    assert not np.array_equal(a, b)
    g2 = R.SeedGenerator(42)
    np.testing.assert_array_equal(R.normal((5,), seed=g2), a)
    np.testing.assert_array_equal(R.uniform((6,), seed=7), R.uniform((6,), seed=7))
    R.set_global_seed(3)
    x = [R.uniform((4,)), R.SeedGenerator().key, R.SeedGenerator().key, R.permutation(9)]
    R.set_global_seed(3)
    y = [R.uniform((4,)), R.SeedGenerator().key, R.SeedGenerator().key, R.permutation(9)]
    np.testing.assert_array_equal(x[0], y[0])
    assert x[1] == y[1] and x[2] == y[2] and x[1] != x[2]
    np.testing.assert_array_equal(x[3], y[3])
    assert R.get_global_seed() == 3


def test_random_functions_shapes_and_values():
    R.set_global_seed(0)
    assert R.uniform((2, 3), 1.0, 2.0).shape == (2, 3)
    u = R.uniform((1000,), 1.0, 2.0, seed=1)
    assert u.dtype == np.float32 and u.min() >= 1.0 and u.max() < 2.0
    assert R.normal((0, 3)).shape == (0, 3)
    t = R.truncated_normal((1000,), 1.0, 0.5, seed=2)
    assert np.all(np.abs(t - 1.0) <= 1.0 + 1e-6)
    m = R.bernoulli_mask((3, 7), 0.5, seed=3)
    assert set(np.unique(m)) <= {0.0, 1.0}
    p = R.permutation(17, seed=4)
    assert p.dtype == np.int64 and sorted(p) == list(range(17))
    assert R.permutation(0).shape == (0,)
    s = R.shuffle(np.arange(10), seed=5)
    assert sorted(s) == list(range(10))


@pytest.mark.parametrize("bad", [
    lambda: R.uniform((2,), 1.0, 0.0), lambda: R.normal((2,), stddev=-1.0),
    lambda: R.bernoulli_mask((2,), 1.5), lambda: R.permutation(-1), lambda: R.uniform((-1,)),
    lambda: R.uniform((2,), seed="x"), lambda: R.set_global_seed(-1),
    lambda: R.set_global_seed(1.5), lambda: R.normal((2,), dtype="float64"),
])
def test_random_bad_arguments(bad):
    with pytest.raises(ValueError):
        bad()


def test_compute_fans():
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans((3, 5)) == (3, 5)
    assert I.compute_fans((3, 3, 4, 8)) == (36, 72)
    assert I.compute_fans((5, 4, 8)) == (20, 40)
    assert I.compute_fans(()) == (1, 1)


@pytest.mark.parametrize("name,shape,limit", [
    ("glorot_uniform", (30, 20), math.sqrt(6 / 50)),
    ("he_uniform", (3, 3, 4, 8), math.sqrt(6 / 36)),
    ("lecun_uniform", (40, 10), math.sqrt(3 / 40)),
    # Conv2DTranspose kernel (kh, kw, out, in): axis -2 (out=4) is the fan-in
    ("he_uniform", (3, 3, 4, 16), math.sqrt(6 / 36)),
])
def test_uniform_limits(name, shape, limit):
    w = I.get(name)(shape)
    assert w.dtype == np.float32 and w.shape == shape
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
    w = I.get(name)((200,) + shape[1:]) if len(shape) == 2 else w


@pytest.mark.parametrize("cls,shape,std", [
    (I.GlorotNormal, (300, 200), math.sqrt(2 / 500)),
    (I.HeNormal, (5, 5, 16, 32), math.sqrt(2 / 400)),
    (I.LecunNormal, (400, 100), math.sqrt(1 / 400)),
])
def test_normal_std(cls, shape, std):
    w = cls(seed=1)(shape)
    assert abs(w.std() / std - 1) < 0.03
    assert np.abs(w).max() <= 2 * std / 0.87962566103423978 * (1 + 1e-6)


def test_other_initializers():
    assert np.all(I.get("zeros")((2, 3)) == 0) and np.all(I.get("ones")((2,)) == 1)
    assert np.all(I.Constant(2.5)((3,)) == 2.5)
    w = I.RandomNormal(seed=0)((100000,))
    assert abs(w.std() - 0.05) < 0.001
    w = I.get("random_uniform")((1000,))
    assert np.abs(w).max() <= 0.05
    w = I.TruncatedNormal(stddev=0.1, seed=0)((1000,))
    assert np.abs(w).max() <= 0.2
    np.testing.assert_array_equal(I.Identity()((2, 3)), np.eye(2, 3))
    q = I.Orthogonal(seed=0)((6, 4))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)


def test_seeding_semantics():
    seeded = I.GlorotUniform(seed=5)
    np.testing.assert_array_equal(seeded((3, 4)), seeded((3, 4)))
    np.testing.assert_array_equal(seeded((3, 4)), I.GlorotUniform(seed=5)((3, 4)))
    R.set_global_seed(11)
    a, b = I.get("glorot_uniform")((3, 4)), I.get("glorot_uniform")((3, 4))
    assert not np.array_equal(a, b)
    R.set_global_seed(11)
    np.testing.assert_array_equal(I.get("glorot_uniform")((3, 4)), a)
    g = R.SeedGenerator(1)
    init = I.RandomNormal(seed=g)
    assert not np.array_equal(init((4,)), init((4,)))


def test_get_and_config():
    for name in ["glorot_uniform", "GlorotUniform", "he_normal", "HeNormal", "zeros", "Zeros",
                 "lecun_normal", "truncated_normal", "random_normal", "ones", "orthogonal"]:
        assert isinstance(I.get(name), I.Initializer)
    assert I.get(None) is None
    inst = I.HeUniform(seed=3)
    assert I.get(inst) is inst
    assert inst.get_config() == {"seed": 3}
    clone = I.get(I.serialize(inst))
    np.testing.assert_array_equal(clone((4, 4)), inst((4, 4)))
    rn = I.RandomNormal(mean=1.0, stddev=2.0, seed=4)
    assert rn.get_config() == {"mean": 1.0, "stddev": 2.0, "seed": 4}
    vs = I.VarianceScaling(2.0, "fan_out", "uniform", seed=1)
    assert I.VarianceScaling.from_config(vs.get_config()).mode == "fan_out"
    fn = lambda shape, dtype=None: np.zeros(shape, np.float32)
    assert I.get(fn) is fn
    with pytest.raises(ValueError):
        I.get("foo")
    with pytest.raises(ValueError):
        I.VarianceScaling(mode="bad")
    with pytest.raises(ValueError):
        I.RandomNormal(seed="x")
    with pytest.raises(ValueError):
        I.get("zeros")((2,), dtype="float64")
