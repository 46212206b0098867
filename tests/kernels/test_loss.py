"""Loss kernels: C (float32) vs the NumPy twin, twin vs finite differences, threads, errors."""

import numpy as np
import pytest

from aenn import _core
from aenn.reference import loss as ref
from tests.gradcheck import assert_grads_match

KINDS = ref.KINDS
SHAPES = [(1, 1), (1, 7), (3, 1), (7, 3), (17, 7), (130, 5)]  # 130 rows = 3 chunks


def make(name, shape, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    if name == "binary_crossentropy":
        y = rng.uniform(0, 1, shape)
        p = rng.uniform(0.02, 0.98, shape)
    elif name in ("categorical_crossentropy", "kl_divergence"):
        y = rng.uniform(0.05, 1, shape)
        y /= y.sum(-1, keepdims=True)
        p = rng.uniform(0.05, 1, shape)
        if name == "kl_divergence":
            p /= p.sum(-1, keepdims=True)
    elif name.endswith("_logits"):
        y = rng.uniform(0, 1, shape)
        if name.startswith("categorical"):
            y /= y.sum(-1, keepdims=True)
        p = rng.normal(0, 3, shape)
    else:
        y = rng.normal(0, 1, shape)
        p = rng.normal(0, 1, shape)
        if name == "mean_absolute_error":
            close = np.abs(p - y) < 1e-3
            p[close] += 1e-2
        if name == "huber":
            near = np.abs(np.abs(p - y) - 1.0) < 1e-3
            p[near] += 1e-2
    return y.astype(dtype), p.astype(dtype)


def c_loss(y, p, kind, param=1.0):
    values = np.empty(p.shape[0], np.float32)
    loss = _core.loss_forward(values, y, p, kind, param)
    grad = np.empty_like(p)
    _core.loss_backward(grad, y, p, kind, param)
    return values, loss, grad


@pytest.mark.parametrize("name", sorted(KINDS))
@pytest.mark.parametrize("shape", SHAPES)
def test_c_matches_reference(name, shape):
    y, p = make(name, shape)
    param = 0.7 if name == "huber" else 0.0
    values, loss, grad = c_loss(y, p, KINDS[name], param)
    y64, p64 = y.astype(np.float64), p.astype(np.float64)
    rv, rl = ref.loss_forward(y64, p64, KINDS[name], param)
    np.testing.assert_allclose(values, rv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loss, rl, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grad, ref.loss_backward(y64, p64, KINDS[name], param), rtol=1e-5,
                               atol=1e-7)
    # the float32 twin agrees too
    np.testing.assert_allclose(values, ref.loss_forward(y, p, KINDS[name], param)[0], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_reference_backward_vs_finite_differences(name):
    y, p = make(name, (3, 7), seed=1, dtype=np.float64)
    param = 0.7 if name == "huber" else 0.0
    analytic = ref.loss_backward(y, p, KINDS[name], param)
    assert_grads_match(lambda q: np.array(ref.loss_forward(y, q, KINDS[name], param)[1]), [p],
                       np.array(1.0), [analytic])


def test_clipping():
    """BCE clips p to [1e-7, 1 - 1e-7] (gradient 0 outside); CCE renormalises first."""
    y = np.array([[1.0, 0.0, 1.0, 0.0]], np.float32)
    p = np.array([[0.0, 1.0, 1.0, 0.0]], np.float32)
    _, loss, grad = c_loss(y, p, KINDS["binary_crossentropy"])
    eps, hi = np.float32(1e-7), np.float32(1) - np.float32(1e-7)  # hi = 0.99999988
    expected = (-np.log(eps) - np.log(np.float32(1) - hi) - np.log(hi) - np.log(1 - eps)) / 4
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    np.testing.assert_array_equal(grad, 0)
    yc = np.array([[0.0, 1.0, 0.0]], np.float32)
    pc = np.array([[2.0, 6.0, 0.0]], np.float32)  # renormalised to (0.25, 0.75, 0)
    _, loss, _ = c_loss(yc, pc, KINDS["categorical_crossentropy"])
    np.testing.assert_allclose(loss, -np.log(0.75), rtol=1e-6)


def test_logits_forms_match_probability_forms():
    rng = np.random.default_rng(2)
    z = rng.normal(0, 2, (17, 5)).astype(np.float32)
    y = (rng.uniform(size=z.shape) > 0.5).astype(np.float32)
    sig = 1 / (1 + np.exp(-z.astype(np.float64)))
    _, l_logit, g_logit = c_loss(y, z, KINDS["binary_crossentropy_logits"])
    _, l_prob, _ = c_loss(y, sig.astype(np.float32), KINDS["binary_crossentropy"])
    np.testing.assert_allclose(l_logit, l_prob, rtol=1e-5)
    np.testing.assert_allclose(g_logit, (sig - y) / z.size, rtol=1e-5, atol=1e-8)
    onehot = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 17)]
    sm = np.exp(z - z.max(-1, keepdims=True))
    sm /= sm.sum(-1, keepdims=True)
    _, l_logit, g_logit = c_loss(onehot, z, KINDS["categorical_crossentropy_logits"])
    _, l_prob, _ = c_loss(onehot, sm.astype(np.float32), KINDS["categorical_crossentropy"])
    np.testing.assert_allclose(l_logit, l_prob, rtol=1e-5)
    np.testing.assert_allclose(g_logit, (sm - onehot) / 17, rtol=1e-5, atol=1e-8)


