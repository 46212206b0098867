"""Instruction-set dispatch: every ISA the CPU supports gives the SAME BITS as the generic C
build, for conv / transposed conv / GEMM / dense, forward and backward, on 1 and 2 threads;
AENN_ISA selects the ISA at start-up; bad names are refused."""

import os
import subprocess
import sys

import numpy as np
import pytest

from aenn import _core
from tests.kernels import test_conv as tc

ISAS = _core.available_isas()


def _conv_case(b, h, w, c, oc, k, s, pads):
    kh, kw = (1, k) if h == 1 else (k, k)
    return dict(b=b, h=h, w=w, c=c, oc=oc, kh=kh, kw=kw,
                geom=(1 if h == 1 else s, s, 1, 1) + tuple(pads))


# The coursework's layer shapes (smaller batch), channel tails (OC not a multiple of any vector
# width), one input / one output channel, strides, dilation, and the random cases of test_conv.
SHAPED = [
    _conv_case(3, 28, 28, 1, 16, 3, 1, (1, 1, 1, 1)),
    _conv_case(3, 14, 14, 16, 16, 3, 1, (1, 1, 1, 1)),
    _conv_case(3, 7, 7, 16, 16, 3, 1, (1, 1, 1, 1)),
    _conv_case(3, 28, 28, 16, 1, 3, 1, (1, 1, 1, 1)),
    _conv_case(2, 13, 13, 32, 64, 3, 1, (0, 0, 0, 0)),
    _conv_case(2, 11, 9, 5, 37, 3, 1, (1, 1, 1, 1)),
    _conv_case(2, 11, 30, 19, 1, 3, 1, (1, 1, 1, 1)),
    _conv_case(2, 1, 288, 1, 32, 7, 2, (0, 0, 2, 3)),
    _conv_case(2, 1, 144, 32, 16, 7, 2, (0, 0, 2, 3)),
    dict(b=2, h=9, w=12, c=20, oc=24, kh=3, kw=3, geom=(1, 1, 2, 2, 2, 2, 2, 2)),
] + tc.CONV_CASES[:20]

SHAPED_T = [
    dict(b=2, h=1, w=72, c=16, oc=16, kh=1, kw=7, oh=1, ow=144, geom=(1, 2, 1, 1, 0, 2)),
    dict(b=2, h=1, w=144, c=16, oc=32, kh=1, kw=7, oh=1, ow=288, geom=(1, 2, 1, 1, 0, 2)),
    dict(b=2, h=1, w=288, c=32, oc=1, kh=1, kw=7, oh=1, ow=288, geom=(1, 1, 1, 1, 0, 3)),
    dict(b=2, h=7, w=7, c=17, oc=9, kh=3, kw=3, oh=14, ow=14, geom=(2, 2, 1, 1, 0, 0)),
] + tc.TRANSPOSE_CASES[:20]


def _conv_all(case):
    x, w, b = tc._arrays(case, False, seed=7)
    out = tc.c_conv_forward(x, w, b, case["geom"])
    return [out, *tc.c_conv_backward(np.cos(out), x, w, case["geom"])]


def _transpose_all(case):
    x, w, b = tc._arrays(case, True, seed=7)
    out = tc.c_transpose_forward(x, w, b, case["geom"], case["oh"], case["ow"])
    return [out, *tc.c_transpose_backward(np.cos(out), x, w, case["geom"])]


def _dense_gemm_all():
    rng = np.random.default_rng(11)
    res = []
    for M, N, K, ta, tb in [(45, 77, 600, 0, 0), (130, 70, 300, 1, 0), (3, 250, 33, 0, 1),
                            (200, 5, 7, 1, 1)]:
        A = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
        B = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
        C = rng.standard_normal((M, N)).astype(np.float32)
        _core.gemm(C, A, B, ta, tb, 0.5)
        res.append(C)
    x = rng.standard_normal((37, 50)).astype(np.float32)
    w = rng.standard_normal((50, 19)).astype(np.float32)
    b = rng.standard_normal(19).astype(np.float32)
    out = np.empty((37, 19), np.float32)
    _core.dense_forward(out, x, w, b)
    dinp, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    _core.dense_backward(dinp, dw, db, np.sin(out), x, w)
    return res + [out, dinp, dw, db]


def _run_everything():
    res = []
    for case in SHAPED:
        res += _conv_all(case)
    for case in SHAPED_T:
        res += _transpose_all(case)
    return res + _dense_gemm_all()


def _bytes(arrays):
    return [None if a is None else a.tobytes() for a in arrays]


def test_generic_is_always_available():
    assert ISAS[0] == "generic"
    assert _core.isa() in ISAS


