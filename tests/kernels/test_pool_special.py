"""The 2x2 / stride 2 max-pooling path gives the SAME BITS as the general kernels
(`_core.pool_set_special_paths(False)`, 1 thread), on 1 and 2 threads: values, argmax and the
backward scatter, with ties (the first maximum wins), NaNs, -0 and odd sizes (cells no window
covers); and an argmax that is not from forward (inside the input, outside its window) still
gives the general scatter."""

import numpy as np
import pytest

from aenn import _core

GEOM = (2, 2, 2, 2, 0, 0)

SHAPES = [(1, 2, 2, 1), (3, 6, 10, 3), (2, 14, 14, 16), (1, 28, 28, 16), (2, 8, 6, 17),
          (1, 4, 34, 33), (2, 7, 9, 5), (1, 3, 3, 2), (2, 5, 2, 4), (1, 2, 9, 3)]


@pytest.fixture
def restore():
    threads = _core.get_num_threads()
    yield
    _core.pool_set_special_paths(True)
    _core.set_num_threads(threads)


def _inputs(shape, seed):
    """Values with many ties (small integers), some NaNs and signed zeros."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(np.float32)
    x[rng.random(shape) < 0.05] = np.nan
    x[rng.random(shape) < 0.1] = -0.0
    return x


def _run(x, dout_seed):
    B, H, W, C = x.shape
    oh, ow = H // 2, W // 2
    out = np.empty((B, oh, ow, C), np.float32)
    arg = np.empty(out.shape, np.int32)
    _core.maxpool2d_forward(out, arg, x, *GEOM)
    rng = np.random.default_rng(dout_seed)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dout[rng.random(out.shape) < 0.2] = -0.0
    dinp = np.full(x.shape, 7.0, np.float32)  # every cell must be overwritten
    _core.maxpool2d_backward(dinp, dout, arg, *GEOM)
    return out, arg, dinp


def _general(fn):
    _core.pool_set_special_paths(False)
    _core.set_num_threads(1)
    try:
        return fn()
    finally:
        _core.pool_set_special_paths(True)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_pool2x2_same_bits_as_general(restore, shape):
    x = _inputs(shape, 0)
    want = _general(lambda: _run(x, 1))
    for threads in (1, 2):
        _core.set_num_threads(threads)
        got = _run(x, 1)
        for g, w in zip(got, want):
            assert g.tobytes() == w.tobytes()


def test_pool2x2_argmax_outside_its_window_falls_back(restore):
    x = _inputs((2, 6, 8, 3), 3)
    out = np.empty((2, 3, 4, 3), np.float32)
    arg = np.empty(out.shape, np.int32)
    _core.maxpool2d_forward(out, arg, x, *GEOM)
    arg[1, 2, 3, 1] = 0   # another window's cell
    arg[0, 0, 0, 2] = 47  # the last cell of the sample
    dout = np.random.default_rng(4).standard_normal(out.shape).astype(np.float32)
    got = np.empty_like(x)
    _core.maxpool2d_backward(got, dout, arg, *GEOM)
    want = _general(lambda: (_core.maxpool2d_backward(w := np.empty_like(x), dout, arg, *GEOM), w)[1])
    assert got.tobytes() == want.tobytes()
