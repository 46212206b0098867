"""Fused optimizer kernel: C vs the NumPy twin (float32), thread independence, bad arguments."""

import numpy as np
import pytest

from aenn import _core
from aenn.reference import optim as ref

SHAPES = [(1,), (3, 7), (17,), (2, 3, 5)]
RULES = [
    ("sgd", ref.SGD, (0.01, 0.0, 0.0)),
    ("sgd_momentum", ref.SGD, (0.01, 0.9, 0.0)),
    ("sgd_nesterov", ref.SGD, (0.01, 0.9, 1.0)),
    ("adam", ref.ADAM, (0.001, 0.1, 0.001, 1e-7, 0.0)),
    ("amsgrad", ref.ADAM, (0.001, 0.1, 0.001, 1e-7, 1.0)),
    ("rmsprop", ref.RMSPROP, (0.001, 0.9, 0.1, 1e-7, 0.0, 0.0)),
    ("rmsprop_mom_centered", ref.RMSPROP, (0.001, 0.9, 0.1, 1e-7, 0.5, 1.0)),
    ("rmsprop_centered", ref.RMSPROP, (0.001, 0.9, 0.1, 1e-7, 0.0, 1.0)),
    ("adagrad", ref.ADAGRAD, (0.01, 1e-7)),
    ("adadelta", ref.ADADELTA, (1.0, 0.95, 0.05, 1e-7)),
    ("nadam", ref.NADAM, (0.001, 0.1, 0.001, 1e-7, 0.45, 0.6, 0.55, 0.58, 0.001)),
]


def _problem(kind, h, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ns = ref.num_slots(kind, h)
    # non-negative slots (second moments must stay >= 0; centered needs v >= avg^2)
    slots = [np.abs(rng.standard_normal(s)).astype(np.float32) * 0.1 + (0.5 if j == 0 else 0)
             for s in shapes for j in range(ns)]
    return params, grads, slots


@pytest.mark.parametrize("name,kind,h", RULES, ids=[r[0] for r in RULES])
def test_c_matches_reference(name, kind, h):
    params, grads, slots = _problem(kind, h)
    p, s = [x.copy() for x in params], [x.copy() for x in slots]
    for step in range(3):  # several steps, state carried over
        rp, rs = ref.optim_update(kind, p, grads, s, h)
        _core.optim_update(kind, p, grads, s, h)
        for a, b in zip(p + s, rp + rs):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # float64 twin agrees with the float32 kernel
    p64 = [x.astype(np.float64) for x in params]
    s64 = [x.astype(np.float64) for x in slots]
    g64 = [x.astype(np.float64) for x in grads]
    rp, rs = ref.optim_update(kind, p64, g64, s64, h)
    p, s = [x.copy() for x in params], [x.copy() for x in slots]
    _core.optim_update(kind, p, grads, s, h)
    for a, b in zip(p + s, rp + rs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_threads_bitwise():
    shapes = [(70001,), (3, 5), (40000,), (1,)]
    for name, kind, h in RULES:
        outs = []
        for t in (1, 2):
            _core.set_num_threads(t)
            try:
                params, grads, slots = _problem(kind, h, seed=1, shapes=shapes)
                _core.optim_update(kind, params, grads, slots, h)
            finally:
                _core.set_num_threads(2)
            outs.append(params + slots)
        for a, b in zip(*outs):
            np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    p = [np.zeros(3, np.float32)]
    g = [np.ones(3, np.float32)]
    s = [np.zeros(3, np.float32), np.zeros(3, np.float32)]
    h = (0.001, 0.1, 0.001, 1e-7, 0.0)
    _core.optim_update(1, p, g, s, h)
    with pytest.raises(ValueError):
        _core.optim_update(9, p, g, s, h)
    with pytest.raises(ValueError):
        _core.optim_update(1, p, g, s[:1], h)  # missing slot
    with pytest.raises(ValueError):
        _core.optim_update(1, p, g + g, s, h)
    with pytest.raises(ValueError):
        _core.optim_update(1, [], [], [], h)
    with pytest.raises(TypeError):
        _core.optim_update(1, p[0], g, s, h)
    with pytest.raises(TypeError):
        _core.optim_update(1, [np.zeros(3)], g, s, h)
    with pytest.raises(ValueError):
        _core.optim_update(1, p, [np.ones(4, np.float32)], s, h)
    with pytest.raises(ValueError):
        _core.optim_update(1, p, g, [s[0], np.zeros(4, np.float32)], h)
    with pytest.raises(ValueError):  # a slot aliasing the parameter
        _core.optim_update(1, p, g, [p[0], s[1]], h)
    with pytest.raises(ValueError):  # a parameter aliasing its gradient
        _core.optim_update(1, p, p, s, h)
    with pytest.raises(ValueError):  # the same parameter twice
        _core.optim_update(0, p + p, g + g, [], (0.1, 0.0, 0.0))
    ro = np.zeros(3, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        _core.optim_update(1, [ro], g, s, h)
    with pytest.raises(ValueError):
        _core.optim_update(1, p, g, s, (float("nan"),) + h[1:])
    with pytest.raises(ValueError):
        _core.optim_update(1, p, g, s, (0.1,) * 13)
    with pytest.raises(TypeError):
        _core.optim_update(1, p, g, s, ("a",))
    with pytest.raises(ValueError):  # non-contiguous parameter
        _core.optim_update(1, [np.zeros(6, np.float32)[::2]], g, s, h)
