"""Activation kernels: C (float32) vs the NumPy twin, twin vs finite differences, threads, errors."""

import numpy as np
import pytest

from aenn import _core
from aenn.reference import activation as ref
from tests.gradcheck import assert_grads_match

KINDS = ref.KINDS
ALPHA = {"leaky_relu": 0.2, "elu": 1.3}
KINKS = {"relu": [0], "leaky_relu": [0], "elu": [0], "selu": [0], "hard_sigmoid": [-3, 3],
         "relu6": [0, 6]}
SHAPES = [(1,), (3,), (7, 1), (17, 3), (3, 7, 17)]


def data(shape, name, seed=0, dtype=np.float32, scale=4.0):
    x = np.random.default_rng(seed).uniform(-scale, scale, shape)
    if name == "relu6":
        x = x * 2.0  # reach the ceiling at 6
    for k in KINKS.get(name, []):  # keep finite differences off the kinks
        near = np.abs(x - k) < 1e-3
        x[near] = k + 1e-2
    return x.astype(dtype)


def c_forward(x, name, alpha):
    out = np.empty_like(x)
    _core.activation_forward(out, x, KINDS[name], alpha)
    return out


def c_backward(dy, x, y, name, alpha):
    dx = np.empty_like(x)
    _core.activation_backward(dx, dy, x, y, KINDS[name], alpha)
    return dx


@pytest.mark.parametrize("name", sorted(KINDS))
@pytest.mark.parametrize("shape", SHAPES)
def test_c_matches_reference(name, shape):
    alpha = ALPHA.get(name, 1.0)
    x = data(shape, name)
    dy = data(shape, "linear", seed=1)
    y = c_forward(x, name, alpha)
    atol = 2e-6 if name == "gelu" else 1e-6
    np.testing.assert_allclose(y, ref.activation_forward(x, KINDS[name], alpha), rtol=1e-5,
                               atol=atol)
    y_ref = ref.activation_forward(x.astype(np.float64), KINDS[name], alpha)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=atol)
    dx = c_backward(dy, x, y, name, alpha)
    dx_ref = ref.activation_backward(dy.astype(np.float64), x.astype(np.float64), y_ref,
                                     KINDS[name], alpha)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_reference_backward_vs_finite_differences(name):
    alpha = ALPHA.get(name, 1.0)
    x = data((3, 7), name, dtype=np.float64)
    dy = data((3, 7), "linear", seed=2, dtype=np.float64)
    analytic = ref.activation_backward(dy, x, None, KINDS[name], alpha)
    assert_grads_match(lambda v: ref.activation_forward(v, KINDS[name], alpha), [x], dy,
                       [analytic])


def test_special_values():
    x = np.array([-np.inf, -50, -3.0, 0.0, 3.0, 50, np.inf], np.float32)
    np.testing.assert_array_equal(c_forward(x, "hard_sigmoid", 0.0), [0, 0, 0, 0.5, 1, 1, 1])
    np.testing.assert_array_equal(c_forward(x, "sigmoid", 0.0)[[0, 3, 6]], [0, 0.5, 1])
    np.testing.assert_array_equal(c_forward(x, "relu6", 0.0), [0, 0, 0, 0, 3, 6, 6])
    sp = c_forward(x, "softplus", 0.0)
    assert sp[0] == 0 and sp[5] == 50 and sp[6] == np.inf
    np.testing.assert_array_equal(c_forward(x, "tanh", 0.0)[[0, 6]], [-1, 1])
    # leaky slope applies below 0
    np.testing.assert_allclose(c_forward(np.array([-1.0, 2.0], np.float32), "leaky_relu", 0.2),
                               [-0.2, 2.0])


RELU_ARGS = [(0.0, np.inf, 0.0), (0.1, 6.0, 0.0), (0.2, np.inf, 1.0), (0.3, 2.5, 0.5), (0.0, 1.0, 0.0)]


@pytest.mark.parametrize("slope,max_value,threshold", RELU_ARGS)
@pytest.mark.parametrize("shape", [(1,), (17, 3)])
def test_relu_variant(slope, max_value, threshold, shape):
    x = np.random.default_rng(3).uniform(-8, 8, shape).astype(np.float32)
    for k in (threshold, max_value):
        x[np.abs(x - k) < 1e-3] = k + 1e-2
    x.flat[0] = threshold  # exactly at the threshold: 0, gradient 0
    out = np.empty_like(x)
    _core.relu_forward(out, x, slope, max_value, threshold)
    np.testing.assert_allclose(out, ref.relu_forward(x, slope, max_value, threshold), rtol=1e-6)
    assert out.flat[0] == 0
    dy = np.random.default_rng(4).normal(size=shape).astype(np.float32)
    dx = np.empty_like(x)
    _core.relu_backward(dx, dy, x, slope, max_value, threshold)
    np.testing.assert_allclose(dx, ref.relu_backward(dy, x, slope, max_value, threshold), rtol=1e-6)
    x64 = x.astype(np.float64)
    x64.flat[0] += 0.1  # finite differences away from the threshold
    assert_grads_match(lambda v: ref.relu_forward(v, slope, max_value, threshold), [x64],
                       dy.astype(np.float64),
                       [ref.relu_backward(dy.astype(np.float64), x64, slope, max_value, threshold)])


