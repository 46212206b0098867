"""ReLU + 2x2/stride-2 max pooling as one op (pool.h, csrc/pool.c: relu_maxpool2x2_forward /
backward): the bits of the ReLU kernel followed by the pooling kernel (forward), and of the
pooling backward followed by the ReLU backward, on every ISA and thread count and with the
pooling special paths off; odd sizes, ties at zero, NaN / inf / -0 inputs; bad arguments."""

import numpy as np
import pytest

from aenn import _core, activations

ISAS = _core.available_isas()
RELU = activations.get("relu")


def unfused(pre, dout):
    y = RELU.forward(pre)
    B, H, W, C = pre.shape
    out = np.empty((B, H // 2, W // 2, C), np.float32)
    argmax = np.empty(out.shape, np.int32)
    _core.maxpool2d_forward(out, argmax, y, 2, 2, 2, 2, 0, 0)
    dy = np.empty_like(y)
    _core.maxpool2d_backward(dy, dout, argmax, 2, 2, 2, 2, 0, 0)
    return out, argmax, RELU.backward(dy, pre, y)


def fused(pre, dout):
    B, H, W, C = pre.shape
    out = np.empty((B, H // 2, W // 2, C), np.float32)
    argmax = np.empty(out.shape, np.int32)
    _core.relu_maxpool2x2_forward(out, argmax, pre)
    dpre = np.empty_like(pre)
    _core.relu_maxpool2x2_backward(dpre, dout, out, argmax)
    return out, argmax, dpre


def _data(B, H, W, C, kind, seed=0):
    rng = np.random.default_rng(seed)
    pre = rng.standard_normal((B, H, W, C)).astype(np.float32)
    if kind == "ties":  # many exact zeros and negatives: relu ties at 0 inside windows
        pre[rng.random(pre.shape) < 0.6] = 0.0
        pre[rng.random(pre.shape) < 0.3] = -0.0
    elif kind == "special":
        flat = pre.reshape(-1)
        picks = rng.choice(flat.size, size=min(12, flat.size), replace=False)
        flat[picks] = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40] * 2,
                               np.float32)[:len(picks)]
    dout = rng.standard_normal((B, H // 2, W // 2, C)).astype(np.float32)
    dout[rng.random(dout.shape) < 0.1] = -0.0
    if kind == "special":  # the ReLU's backward makes v * 0.0f off pre > 0: NaN for inf and NaN
        flat = dout.reshape(-1)
        picks = rng.choice(flat.size, size=min(6, flat.size), replace=False)
        flat[picks] = np.array([np.nan, np.inf, -np.inf] * 2, np.float32)[:len(picks)]
    return pre, dout


@pytest.mark.parametrize("kind", ["normal", "ties", "special"])
@pytest.mark.parametrize("B,H,W,C", [(3, 14, 14, 16), (2, 11, 11, 64), (1, 2, 2, 1),
                                     (2, 7, 9, 5), (4, 6, 3, 17), (1, 3, 8, 33)])
def test_same_bits_as_relu_then_pool(restore_core, B, H, W, C, kind):
    pre, dout = _data(B, H, W, C, kind)
    want = unfused(pre, dout)
    for isa in ISAS:
        _core.set_isa(isa)
        for threads in (1, 2):
            _core.set_num_threads(threads)
            got = fused(pre, dout)
            for g, e in zip(got, want):
                assert g.tobytes() == e.tobytes()
    _core.pool_set_special_paths(False)
    assert [a.tobytes() for a in unfused(pre, dout)] == [a.tobytes() for a in want]


def test_bad_arguments_raise():
    pre = np.zeros((2, 6, 6, 3), np.float32)
    out = np.empty((2, 3, 3, 3), np.float32)
    argmax = np.empty(out.shape, np.int32)
    with pytest.raises(ValueError, match="half the input height"):
        _core.relu_maxpool2x2_forward(np.empty((2, 2, 3, 3), np.float32),
                                      np.empty((2, 2, 3, 3), np.int32), pre)
    with pytest.raises(ValueError, match="too small"):
        _core.relu_maxpool2x2_forward(np.empty((2, 1, 3, 3), np.float32),
                                      np.empty((2, 1, 3, 3), np.int32),
                                      np.zeros((2, 1, 6, 3), np.float32))
    with pytest.raises(TypeError, match="argmax"):
        _core.relu_maxpool2x2_forward(out, argmax.astype(np.float32), pre)
    with pytest.raises(ValueError, match="channels"):
        _core.relu_maxpool2x2_backward(np.empty((2, 6, 6, 4), np.float32), out, out, argmax)
    with pytest.raises(ValueError, match="shares memory"):
        _core.relu_maxpool2x2_backward(pre, pre.reshape(-1)[:out.size].reshape(out.shape), out,
                                       argmax)
    # argmax is only compared with positions: garbage gives zeros, never a wild write
    dpre = np.full(pre.shape, 7.0, np.float32)
    _core.relu_maxpool2x2_backward(dpre, np.ones_like(out), np.ones_like(out),
                                   np.full(out.shape, -5, np.int32))
    assert not dpre.any()
