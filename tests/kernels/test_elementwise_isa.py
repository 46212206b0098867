"""The elementwise kernels (activations, parametrised ReLU, batch norm, dropout mask, optimizer
updates) are compiled for SSE2, AVX2 and AVX-512 (csrc/isa_builds.h) and written branch-free.
Every ISA the CPU supports, on 1 and 2 threads, must give the SAME BITS as the generic build on
odd shapes, with -0.0, NaN, +-inf, subnormal and boundary inputs (3, -3, 6, the threshold).

One exception, stated in csrc/isa_builds.h: where two NaNs of different sign meet in one add or
multiply (e.g. an inf - inf NaN summed with an input NaN in a batch-norm column, or an optimizer
fed inf gradients), x86 returns the first operand's NaN and the compiler picks the operand
order, so only the NaN *sign/payload* may differ there. Those cases are compared with
`_same_up_to_nan_sign` (same NaN positions, every other bit equal); all finite-input cases and
all activation / ReLU / dropout cases are compared bit for bit."""

import numpy as np
import pytest

from aenn import _core

ISAS = _core.available_isas()

SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-40, -1e-40, 1e-45, -1e-45,
                    3.0, -3.0, 6.0, -6.0, 0.5, -0.5, 1e30, -1e30, 88.8, -104.0, 5.9999995,
                    1.1754942e-38, -1.1754942e-38, 0.25, 2.0], np.float32)


def _data(rng, shape, special=True):
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    if special:
        f = x.reshape(-1)
        idx = rng.integers(0, f.size, size=min(f.size, 4 * SPECIAL.size))
        f[idx] = SPECIAL[np.arange(idx.size) % SPECIAL.size]
        f[:SPECIAL.size] = SPECIAL[:f.size]
    return x


def _activations():
    """{key: array}: every activation kind forward and backward, and the parametrised ReLU."""
    out = {}
    rng = np.random.default_rng(11)
    # 70001 > 2 * 32768 (the per-thread minimum): two threads split it at an odd point
    for n in (1, 3, 7, 17, 100, 4099, 70001):
        x, d = _data(rng, (n,)), _data(rng, (n,))
        for kind in range(14):
            for alpha in (0.3, 1.0):
                y = np.empty_like(x)
                _core.activation_forward(y, x, kind, alpha)
                dx = np.empty_like(x)
                _core.activation_backward(dx, d, x, y, kind, alpha)
                out[f"act{kind}_{alpha}_{n}"] = (y, dx)
        for slope, mv, thr in ((0.0, np.inf, 0.0), (0.1, 6.0, 0.5), (0.3, np.inf, 1.0),
                               (0.2, 0.0, 0.0), (0.5, np.inf, 3.0)):
            y, dx = np.empty_like(x), np.empty_like(x)
            _core.relu_forward(y, x, slope, mv, thr)
            _core.relu_backward(dx, d, x, slope, mv, thr)
            out[f"relu{slope}_{mv}_{thr}_{n}"] = (y, dx)
    return out


def _norm_noise(special):
    out = {}
    rng = np.random.default_rng(12)
    for N, C in ((1, 1), (1, 7), (3, 5), (17, 3), (65, 33), (130, 197), (256, 64)):
        x, d = _data(rng, (N, C), special), _data(rng, (N, C), special)
        g, b = _data(rng, (C,), False), _data(rng, (C,), False)
        for gg, bb, tag in ((g, b, "gb"), (None, None, "nn"), (g, None, "gn")):
            o = np.empty_like(x)
            mean, inv, var = (np.empty(C, np.float32) for _ in range(3))
            _core.batchnorm_forward_train(o, mean, inv, var, x, gg, bb, 1e-3)
            res = [o, mean, inv, var]
            for training in (True, False):
                dinp, dg, db = np.empty_like(x), np.empty(C, np.float32), np.empty(C, np.float32)
                _core.batchnorm_backward(dinp, dg, db, d, x, mean, inv, gg, training)
                res += [dinp, dg, db]
            o2 = np.empty_like(x)
            _core.batchnorm_forward_infer(o2, x, gg, bb, mean, np.abs(g), 1e-3)
            out[f"bn{N}_{C}_{tag}"] = tuple(res + [o2])
    for B, S, C, mS in ((1, 1, 1, 1), (3, 1, 7, 1), (5, 9, 17, 9), (5, 9, 17, 1), (2, 100, 33, 1)):
        x = _data(rng, (B, S, C), special)
        m = (rng.random((B, mS, C)) < 0.8).astype(np.float32)
        o = np.empty_like(x)
        _core.mask_mul(o, x, m, 1.25)
        out[f"mask{B}_{S}_{C}_{mS}"] = (o,)
    return out


OPTIMIZERS = {  # name: (kind, hyper-parameters, slots per tensor)
    "sgd": (0, [0.01, 0.0, 0.0], 0), "sgd_momentum": (0, [0.01, 0.9, 0.0], 1),
    "nesterov": (0, [0.01, 0.9, 1.0], 1),
    "adam": (1, [1e-3, 0.1, 0.001, 1e-7, 0.0], 2), "amsgrad": (1, [1e-3, 0.1, 0.001, 1e-7, 1.0], 3),
    "rmsprop": (2, [1e-3, 0.9, 0.1, 1e-7, 0.0, 0.0], 1),
    "rmsprop_momentum": (2, [1e-3, 0.9, 0.1, 1e-7, 0.9, 0.0], 2),
    "rmsprop_centered": (2, [1e-3, 0.9, 0.1, 1e-7, 0.0, 1.0], 2),
    "rmsprop_both": (2, [1e-3, 0.9, 0.1, 1e-7, 0.5, 1.0], 3),
    "adagrad": (3, [1e-2, 1e-7], 1), "adadelta": (4, [1.0, 0.95, 0.05, 1e-7], 2),
    "nadam": (5, [1e-3, 0.1, 0.001, 1e-7, 0.99, 0.03, 0.05, 0.02, 0.003], 2),
}


