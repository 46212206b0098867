"""C mask_mul kernel vs the NumPy twin, broadcast masks, threads, bad arguments."""

import numpy as np
import pytest

from aenn import _core
from aenn.reference import noise as ref


@pytest.mark.parametrize("shape,mask_s", [((1, 1, 1), 1), ((3, 7, 5), 7), ((3, 17, 5), 1),
                                          ((2, 1, 9), 1)])
def test_matches_reference(shape, mask_s):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    mask = (rng.uniform(size=(shape[0], mask_s, shape[2])) > 0.3).astype(np.float32)
    out = np.empty_like(x)
    _core.mask_mul(out, x, mask, 1 / 0.7)
    np.testing.assert_array_equal(out, ref.mask_mul(x, mask, np.float32(1 / 0.7)))


def test_threads_bitwise():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 300, 6)).astype(np.float32)
    mask = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    old = _core.get_num_threads()
    try:
        for t in (1, 2):
            _core.set_num_threads(t)
            out = np.empty_like(x)
            _core.mask_mul(out, x, mask, 1.5)
            res.append(out.tobytes())
    finally:
        _core.set_num_threads(old)
    assert res[0] == res[1]


def test_bad_arguments_raise():
    x = np.zeros((2, 3, 4), np.float32)
    out = np.empty_like(x)
    with pytest.raises(ValueError):
        _core.mask_mul(out, x, np.zeros((2, 2, 4), np.float32), 1.0)
    with pytest.raises(ValueError):
        _core.mask_mul(out, x, np.zeros((1, 3, 4), np.float32), 1.0)
    with pytest.raises(ValueError):
        _core.mask_mul(x, x, x, 1.0)
    with pytest.raises(TypeError):
        _core.mask_mul(out, x, x.astype(np.float64), 1.0)
    with pytest.raises(ValueError):
        _core.mask_mul(out, x.reshape(6, 4), x, 1.0)
