"""Binary cross-entropy (probabilities and logits) has AVX2 and AVX-512 builds of its
elementwise loops: every ISA the CPU has gives the SAME BITS as the generic build, forward
(values and the reduced loss) and backward, on 1 and 2 threads, including special inputs.
A NaN input gives a NaN everywhere, but the NaN's sign bit is not part of the guarantee (the
compiler may order the operands of a commutative add differently in each build, and x86 keeps
the first operand's NaN), so NaNs are compared as NaNs."""

import numpy as np
import pytest

from aenn import _core

ISAS = _core.available_isas()
BCE, BCE_LOGITS = 0, 1  # csrc/loss.h


def _inputs(rows, cols, kind, seed):
    rng = np.random.default_rng(seed)
    y = rng.random((rows, cols)).astype(np.float32)
    if kind == BCE:
        p = rng.random((rows, cols)).astype(np.float32)
    else:
        p = (rng.standard_normal((rows, cols)) * rng.choice([0.1, 3.0, 40.0], (rows, cols))).astype(
            np.float32)
    flat = p.reshape(-1)
    special = np.array([0.0, -0.0, 1.0, 1e-8, 1 - 1e-8, 1e-40, -1e-40, 88.0, -88.0, 104.0,
                        -104.0, np.inf, -np.inf, np.nan, 0.5, 17.0, -17.0], np.float32)
    k = min(flat.size, special.size)
    flat[:k] = special[:k]
    return y, p


def _run(y, p, kind):
    rows = y.shape[0]
    values = np.empty(rows, np.float32)
    loss = _core.loss_forward(values, y, p, kind, 0.0)
    grad = np.empty_like(p)
    _core.loss_backward(grad, y, p, kind, 0.0)
    return values, np.float64(loss), grad


def _assert_same(got, want, what):
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan), what
    assert got[~nan].tobytes() == want[~nan].tobytes(), what


@pytest.mark.parametrize("kind", [BCE, BCE_LOGITS], ids=["bce", "bce_logits"])
@pytest.mark.parametrize("rows,cols", [(1, 1), (7, 3), (17, 1), (5000, 1), (64, 33), (3, 1030),
                                       (130, 17)])
def test_bce_isas_same_bits(restore_core, kind, rows, cols):
    with np.errstate(all="ignore"):
        y, p = _inputs(rows, cols, kind, rows * 31 + cols)
        _core.set_isa("generic")
        _core.set_num_threads(1)
        want = _run(y, p, kind)
        for isa in ISAS:
            _core.set_isa(isa)
            for threads in (1, 2):
                _core.set_num_threads(threads)
                got = _run(y, p, kind)
                for g, w in zip(got, want):
                    _assert_same(np.atleast_1d(g), np.atleast_1d(w), (isa, threads))
