"""C batch-norm kernels vs the NumPy twins, finite differences, threads, bad arguments."""

import numpy as np
import pytest

from aenn import _core
from aenn.reference import norm as ref
from tests.gradcheck import assert_grads_match


def c_train(x, gamma, beta, eps=1e-3):
    _N, C = x.shape
    out = np.empty_like(x)
    mean, inv, var = (np.empty(C, np.float32) for _ in range(3))
    _core.batchnorm_forward_train(out, mean, inv, var, x, gamma, beta, eps)
    return out, mean, inv, var


def c_backward(dout, x, mean, inv, gamma, training):
    C = x.shape[1]
    dinp, dg, db = np.empty_like(x), np.empty(C, np.float32), np.empty(C, np.float32)
    _core.batchnorm_backward(dinp, dg, db, dout, x, mean, inv, gamma, training)
    return dinp, dg, db


@pytest.mark.parametrize("N,C", [(1, 1), (3, 7), (17, 3), (130, 5), (64, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_matches_reference(N, C, affine):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((N, C)) * 3 + 1).astype(np.float32)
    gamma = rng.standard_normal(C).astype(np.float32) if affine else None
    beta = rng.standard_normal(C).astype(np.float32) if affine else None
    got = c_train(x, gamma, beta)
    want = ref.batchnorm_forward_train(x.astype(np.float64), gamma, beta, 1e-3)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    dout = rng.standard_normal((N, C)).astype(np.float32)
    for training in (True, False):
        got_b = c_backward(dout, x, got[1], got[2], gamma, training)
        want_b = ref.batchnorm_backward(dout.astype(np.float64), x.astype(np.float64),
                                        got[1].astype(np.float64), got[2].astype(np.float64),
                                        gamma, training)
        for g, w in zip(got_b, want_b):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
    mm = rng.standard_normal(C).astype(np.float32)
    mv = rng.uniform(0.5, 2, C).astype(np.float32)
    out = np.empty_like(x)
    _core.batchnorm_forward_infer(out, x, gamma, beta, mm, mv, 1e-3)
    np.testing.assert_allclose(out, ref.batchnorm_forward_infer(x, gamma, beta, mm, mv, 1e-3),
                               rtol=1e-5, atol=1e-5)


def test_optional_outputs():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 4)).astype(np.float32)
    _, mean, inv, _ = c_train(x, None, None)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    dinp = np.empty_like(x)
    _core.batchnorm_backward(dinp, None, None, dout, x, mean, inv, None, True)
    np.testing.assert_allclose(dinp, c_backward(dout, x, mean, inv, None, True)[0])


@pytest.mark.parametrize("training", [True, False])
def test_reference_grads_finite_differences(training):
    rng = np.random.default_rng(1)
    N, C = 7, 3
    x = rng.standard_normal((N, C))
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    mm, mv = rng.standard_normal(C), rng.uniform(0.5, 2, C)
    eps = 1e-3
    dout = rng.standard_normal((N, C))
    if training:
        def f(x, gamma, beta):
            return ref.batchnorm_forward_train(x, gamma, beta, eps)[0]
        _, mean, inv, _ = ref.batchnorm_forward_train(x, gamma, beta, eps)
    else:
        def f(x, gamma, beta):
            return ref.batchnorm_forward_infer(x, gamma, beta, mm, mv, eps)
        mean, inv = mm, 1 / np.sqrt(mv + eps)
    grads = ref.batchnorm_backward(dout, x, mean, inv, gamma, training)
    assert_grads_match(f, [x, gamma, beta], dout, list(grads), rtol=1e-5, atol=1e-6)


def test_threads_bitwise():
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((300, 5)) + 2).astype(np.float32)
    g = rng.standard_normal(5).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    old = _core.get_num_threads()
    try:
        for t in (1, 2):
            _core.set_num_threads(t)
            f = c_train(x, g, b)
            res.append([a.tobytes() for a in f + c_backward(dout, x, f[1], f[2], g, True)])
    finally:
        _core.set_num_threads(old)
    assert res[0] == res[1]


def test_bad_arguments_raise():
    x = np.zeros((4, 3), np.float32)
    c = np.zeros(3, np.float32)
    out, m, i, v = np.empty_like(x), c.copy(), c.copy(), c.copy()
    _core.batchnorm_forward_train(out, m, i, v, x, None, None, 1e-3)
    with pytest.raises(ValueError):
        _core.batchnorm_forward_train(out, m, i, v, x, np.zeros(4, np.float32), None, 1e-3)
    with pytest.raises(ValueError):
        _core.batchnorm_forward_train(out, m, m, v, x, None, None, 1e-3)  # outputs overlap
    with pytest.raises(ValueError):
        _core.batchnorm_forward_train(out[:2], m, i, v, x, None, None, 1e-3)
    with pytest.raises(ValueError):
        _core.batchnorm_forward_train(out, m, i, v, x, None, None, -1.0)
    with pytest.raises(TypeError):
        _core.batchnorm_forward_infer(out, x, None, None, c.astype(np.float64), c, 1e-3)
    with pytest.raises(ValueError):
        _core.batchnorm_forward_infer(out, x.reshape(2, 2, 3), None, None, c, c, 1e-3)
    with pytest.raises(ValueError):
        _core.batchnorm_backward(x, None, None, x, x, c, c, None, True)
    with pytest.raises(ValueError):
        _core.batchnorm_backward(out, np.zeros(2, np.float32), None, x, x, c, c, None, True)