def _optimizers(special):
    out = {}
    # odd sizes; 40000 elements so that 2 threads (16384 per thread minimum) cut inside a tensor
    shapes = [(1,), (7,), (17, 3), (40000,), (5,)]
    for name, (kind, h, nslots) in OPTIMIZERS.items():
        rng = np.random.default_rng(13)
        params = [_data(rng, s, False) for s in shapes]
        slots = [np.abs(_data(rng, s, False)) * np.float32(0.01)
                 for s in shapes for _ in range(nslots)]
        for step in range(3):
            grads = [_data(rng, s, special and step == 2) * np.float32(0.1) for s in shapes]
            _core.optim_update(kind, params, grads, slots, h)
        out[f"opt_{name}"] = tuple(params + slots)
    return out


def _run(isa, threads, fn, *args):
    assert _core.set_isa(isa) == isa
    _core.set_num_threads(threads)
    return fn(*args)


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint32)


def _same_up_to_nan_sign(a, b):
    na, nb = np.isnan(a), np.isnan(b)
    return np.array_equal(na, nb) and np.array_equal(_bits(a)[~na], _bits(b)[~nb])


def _compare(ref, got, exact):
    assert ref.keys() == got.keys()
    for key in ref:
        for i, (a, b) in enumerate(zip(ref[key], got[key])):
            if exact:
                assert np.array_equal(_bits(a), _bits(b)), f"{key}[{i}] differs bitwise"
            else:
                assert _same_up_to_nan_sign(a, b), f"{key}[{i}] differs"


CASES = [
    ("activations", _activations, (), True),
    ("norm_noise_finite", _norm_noise, (False,), True),
    ("norm_noise_special", _norm_noise, (True,), False),
    ("optimizers_finite", _optimizers, (False,), True),
    ("optimizers_special", _optimizers, (True,), False),
]


@pytest.mark.parametrize("name,fn,args,exact", CASES, ids=[c[0] for c in CASES])
def test_every_isa_and_thread_count_matches_generic(restore_core, name, fn, args, exact):
    ref = _run("generic", 1, fn, *args)
    for isa in ISAS:
        for threads in (1, 2):
            if isa == "generic" and threads == 1:
                continue
            _compare(ref, _run(isa, threads, fn, *args), exact)


def test_activation_cases_really_hold_the_special_values():
    """The inputs above do contain -0, NaN, inf and subnormals (the generator is not a no-op)."""
    x = _data(np.random.default_rng(0), (4099,))
    assert np.isnan(x).any() and np.isinf(x).any()
    assert (_bits(x) == 0x80000000).any()
    assert ((np.abs(x) < 1.1754944e-38) & (x != 0)).any()


@pytest.mark.parametrize("isa", ISAS)
def test_relu_family_zero_signs_and_subnormals(restore_core, isa):
    """-0 handling of the branch-free loops, on every ISA: relu(-0) = +0, leaky_relu(-0) = -0,
    the parametrised ReLU never returns -0 below the threshold; where x > 0 the leaky / elu
    gradient passes dout unchanged (a subnormal dout survives the pool's flush-to-zero)."""
    _core.set_isa(isa)
    x = np.array([-0.0, 0.0, -1.0, 2.0, 1e-40, -1e-40, np.nan], np.float32)
    x = np.tile(x, 5)  # 35 elements: vector body and tail
    y = np.empty_like(x)
    _core.activation_forward(y, x, 1, 0.0)  # relu
    assert np.all(_bits(y[x == 0]) == 0) and np.all(y[~(x > 0)] == 0)
    _core.activation_forward(y, x, 4, 0.3)  # leaky_relu: x >= 0 keeps x's bits
    zero_neg = _bits(x) == 0x80000000
    assert np.all(_bits(y)[zero_neg] == 0x80000000)
    _core.activation_forward(y, x, 4, 0.0)  # slope 0: negative normal x gives 0 * x = -0
    assert np.all(_bits(y)[x == -1.0] == 0x80000000)
    # a negative subnormal counts as 0 under denormals-are-zero: x >= 0 holds, x comes back
    assert np.all(_bits(y)[_bits(x) == _bits(np.float32(-1e-40))] == _bits(np.float32(-1e-40)))
    _core.relu_forward(y, x, 0.0, np.inf, 0.0)
    assert not np.any(_bits(y) == 0x80000000)
    assert np.all(y[np.isnan(x)] == 0)
    d = np.full_like(x, -1e-40)
    dx = np.empty_like(x)
    for kind, alpha in ((4, 0.3), (5, 1.0)):
        _core.activation_backward(dx, d, np.ones_like(x), None, kind, alpha)
        assert np.all(_bits(dx) == _bits(d)), kind  # x = 1 > 0 everywhere: dout unchanged