def c_sparse(labels, p, from_logits):
    values = np.empty(p.shape[0], np.float32)
    loss = _core.sparse_cce_forward(values, labels, p, from_logits)
    grad = np.empty_like(p)
    _core.sparse_cce_backward(grad, labels, p, from_logits)
    return values, loss, grad


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (7, 1), (17, 7), (130, 3)])
def test_sparse(from_logits, shape):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, shape[1], shape[0]).astype(np.int32)
    p = (rng.normal(0, 2, shape) if from_logits else rng.uniform(0.05, 1, shape)).astype(np.float32)
    values, loss, grad = c_sparse(labels, p, from_logits)
    p64 = p.astype(np.float64)
    rv, rl = ref.sparse_cce_forward(labels, p64, from_logits)
    np.testing.assert_allclose(values, rv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loss, rl, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grad, ref.sparse_cce_backward(labels, p64, from_logits), rtol=1e-5,
                               atol=1e-7)
    # equals dense CCE on one-hot labels when p is a distribution / from logits
    assert_grads_match(lambda q: np.array(ref.sparse_cce_forward(labels, q, from_logits)[1]),
                       [p64], np.array(1.0), [ref.sparse_cce_backward(labels, p64, from_logits)])


def test_threads_bitwise(restore_core):
    results = []
    labels = np.random.default_rng(4).integers(0, 37, 1000).astype(np.int32)
    for threads in (1, 2):
        _core.set_num_threads(threads)
        r = []
        for name, kind in sorted(KINDS.items()):
            y, p = make(name, (1000, 37), seed=5)
            values, loss, grad = c_loss(y, p, kind, 0.5)
            r += [values, np.float64(loss), grad]
        for from_logits in (False, True):
            _, p = make("categorical_crossentropy", (1000, 37), seed=6)
            values, loss, grad = c_sparse(labels, p, from_logits)
            r += [values, np.float64(loss), grad]
        results.append(r)
    for a, b in zip(*results):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


def test_bad_labels():
    p = np.full((3, 5), 0.2, np.float32)
    values = np.empty(3, np.float32)
    for bad in (5, -1, 100):
        labels = np.array([0, bad, 1], np.int32)
        with pytest.raises(ValueError, match=rf"label {bad}\b.*5 classes"):
            _core.sparse_cce_forward(values, labels, p, False)
        with pytest.raises(ValueError, match=rf"label {bad}\b.*5 classes"):
            _core.sparse_cce_backward(np.empty_like(p), labels, p, True)
    with pytest.raises(TypeError, match="int32"):
        _core.sparse_cce_forward(values, np.zeros(3, np.int64), p, False)
    with pytest.raises(ValueError, match="axis 0 must be 3"):
        _core.sparse_cce_forward(values, np.zeros(4, np.int32), p, False)


def test_bad_arguments():
    y = np.ones((3, 4), np.float32)
    p = np.full((3, 4), 0.5, np.float32)
    values = np.empty(3, np.float32)
    k = KINDS["mean_squared_error"]
    with pytest.raises(ValueError, match="same shape"):
        _core.loss_forward(values, y, np.ones((3, 5), np.float32), k, 0.0)
    with pytest.raises(ValueError, match="axis 0 must be 3"):
        _core.loss_forward(np.empty(4, np.float32), y, p, k, 0.0)
    with pytest.raises(TypeError):
        _core.loss_forward(values, y.astype(np.float64), p, k, 0.0)
    with pytest.raises(ValueError, match="2-dimensional"):
        _core.loss_forward(values, y.ravel(), p.ravel(), k, 0.0)
    with pytest.raises(ValueError, match="kind"):
        _core.loss_forward(values, y, p, 42, 0.0)
    with pytest.raises(ValueError, match="delta"):
        _core.loss_forward(values, y, p, KINDS["huber"], 0.0)
    with pytest.raises(ValueError, match="delta"):
        _core.loss_backward(np.empty_like(p), y, p, KINDS["huber"], float("nan"))
    with pytest.raises(ValueError, match="shares memory"):
        _core.loss_backward(p, y, p, k, 0.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.loss_backward(np.empty((4, 3), np.float32).T, y, p, k, 0.0)
    ro = np.empty_like(p)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _core.loss_backward(ro, y, p, k, 0.0)
    with pytest.raises(ValueError, match="empty"):
        _core.loss_forward(np.empty(0, np.float32), np.empty((0, 4), np.float32),
                           np.empty((0, 4), np.float32), k, 0.0)


@pytest.mark.parametrize("name", ["binary_crossentropy", "binary_crossentropy_logits",
                                  "mean_squared_error"])
@pytest.mark.parametrize("rows,cols", [(5000, 1), (64 * 8, 1), (64 * 9 + 5, 1), (300, 3)])
def test_mean_sums_chunks_in_documented_order(restore_core, name, rows, cols):
    """The mean is (sum over chunks of AENN_CHUNK rows, in chunk order, of each chunk's double
    sum of its rows' float values in row order) / rows -- exactly, on every ISA and thread
    count (one-column BCE sums several chunks side by side; each chunk keeps its own order)."""
    y, p = make(name, (rows, cols), seed=rows + cols)
    for isa in _core.available_isas():
        _core.set_isa(isa)
        for threads in (1, 2):
            _core.set_num_threads(threads)
            values = np.empty(rows, np.float32)
            loss = _core.loss_forward(values, y, p, KINDS[name], 0.0)
            total = 0.0
            for k0 in range(0, rows, _core.CHUNK):
                part = 0.0
                for v in values[k0:k0 + _core.CHUNK]:
                    part += float(v)
                total += part
            assert loss == total / rows, (isa, threads)