@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (7, 1), (17, 7), (3, 17)])
def test_softmax(shape):
    x = np.random.default_rng(5).normal(0, 3, shape).astype(np.float32)
    out = np.empty_like(x)
    _core.softmax_forward(out, x)
    np.testing.assert_allclose(out, ref.softmax_forward(x.astype(np.float64)), rtol=1e-5, atol=1e-7)
    dy = np.random.default_rng(6).normal(size=shape).astype(np.float32)
    dx = np.empty_like(x)
    _core.softmax_backward(dx, dy, out)
    y64 = ref.softmax_forward(x.astype(np.float64))
    np.testing.assert_allclose(dx, ref.softmax_backward(dy.astype(np.float64), y64), rtol=1e-5,
                               atol=1e-6)
    x64 = x.astype(np.float64)
    assert_grads_match(ref.softmax_forward, [x64], dy.astype(np.float64),
                       [ref.softmax_backward(dy.astype(np.float64), y64)])


def test_softmax_large_logits_are_stable():
    x = np.array([[1000.0, 0.0, -1000.0]], np.float32)
    out = np.empty_like(x)
    _core.softmax_forward(out, x)
    np.testing.assert_array_equal(out, [[1.0, 0.0, 0.0]])


def test_threads_bitwise(restore_core):
    rng = np.random.default_rng(7)
    x = rng.uniform(-5, 5, (40001,)).astype(np.float32)
    dy = rng.normal(size=x.shape).astype(np.float32)
    xs = x.reshape(-1, 1).repeat(4, 1)[:40000].reshape(8000, 20).copy()
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        r = []
        for name in sorted(KINDS):
            y = c_forward(x, name, 0.3)
            r += [y, c_backward(dy, x, y, name, 0.3)]
        out = np.empty_like(x)
        _core.relu_forward(out, x, 0.1, 3.0, 0.5)
        dx = np.empty_like(x)
        _core.relu_backward(dx, dy, x, 0.1, 3.0, 0.5)
        s = np.empty_like(xs)
        _core.softmax_forward(s, xs)
        ds = np.empty_like(xs)
        _core.softmax_backward(ds, xs, s)
        results.append(r + [out, dx, s, ds])
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()


def test_bad_arguments():
    x = np.ones((3, 4), np.float32)
    out = np.empty_like(x)
    k = KINDS["relu"]
    with pytest.raises(TypeError):
        _core.activation_forward(out, x.astype(np.float64), k, 0.0)
    with pytest.raises(TypeError):
        _core.activation_forward(out, [1.0, 2.0], k, 0.0)
    with pytest.raises(ValueError, match="same shape"):
        _core.activation_forward(np.empty((3, 5), np.float32), x, k, 0.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.activation_forward(np.empty((4, 3), np.float32).T, x, k, 0.0)
    ro = np.empty_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _core.activation_forward(ro, x, k, 0.0)
    with pytest.raises(ValueError, match="shares memory"):
        _core.activation_forward(x, x, k, 0.0)
    with pytest.raises(ValueError, match="kind"):
        _core.activation_forward(out, x, 99, 0.0)
    with pytest.raises(ValueError, match="kind"):
        _core.activation_forward(out, x, -1, 0.0)
    with pytest.raises(ValueError, match="empty"):
        _core.activation_forward(np.empty((0,), np.float32), np.empty((0,), np.float32), k, 0.0)
    with pytest.raises(ValueError, match="required"):
        _core.activation_backward(out, x, x, None, KINDS["sigmoid"], 0.0)
    _core.activation_backward(out, x, x, None, k, 0.0)  # relu does not need `out`
    with pytest.raises(ValueError, match="shares memory"):
        _core.activation_backward(x, x, x, None, k, 0.0)
    with pytest.raises(ValueError):
        _core.relu_forward(out, x, -0.1, np.inf, 0.0)
    with pytest.raises(ValueError):
        _core.relu_forward(out, x, 0.0, -1.0, 0.0)
    with pytest.raises(ValueError):
        _core.relu_forward(out, x, 0.0, np.inf, np.nan)
    with pytest.raises(ValueError, match="2-dimensional"):
        _core.softmax_forward(np.empty(4, np.float32), np.ones(4, np.float32))
    with pytest.raises(ValueError, match="same shape"):
        _core.softmax_backward(out, x, np.ones((3, 5), np.float32))
    with pytest.raises(TypeError):
        _core.activation_forward(out, x, k)