def test_set_isa_refuses_bad_names(restore_core):
    with pytest.raises(ValueError, match="set_isa.*'sse9'"):
        _core.set_isa("sse9")
    for name in ("avx2", "avx512"):
        if name not in ISAS:
            with pytest.raises(ValueError, match="not supported"):
                _core.set_isa(name)
    for name in ISAS:
        assert _core.set_isa(name) == name
        assert _core.isa() == name


@pytest.mark.skipif(len(ISAS) < 2, reason="only the generic build runs on this CPU")
@pytest.mark.parametrize("threads", [1, 2])
def test_every_isa_gives_the_generic_bits(threads, restore_core):
    _core.set_num_threads(threads)
    _core.set_isa("generic")
    want = _bytes(_run_everything())
    for name in ISAS[1:]:
        _core.set_isa(name)
        got = _bytes(_run_everything())
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert g == w, f"{name}: output {i} differs from the generic build"


@pytest.mark.parametrize("isa", ISAS)
def test_threads_bitwise_per_isa(isa, restore_core):
    _core.set_isa(isa)
    _core.set_num_threads(1)
    one = _bytes(_run_everything())
    _core.set_num_threads(2)
    two = _bytes(_run_everything())
    assert one == two


@pytest.mark.parametrize("isa", ISAS)
def test_every_isa_matches_the_reference(isa, restore_core):
    _core.set_isa(isa)
    for case in SHAPED[:10]:
        x, w, b = tc._arrays(case, False)
        out = tc.c_conv_forward(x, w, b, case["geom"])
        want = tc.ref.conv2d_forward(x.astype(np.float64), w.astype(np.float64),
                                     b.astype(np.float64), *case["geom"])
        tc._close(out, want)
        dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        got = tc.c_conv_backward(dout, x, w, case["geom"])
        want = tc.ref.conv2d_backward(dout.astype(np.float64), x.astype(np.float64),
                                      w.astype(np.float64), *case["geom"])
        for g, r in zip(got, want):
            tc._close(g, r)
    for case in SHAPED_T[:4]:
        x, w, b = tc._arrays(case, True)
        out = tc.c_transpose_forward(x, w, b, case["geom"], case["oh"], case["ow"])
        want = tc.ref.conv2d_transpose_forward(x.astype(np.float64), w.astype(np.float64),
                                               b.astype(np.float64), *case["geom"], case["oh"],
                                               case["ow"])
        tc._close(out, want)
        dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        got = tc.c_transpose_backward(dout, x, w, case["geom"])
        want = tc.ref.conv2d_transpose_backward(dout.astype(np.float64), x.astype(np.float64),
                                                w.astype(np.float64), *case["geom"])
        for g, r in zip(got, want):
            tc._close(g, r)


def _isa_in_subprocess(value):
    env = dict(os.environ)
    if value is None:
        env.pop("AENN_ISA", None)
    else:
        env["AENN_ISA"] = value
    code = "from aenn import _core; print(_core.isa())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_env_var_selects_the_isa():
    best = _isa_in_subprocess(None)
    assert best == ISAS[-1]
    for name in ISAS:
        assert _isa_in_subprocess(name) == name
    assert _isa_in_subprocess("no-such-isa") == best
    if "avx512" not in ISAS:  # an unsupported request falls back to the best one below it
        assert _isa_in_subprocess("avx512") == best


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("oc", [1, 3, 20])
def test_long_tap_lists_are_split_exactly(isa, oc, restore_core):
    # 17x17 = 289 taps: more than one kernel call per pixel block (TAPMAX = 256 in conv.c)
    _core.set_isa(isa)
    case = dict(b=1, h=19, w=18, c=2, oc=oc, kh=17, kw=17, geom=(1, 1, 1, 1, 8, 8, 8, 8))
    x, w, b = tc._arrays(case, False)
    out = tc.c_conv_forward(x, w, b, case["geom"])
    want = tc.ref.conv2d_forward(x.astype(np.float64), w.astype(np.float64),
                                 b.astype(np.float64), *case["geom"])
    tc._close(out, want)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    got = tc.c_conv_backward(dout, x, w, case["geom"])
    want = tc.ref.conv2d_backward(dout.astype(np.float64), x.astype(np.float64),
                                  w.astype(np.float64), *case["geom"])
    for g, r in zip(got, want):
        tc._close(g, r)
    _core.set_isa("generic")
    again = [tc.c_conv_forward(x, w, b, case["geom"]), *tc.c_conv_backward(dout, x, w, case["geom"])]
    assert _bytes(again) == _bytes([out, *got])
