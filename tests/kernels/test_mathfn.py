"""mathfn.h (aenn's own exp/log/tanh/log1p/expm1/sigmoid/erf) vs float64 NumPy."""

import math

import numpy as np
import pytest

from aenn import _core

FN = {"exp": 0, "log": 1, "tanh": 2, "log1p": 3, "expm1": 4, "sigmoid": 5, "erf": 6}


def _sigmoid64(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


REF = {
    "exp": np.exp, "log": np.log, "tanh": np.tanh, "log1p": np.log1p, "expm1": np.expm1,
    "sigmoid": _sigmoid64, "erf": np.vectorize(math.erf, otypes=[np.float64]),
}


def run(name, x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.empty_like(x)
    _core.mathfn(out, x, FN[name])
    return out


def ulps(got, ref):
    ref32 = np.abs(ref).astype(np.float32)
    spacing = np.spacing(np.maximum(ref32, np.float32(np.finfo(np.float32).smallest_subnormal)))
    return np.abs(got.astype(np.float64) - ref) / spacing.astype(np.float64)


def sample(name, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    if name == "exp":
        x = rng.uniform(-103, 88.7, n)
    elif name == "log":
        x = np.exp(rng.uniform(-100, 88, n))
    elif name == "log1p":
        x = np.concatenate([rng.uniform(-0.999, 10, n // 2), rng.uniform(-1e-3, 1e-3, n // 2)])
    elif name == "expm1":
        x = np.concatenate([rng.uniform(-20, 20, n // 2), rng.uniform(-0.6, 0.6, n // 2)])
    elif name == "tanh":
        x = np.concatenate([rng.uniform(-10, 10, n // 2), rng.uniform(-1e-2, 1e-2, n // 2)])
    elif name == "sigmoid":
        x = rng.uniform(-80, 80, n)
    else:
        x = rng.uniform(-5, 5, n)
    return x.astype(np.float32)


# maximum error in float32 ulps of the correctly rounded result (erf: absolute error)
ULP_BOUND = {"exp": 2, "log": 2, "tanh": 3, "log1p": 4, "expm1": 3, "sigmoid": 3}


@pytest.mark.parametrize("name", sorted(ULP_BOUND))
def test_ulp_accuracy(name):
    x = sample(name)
    got = run(name, x)
    ref = REF[name](x.astype(np.float64))
    assert ulps(got, ref).max() <= ULP_BOUND[name]


def test_erf_absolute_accuracy():
    x = sample("erf")
    got = run("erf", x)
    ref = REF["erf"](x.astype(np.float64))
    assert np.abs(got - ref).max() < 5e-7
    # near 0 the Maclaurin branch is relatively accurate too
    small = np.linspace(-0.49, 0.49, 999, dtype=np.float32)
    np.testing.assert_allclose(run("erf", small), REF["erf"](small.astype(np.float64)), rtol=1e-6,
                               atol=1e-30)


INF, NAN = np.inf, np.nan
DENORM = np.float32(1e-40)

EDGES = [
    ("exp", [0.0, -0.0, INF, -INF, 88.8, -104.0, float(DENORM), 1.0],
     [1.0, 1.0, INF, 0.0, INF, 0.0, 1.0, math.e]),
    ("log", [1.0, 0.0, -0.0, INF, -1.0, float(DENORM), math.e],
     [0.0, -INF, -INF, INF, NAN, math.log(float(DENORM)), 1.0]),
    ("tanh", [0.0, INF, -INF, 20.0, -20.0, float(DENORM)], [0.0, 1.0, -1.0, 1.0, -1.0, float(DENORM)]),
    ("log1p", [0.0, -1.0, INF, float(DENORM), -2.0], [0.0, -INF, INF, float(DENORM), NAN]),
    ("expm1", [0.0, INF, -INF, float(DENORM)], [0.0, INF, -1.0, float(DENORM)]),
    ("sigmoid", [0.0, INF, -INF, 200.0, -200.0], [0.5, 1.0, 0.0, 1.0, 0.0]),
    ("erf", [0.0, INF, -INF, 10.0, -10.0], [0.0, 1.0, -1.0, 1.0, -1.0]),
]


@pytest.mark.parametrize("name,x,expected", EDGES, ids=[e[0] for e in EDGES])
def test_edge_cases(name, x, expected):
    got = run(name, np.array(x, dtype=np.float32))
    np.testing.assert_allclose(got, np.array(expected, dtype=np.float32), rtol=2e-7, atol=0)


@pytest.mark.parametrize("name", sorted(FN))
def test_nan_propagates(name):
    got = run(name, np.array([NAN, 1.0], dtype=np.float32))
    assert np.isnan(got[0]) and not np.isnan(got[1])


def test_subnormal_exp_results():
    x = np.array([-88.0, -95.0, -100.0, -103.0], dtype=np.float32)
    got = run("exp", x)
    assert (got > 0).all()
    assert ulps(got, np.exp(x.astype(np.float64))).max() <= 2


def test_bad_arguments():
    x = np.ones(4, np.float32)
    with pytest.raises(ValueError):
        _core.mathfn(np.empty(4, np.float32), x, 7)
    with pytest.raises(TypeError):
        _core.mathfn(np.empty(4, np.float64), x, 0)
    with pytest.raises(ValueError):
        _core.mathfn(np.empty(3, np.float32), x, 0)
