"""The 2x2 / stride 2 max-pooling paths (forward, and the backward that writes every cell once)
give the SAME BITS as the general kernels (`_core.pool_set_special_paths(False)`, 1 thread), on
1 and 2 threads and every ISA: values and argmax (and the backward that reads them), with ties (the first maximum wins), NaNs, -0 and odd
sizes (cells no window covers)."""

import numpy as np
import pytest

from aenn import _core

GEOM = (2, 2, 2, 2, 0, 0)

SHAPES = [(1, 2, 2, 1), (3, 6, 10, 3), (2, 14, 14, 16), (1, 28, 28, 16), (2, 8, 6, 17),
          (1, 4, 34, 33), (2, 7, 9, 5), (1, 3, 3, 2), (2, 5, 2, 4), (1, 2, 9, 3)]


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
def test_pool2x2_same_bits_as_general(restore_core, shape):
    x = _inputs(shape, 0)
    want = _general(lambda: _run(x, 1))
    for isa in _core.available_isas():
        _core.set_isa(isa)
        for threads in (1, 2):
            _core.set_num_threads(threads)
            got = _run(x, 1)
            for g, w in zip(got, want):
                assert g.tobytes() == w.tobytes(), (isa, threads)


@pytest.mark.parametrize("shape", [(2, 6, 10, 3), (1, 7, 9, 17)], ids=str)
def test_pool2x2_backward_hand_made_argmax(restore_core, shape):
    """An argmax outside its own window (only made by hand) still scatters like the general
    kernel: the 2x2 backward falls back to the scatter for that sample."""
    B, H, W, C = shape
    rng = np.random.default_rng(5)
    arg = rng.integers(0, H * W, (B, H // 2, W // 2, C)).astype(np.int32)
    dout = rng.standard_normal(arg.shape).astype(np.float32)

    def run():
        dinp = np.full(shape, 7.0, np.float32)
        _core.maxpool2d_backward(dinp, dout, arg, *GEOM)
        return dinp

    want = _general(run)
    for threads in (1, 2):
        _core.set_num_threads(threads)
        assert run().tobytes() == want.tobytes()
