"""The Philox fills of every instruction-set build and thread count give the generic build's bits.

The fills run Philox on 32 blocks at once (AVX-512 / AVX2 intrinsics, plain C for generic) and
re-draw the truncated normal's rejects in batches; each element must still depend only on
(key, counter, its index). Checked on odd sizes (partial blocks and groups), on sizes that split
over two threads, with counters and keys at the 32-bit word boundaries, and against the NumPy
twin in aenn/reference/rng.py.
"""

import numpy as np
import pytest

from aenn import _core
from aenn.reference import rng as ref

FILLS = [("uniform", (-1.5, 2.0)), ("normal", (0.5, 2.0)), ("truncated_normal", (-1.0, 0.3)),
         ("bernoulli", (0.3,))]
SIZES = [1, 3, 7, 17, 129, 4099, 70001]
KEYS = [  # (k0, k1, counter): counters just below / at 2^32 and at 2^64 - 1, extreme keys
    (12345, 0xDEADBEEF, (7 << 32) + 3),
    (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
    (0, 0, 1 << 32),
    (1, 2, (1 << 64) - 1),
]


def _fill(name, n, key, params):
    out = np.empty(n, np.float32)
    getattr(_core, "rng_" + name)(out, *key, *params)
    return out


def _runs(fn):
    """fn() under every available ISA and 1 and 2 threads, as {(isa, threads): result}."""
    old_isa, old_threads = _core.isa(), _core.get_num_threads()
    res = {}
    try:
        for isa in _core.available_isas():
            _core.set_isa(isa)
            for t in (1, 2):
                _core.set_num_threads(t)
                res[(isa, t)] = fn()
    finally:
        _core.set_isa(old_isa)
        _core.set_num_threads(old_threads)
    return res


@pytest.mark.parametrize("name,params", FILLS)
@pytest.mark.parametrize("key", KEYS)
def test_fills_same_bits_every_isa_and_thread_count(name, params, key):
    res = _runs(lambda: [_fill(name, n, key, params) for n in SIZES])
    base = res[("generic", 1)]
    for k, outs in res.items():
        for n, a, b in zip(SIZES, base, outs):
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), (k, n)
    # and the generic build is the NumPy twin's definition (the longest size holds the others:
    # element i depends on its index only)
    want = getattr(ref, "rng_" + name)((SIZES[-1],), *key, *params)
    np.testing.assert_array_equal(base[-1].view(np.uint32), want.view(np.uint32))
    for n, a in zip(SIZES, base):
        np.testing.assert_array_equal(a.view(np.uint32), want[:n].view(np.uint32))


def test_truncated_normal_redraws_match_reference():
    # a tiny stddev does not change which draws are rejected; many rejects over 2e5 elements
    # (4.6% at attempt 0, some at attempts 2 and 3) exercise the batched re-draws of every build
    key = (7, 8, 0xFFFFFFFF)
    n = 200003
    want = ref.rng_truncated_normal((n,), *key, 0.0, 1.0)
    assert np.mean(np.abs(want) > 1.99) > 0.001
    for k, got in _runs(lambda: _fill("truncated_normal", n, key, (0.0, 1.0))).items():
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32), err_msg=str(k))


@pytest.mark.parametrize("n", [1, 3, 17, 4099, 70001])
def test_permutation_same_every_isa_and_thread_count(n):
    def run():
        out = np.empty(n, np.int64)
        _core.rng_permutation(out, 0xFFFFFFFF, 3, (1 << 32) - 1)
        return out

    res = _runs(run)
    want = ref.rng_permutation(n, 0xFFFFFFFF, 3, (1 << 32) - 1)
    for k, got in res.items():
        np.testing.assert_array_equal(got, want, err_msg=str(k))
