"""Philox4x32-10 kernels: known answers, C vs the NumPy twin (bitwise), threads, statistics."""

import numpy as np
import pytest

from aenn import _core
from aenn.reference import rng as ref

KNOWN = [  # Random123 kat_vectors, philox4x32_10
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("ctr,key,expected", KNOWN)
def test_philox_known_answers(ctr, key, expected):
    assert _core.philox4x32_10(*ctr, *key) == expected
    got = ref.philox4x32_10(*ctr, *key)
    assert tuple(int(x) for x in got) == expected


def _c(name, shape, *args):
    out = np.empty(shape, np.float32)
    getattr(_core, "rng_" + name)(out, *args)
    return out


CASES = [("uniform", (-1.5, 2.0)), ("normal", (0.5, 2.0)), ("truncated_normal", (-1.0, 0.3)),
         ("bernoulli", (0.3,))]


@pytest.mark.parametrize("name,params", CASES)
@pytest.mark.parametrize("shape", [(1,), (3,), (7,), (17,), (5, 3, 7)])
def test_c_matches_reference_bitwise(name, params, shape):
    key = (12345, 0xDEADBEEF, (7 << 32) + 3)
    c = _c(name, shape, *key, *params)
    r = getattr(ref, "rng_" + name)(shape, *key, *params)
    assert r.dtype == np.float32 and r.shape == shape
    np.testing.assert_array_equal(c.view(np.uint32), r.view(np.uint32))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 17, 1000])
def test_permutation_matches_reference(n):
    out = np.empty(n, np.int64)
    _core.rng_permutation(out, 5, 6, 7)
    np.testing.assert_array_equal(out, ref.rng_permutation(n, 5, 6, 7))
    np.testing.assert_array_equal(np.sort(out), np.arange(n))


def test_values_depend_only_on_index():
    # a longer draw starts with the shorter one: element i depends on (key, counter, i) only
    for name, params in CASES:
        a = _c(name, (10,), 1, 2, 3, *params)
        b = _c(name, (1001,), 1, 2, 3, *params)
        np.testing.assert_array_equal(a, b[:10])


def test_threads_bitwise():
    outs = []
    for t in (1, 2):
        _core.set_num_threads(t)
        try:
            res = [_c(name, (100003,), 9, 8, 7, *params) for name, params in CASES]
            p = np.empty(50001, np.int64)
            _core.rng_permutation(p, 9, 8, 7)
            res.append(p)
        finally:
            _core.set_num_threads(2)
        outs.append(res)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_statistics():
    n = 200000
    u = _c("uniform", (n,), 1, 1, 0, 0.0, 1.0)
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.std() - np.sqrt(1 / 12)) < 0.005
    z = _c("normal", (n,), 1, 1, 1, 0.0, 1.0)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs(np.mean(z ** 4) - 3) < 0.1
    t = _c("truncated_normal", (n,), 1, 1, 2, 0.0, 1.0)
    assert np.abs(t).max() <= 2.0 and abs(t.mean()) < 0.01
    assert abs(t.std() - 0.87962566103423978) < 0.01
    m = _c("bernoulli", (n,), 1, 1, 3, 0.3)
    assert set(np.unique(m)) <= {0.0, 1.0} and abs(m.mean() - 0.3) < 0.005
    # different counters and keys give different streams
    assert not np.array_equal(_c("uniform", (8,), 1, 1, 0, 0., 1.), _c("uniform", (8,), 1, 1, 1, 0., 1.))
    assert not np.array_equal(_c("uniform", (8,), 1, 1, 0, 0., 1.), _c("uniform", (8,), 1, 2, 0, 0., 1.))


def test_bernoulli_edges():
    assert _c("bernoulli", (100,), 1, 2, 3, 0.0).sum() == 0
    assert _c("bernoulli", (100,), 1, 2, 3, 1.0).sum() == 100


def test_bad_arguments():
    out = np.empty(4, np.float32)
    with pytest.raises(TypeError):
        _core.rng_uniform(np.empty(4, np.float64), 1, 2, 3, 0.0, 1.0)
    with pytest.raises(TypeError):
        _core.rng_uniform([0.0], 1, 2, 3, 0.0, 1.0)
    with pytest.raises(ValueError):
        _core.rng_uniform(np.empty((4, 4), np.float32)[:, ::2], 1, 2, 3, 0.0, 1.0)
    ro = np.empty(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        _core.rng_uniform(ro, 1, 2, 3, 0.0, 1.0)
    with pytest.raises(ValueError):
        _core.rng_uniform(np.empty(0, np.float32), 1, 2, 3, 0.0, 1.0)
    with pytest.raises(ValueError):
        _core.rng_uniform(out, -1, 2, 3, 0.0, 1.0)
    with pytest.raises(ValueError):
        _core.rng_uniform(out, 1, 2 ** 32, 3, 0.0, 1.0)
    with pytest.raises(ValueError):
        _core.rng_uniform(out, 1, 2, -3, 0.0, 1.0)
    with pytest.raises(ValueError):
        _core.rng_uniform(out, 1, 2, 3, 1.0, 0.0)
    with pytest.raises(ValueError):
        _core.rng_normal(out, 1, 2, 3, 0.0, -1.0)
    with pytest.raises(ValueError):
        _core.rng_normal(out, 1, 2, 3, float("nan"), 1.0)
    with pytest.raises(ValueError):
        _core.rng_bernoulli(out, 1, 2, 3, 1.5)
    with pytest.raises(TypeError):
        _core.rng_permutation(np.empty(4, np.int32), 1, 2, 3)
    with pytest.raises(ValueError):
        _core.rng_permutation(np.empty((2, 2), np.int64), 1, 2, 3)
    with pytest.raises(ValueError):
        _core.philox4x32_10(0, 0, 0, 2 ** 32, 0, 0)
