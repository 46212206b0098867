"""conv kernels: C (float32) vs the NumPy twin, twin vs finite differences (float64),
1 vs 2 threads bitwise, argument validation."""

import itertools

import numpy as np
import pytest

from aenn import _core
from aenn.layers import shapes
from aenn.reference import conv as ref
from tests.gradcheck import assert_grads_match


# ---- case generators -------------------------------------------------------------------------

def _conv_cases(count, seed, sizes=(1, 3, 7, 17)):
    """Random conv geometries (odd sizes, strides 1..3, dilation 1..2, valid/same/causal)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        h, w = rng.choice(sizes, 2)
        kh, kw = rng.integers(1, 4, 2)
        sh, sw = rng.integers(1, 4, 2)
        dh, dw = (1, 1) if rng.random() < 0.5 else tuple(rng.integers(1, 3, 2))
        padding = rng.choice(["valid", "same", "causal"])
        b, c, oc = rng.choice([1, 2]), rng.choice([1, 3, 5]), rng.choice([1, 3, 5])
        pads = shapes.conv_padding(h, kh, sh, padding, dh) + shapes.conv_padding(w, kw, sw, padding, dw)
        if h + pads[0] + pads[1] < (kh - 1) * dh + 1 or w + pads[2] + pads[3] < (kw - 1) * dw + 1:
            continue
        cases.append(dict(b=int(b), h=int(h), w=int(w), c=int(c), oc=int(oc), kh=int(kh),
                          kw=int(kw), geom=(int(sh), int(sw), int(dh), int(dw)) + tuple(map(int, pads))))
    return cases


def _transpose_cases(count, seed, sizes=(1, 3, 7)):
    """Random transpose geometries incl. output_padding None / 0 / < stride and appended zeros."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        h, w = rng.choice(sizes, 2)
        kh, kw = rng.integers(1, 5, 2)
        sh, sw = rng.integers(1, 4, 2)
        dh, dw = (1, 1) if rng.random() < 0.6 else tuple(rng.integers(1, 3, 2))
        padding = rng.choice(["valid", "same"])
        op = None if rng.random() < 0.5 else [int(rng.integers(0, sh)), int(rng.integers(0, sw))]
        b, c, oc = rng.choice([1, 2]), rng.choice([1, 3, 5]), rng.choice([1, 3, 5])
        oh = shapes.deconv_output_length(h, kh, sh, padding, None if op is None else op[0], dh)
        ow = shapes.deconv_output_length(w, kw, sw, padding, None if op is None else op[1], dw)
        ct, _ = shapes.deconv_crop(h, kh, sh, oh, dh)
        cl, _ = shapes.deconv_crop(w, kw, sw, ow, dw)
        if oh < 1 or ow < 1:  # 'same', even kernel, output_padding=0 on a length-1 input
            continue
        cases.append(dict(b=int(b), h=int(h), w=int(w), c=int(c), oc=int(oc), kh=int(kh),
                          kw=int(kw), oh=int(oh), ow=int(ow),
                          geom=(int(sh), int(sw), int(dh), int(dw), int(ct), int(cl))))
    return cases


CONV_CASES = _conv_cases(40, 0)
TRANSPOSE_CASES = _transpose_cases(40, 1)


# ---- C wrappers -------------------------------------------------------------------------------

def c_conv_forward(x, w, b, geom):
    sh, sw, dh, dw, pt, pb, pl, pr = geom
    oh = (x.shape[1] + pt + pb - (w.shape[0] - 1) * dh - 1) // sh + 1
    ow = (x.shape[2] + pl + pr - (w.shape[1] - 1) * dw - 1) // sw + 1
    out = np.empty((x.shape[0], oh, ow, w.shape[3]), np.float32)
    _core.conv2d_forward(out, x, w, b, *geom)
    return out


def c_conv_backward(dout, x, w, geom, need_dinp=True, need_dbias=True):
    dinp = np.empty_like(x) if need_dinp else None
    dweight = np.empty_like(w)
    dbias = np.empty(w.shape[3], np.float32) if need_dbias else None
    _core.conv2d_backward(dinp, dweight, dbias, dout, x, w, *geom)
    return dinp, dweight, dbias


def c_transpose_forward(x, w, b, geom, oh, ow):
    out = np.empty((x.shape[0], oh, ow, w.shape[2]), np.float32)
    _core.conv2d_transpose_forward(out, x, w, b, *geom)
    return out


def c_transpose_backward(dout, x, w, geom, need_dinp=True, need_dbias=True):
    dinp = np.empty_like(x) if need_dinp else None
    dweight = np.empty_like(w)
    dbias = np.empty(w.shape[2], np.float32) if need_dbias else None
    _core.conv2d_transpose_backward(dinp, dweight, dbias, dout, x, w, *geom)
    return dinp, dweight, dbias


def _arrays(case, transpose, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case["b"], case["h"], case["w"], case["c"])).astype(dtype)
    wshape = (case["kh"], case["kw"]) + ((case["oc"], case["c"]) if transpose else (case["c"], case["oc"]))
    w = rng.standard_normal(wshape).astype(dtype)
    bias = rng.standard_normal(case["oc"]).astype(dtype)
    return x, w, bias


def _close(got, want):
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale)


# ---- conv2d ----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: str(c))
def test_conv2d_c_matches_reference(case):
    x, w, b = _arrays(case, False)
    out = c_conv_forward(x, w, b, case["geom"])
    want = ref.conv2d_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                              *case["geom"])
    assert out.shape == want.shape
    _close(out, want)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    got = c_conv_backward(dout, x, w, case["geom"])
    want = ref.conv2d_backward(dout.astype(np.float64), x.astype(np.float64),
                               w.astype(np.float64), *case["geom"])
    for g, r in zip(got, want):
        _close(g, r)


@pytest.mark.parametrize("case", CONV_CASES[:10], ids=lambda c: str(c))
def test_conv2d_reference_gradcheck(case):
    x, w, b = _arrays(case, False, np.float64, seed=2)
    geom = case["geom"]
    out = ref.conv2d_forward(x, w, b, *geom)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx, dw, db = ref.conv2d_backward(dout, x, w, *geom)
    assert_grads_match(lambda x, w, b: ref.conv2d_forward(x, w, b, *geom), [x, w, b], dout,
                       [dx, dw, db])


def test_conv2d_optional_outputs():
    case = CONV_CASES[3]
    x, w, b = _arrays(case, False)
    out = c_conv_forward(x, w, b, case["geom"])
    dout = np.ones_like(out)
    full = c_conv_backward(dout, x, w, case["geom"])
    part = c_conv_backward(dout, x, w, case["geom"], need_dinp=False, need_dbias=False)
    assert part[0] is None and part[2] is None
    np.testing.assert_array_equal(full[1], part[1])
    nob = c_conv_forward(x, w, None, case["geom"])
    np.testing.assert_allclose(nob + b, out, rtol=1e-6, atol=1e-5)


# ---- transpose -------------------------------------------------------------------------------

@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=lambda c: str(c))
def test_transpose_c_matches_reference(case):
    x, w, b = _arrays(case, True)
    out = c_transpose_forward(x, w, b, case["geom"], case["oh"], case["ow"])
    want = ref.conv2d_transpose_forward(x.astype(np.float64), w.astype(np.float64),
                                        b.astype(np.float64), *case["geom"], case["oh"], case["ow"])
    _close(out, want)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    got = c_transpose_backward(dout, x, w, case["geom"])
    want = ref.conv2d_transpose_backward(dout.astype(np.float64), x.astype(np.float64),
                                         w.astype(np.float64), *case["geom"])
    for g, r in zip(got, want):
        _close(g, r)


@pytest.mark.parametrize("case", TRANSPOSE_CASES[:10], ids=lambda c: str(c))
def test_transpose_reference_gradcheck(case):
    x, w, b = _arrays(case, True, np.float64, seed=2)
    geom, oh, ow = case["geom"], case["oh"], case["ow"]
    out = ref.conv2d_transpose_forward(x, w, b, *geom, oh, ow)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx, dw, db = ref.conv2d_transpose_backward(dout, x, w, *geom)
    assert_grads_match(lambda x, w, b: ref.conv2d_transpose_forward(x, w, b, *geom, oh, ow),
                       [x, w, b], dout, [dx, dw, db])


@pytest.mark.parametrize("stride,k,n", [(2, 3, 7), (3, 2, 3), (2, 1, 3), (3, 1, 4)])
def test_transpose_appended_zeros_get_only_bias(stride, k, n):
    # valid with s > k (or output_padding) leaves output positions no input reaches
    op = stride - 1
    out_len = shapes.deconv_output_length(n, k, stride, "valid", op)
    crop, extra = shapes.deconv_crop(n, k, stride, out_len)
    assert crop == 0 and extra > 0
    x = np.random.default_rng(0).standard_normal((1, 1, n, 2)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((1, k, 3, 2)).astype(np.float32)
    b = np.array([1.0, 2.0, 3.0], np.float32)
    out = c_transpose_forward(x, w, b, (1, stride, 1, 1, 0, 0), 1, out_len)
    np.testing.assert_array_equal(out[0, 0, -extra:], np.broadcast_to(b, (extra, 3)))
    want = ref.conv2d_transpose_forward(x, w, b, 1, stride, 1, 1, 0, 0, 1, out_len)
    _close(out, want)


def test_transpose_is_adjoint_of_conv():
    # <conv(y), x> == <y, conv_transpose(x)> for the same kernel array and 'same' geometry
    rng = np.random.default_rng(5)
    n, k, s = 7, 3, 2
    y = rng.standard_normal((2, n * s, n * s, 3)).astype(np.float64)  # transpose output 14x14
    x = rng.standard_normal((2, n, n, 4)).astype(np.float64)
    w = rng.standard_normal((k, k, 3, 4)).astype(np.float64)
    pads = shapes.conv_padding(n * s, k, s, "same")
    conv_y = ref.conv2d_forward(y, w, None, s, s, 1, 1, *pads, *pads)
    assert conv_y.shape == x.shape
    crop = shapes.deconv_crop(n, k, s, n * s)[0]
    assert crop == pads[0]
    tx = ref.conv2d_transpose_forward(x, w, None, s, s, 1, 1, crop, crop, n * s, n * s)
    np.testing.assert_allclose(np.sum(conv_y * x), np.sum(y * tx), rtol=1e-10)


# ---- threads ---------------------------------------------------------------------------------

def _all_passes(case_conv, case_t):
    x, w, b = _arrays(case_conv, False)
    out = c_conv_forward(x, w, b, case_conv["geom"])
    res = [out, *c_conv_backward(np.cos(out), x, w, case_conv["geom"])]
    x, w, b = _arrays(case_t, True)
    out = c_transpose_forward(x, w, b, case_t["geom"], case_t["oh"], case_t["ow"])
    res += [out, *c_transpose_backward(np.cos(out), x, w, case_t["geom"])]
    return res


def test_threads_bitwise():
    big_conv = dict(b=9, h=17, w=17, c=5, oc=5, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1))
    big_t = dict(b=9, h=7, w=7, c=5, oc=3, kh=3, kw=3, oh=14, ow=14, geom=(2, 2, 1, 1, 0, 0))
    old = _core.get_num_threads()
    try:
        for cc, ct in [(big_conv, big_t)] + list(zip(CONV_CASES[:8], TRANSPOSE_CASES[:8])):
            _core.set_num_threads(1)
            one = _all_passes(cc, ct)
            _core.set_num_threads(2)
            two = _all_passes(cc, ct)
            for a, b in zip(one, two):
                assert a.tobytes() == b.tobytes()
    finally:
        _core.set_num_threads(old)


# ---- argument validation ----------------------------------------------------------------------

def _good():
    x = np.ones((2, 5, 5, 3), np.float32)
    w = np.ones((3, 3, 3, 4), np.float32)
    b = np.ones(4, np.float32)
    out = np.empty((2, 5, 5, 4), np.float32)
    return out, x, w, b


def test_conv_forward_bad_arguments():
    out, x, w, b = _good()
    geom = (1, 1, 1, 1, 1, 1, 1, 1)
    _core.conv2d_forward(out, x, w, b, *geom)
    with pytest.raises(TypeError, match="inp"):
        _core.conv2d_forward(out, x.astype(np.float64), w, b, *geom)
    with pytest.raises(TypeError):
        _core.conv2d_forward(out, [1.0], w, b, *geom)
    with pytest.raises(ValueError, match="weight"):  # channels disagree
        _core.conv2d_forward(out, x, np.ones((3, 3, 2, 4), np.float32), b, *geom)
    with pytest.raises(ValueError, match="stride"):
        _core.conv2d_forward(out, x, w, b, 0, 1, 1, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="dilation"):
        _core.conv2d_forward(out, x, w, b, 1, 1, 0, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="padding"):
        _core.conv2d_forward(out, x, w, b, 1, 1, 1, 1, -1, 1, 1, 1)
    with pytest.raises(ValueError, match="larger than the padded input"):
        _core.conv2d_forward(np.empty((2, 1, 1, 4), np.float32), x[:, :1, :1].copy(), w, b,
                             1, 1, 1, 1, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="output height"):
        _core.conv2d_forward(out, x, w, b, 1, 1, 1, 1, 0, 0, 1, 1)
    with pytest.raises(ValueError, match="bias"):
        _core.conv2d_forward(out, x, w, np.ones(3, np.float32), *geom)
    with pytest.raises(ValueError, match="read-only"):
        ro = out.copy()
        ro.flags.writeable = False
        _core.conv2d_forward(ro, x, w, b, *geom)
    with pytest.raises(ValueError, match="contiguous"):
        _core.conv2d_forward(out, np.asfortranarray(x), w, b, *geom)
    with pytest.raises(ValueError, match="shares memory"):
        buf = np.ones((2, 5, 5, 3), np.float32)
        _core.conv2d_forward(buf, buf, np.ones((3, 3, 3, 3), np.float32), None, *geom)
    with pytest.raises(ValueError, match="batch"):
        _core.conv2d_forward(out[:1].copy(), x, w, b, *geom)
    with pytest.raises(TypeError):
        _core.conv2d_forward(out, x, w, b, 1, 1, 1, 1)


def test_conv_backward_bad_arguments():
    out, x, w, b = _good()
    geom = (1, 1, 1, 1, 1, 1, 1, 1)
    dout = np.ones_like(out)
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    _core.conv2d_backward(dx, dw, db, dout, x, w, *geom)
    with pytest.raises(ValueError, match="dinp"):
        _core.conv2d_backward(np.empty((2, 5, 5, 2), np.float32), dw, db, dout, x, w, *geom)
    with pytest.raises(ValueError, match="dweight"):
        _core.conv2d_backward(dx, np.empty((3, 3, 3, 3), np.float32), db, dout, x, w, *geom)
    with pytest.raises(ValueError, match="dbias"):
        _core.conv2d_backward(dx, dw, np.empty(3, np.float32), dout, x, w, *geom)
    with pytest.raises(ValueError, match="shares memory"):
        _core.conv2d_backward(dx, dw, db, dout, dx, w, *geom)
    with pytest.raises(ValueError, match="dout"):
        _core.conv2d_backward(dx, dw, db, np.ones((2, 4, 5, 4), np.float32), x, w, *geom)


def test_transpose_bad_arguments():
    x = np.ones((1, 7, 7, 3), np.float32)
    w = np.ones((3, 3, 4, 3), np.float32)
    b = np.ones(4, np.float32)
    out = np.empty((1, 14, 14, 4), np.float32)
    _core.conv2d_transpose_forward(out, x, w, b, 2, 2, 1, 1, 0, 0)
    with pytest.raises(ValueError, match="crop"):
        _core.conv2d_transpose_forward(out, x, w, b, 2, 2, 1, 1, 2, 0)
    with pytest.raises(ValueError, match="crop"):
        _core.conv2d_transpose_forward(out, x, w, b, 2, 2, 1, 1, -1, 0)
    with pytest.raises(ValueError, match="stride"):
        _core.conv2d_transpose_forward(out, x, w, b, 0, 2, 1, 1, 0, 0)
    with pytest.raises(ValueError, match="weight"):  # (kh,kw,OC,C) layout expected
        _core.conv2d_transpose_forward(out, x, np.ones((3, 3, 3, 4), np.float32), b, 2, 2, 1, 1, 0, 0)
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    _core.conv2d_transpose_backward(dx, dw, db, np.ones_like(out), x, w, 2, 2, 1, 1, 0, 0)
    _core.conv2d_transpose_backward(None, dw, None, np.ones_like(out), x, w, 2, 2, 1, 1, 0, 0)
    with pytest.raises(ValueError, match="dweight"):
        _core.conv2d_transpose_backward(dx, np.empty((3, 3, 3, 4), np.float32), db,
                                        np.ones_like(out), x, w, 2, 2, 1, 1, 0, 0)
    with pytest.raises(TypeError, match="dout"):
        _core.conv2d_transpose_backward(dx, dw, db, None, x, w, 2, 2, 1, 1, 0, 0)


@pytest.mark.parametrize("B,H,W,C,OC", [(4, 14, 14, 2, 16), (2, 20, 17, 3, 20), (1, 5, 5, 1, 3)])
def test_bias_gradient_sums_in_documented_order(restore_core, B, H, W, C, OC):
    """dbias = sum over chunks (in order, from 0) of each chunk's sum (from 0, rows ascending) of
    AENN_CHUNK consecutive (b, oh, ow) rows of dout -- float32 adds, exactly, on every ISA and
    thread count (the chunks are summed 8 at a time in registers, the rest one by one)."""
    rng = np.random.default_rng(B * 100 + OC)
    x = rng.standard_normal((B, H, W, C)).astype(np.float32)
    w = rng.standard_normal((3, 3, C, OC)).astype(np.float32)
    dout = (rng.standard_normal((B, H, W, OC)) * 10.0 ** rng.integers(-3, 4, (B, H, W, OC))
            ).astype(np.float32)
    rows = dout.reshape(-1, OC)
    want = np.zeros(OC, np.float32)
    for k0 in range(0, rows.shape[0], _core.CHUNK):
        part = np.zeros(OC, np.float32)
        for r in rows[k0:k0 + _core.CHUNK]:
            part = part + r
        want = want + part
    geom = (1, 1, 1, 1, 1, 1, 1, 1)
    for isa in _core.available_isas():
        _core.set_isa(isa)
        for threads in (1, 2):
            _core.set_num_threads(threads)
            db = c_conv_backward(dout, x, w, geom, need_dinp=False)[2]
            assert db.tobytes() == want.tobytes(), (isa, threads)


@pytest.mark.parametrize("C,OC", [(1, 1), (1, 3), (2, 1), (2, 3)])
def test_weight_gradient_adds_chunk_partials_in_chunk_order(restore_core, C, OC):
    """dweight = ((0 + partial of chunk 0) + partial of chunk 1) + ..., a chunk being AENN_CHUNK
    (b, oh) rows. A 1x1 conv over images of CHUNK rows of one pixel makes image k chunk k; with
    dout = 1 and x = 1e8, -1e8, 1 in the three images (one pixel each, channel 0) the partials are
    exactly 1e8, -1e8, 1, and only the chunk order gives 1: from the last chunk back the 1 is lost
    in -1e8. Special paths (one channel in or out) and the general one, every ISA, 1 and 2 threads."""
    ch = _core.CHUNK
    x = np.zeros((3, ch, 1, C), np.float32)
    x[0, 5, 0, 0], x[1, 9, 0, 0], x[2, 0, 0, 0] = 1e8, -1e8, 1.0
    dout = np.ones((3, ch, 1, OC), np.float32)
    w = np.ones((1, 1, C, OC), np.float32)
    for isa in _core.available_isas():
        _core.set_isa(isa)
        for threads in (1, 2):
            _core.set_num_threads(threads)
            dw = c_conv_backward(dout, x, w, (1, 1, 1, 1, 0, 0, 0, 0), need_dinp=False)[1]
            assert np.all(dw[0, 0, 0] == 1.0), (isa, threads, dw[0, 0, 0])
            if C > 1:
                assert np.all(dw[0, 0, 1:] == 0.0), (isa, threads)


def test_more_taps_than_one_kernel_call_takes(restore_core):
    """A 17x17 kernel: the middle pixels read 289 taps, more than the 256 one tile call takes, so
    forward and backward-data run them in segments that add to the first one's outputs."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 17, 18, 2)).astype(np.float32)
    w = (rng.standard_normal((17, 17, 2, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    geom = (1, 1, 1, 1, 8, 8, 8, 8)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    want = ref.conv2d_forward(x64, w64, b.astype(np.float64), *geom)
    dout = rng.standard_normal(want.shape).astype(np.float32)
    want_grads = ref.conv2d_backward(dout.astype(np.float64), x64, w64, *geom)
    for isa in _core.available_isas():
        _core.set_isa(isa)
        for threads in (1, 2):
            _core.set_num_threads(threads)
            _close(c_conv_forward(x, w, b, geom), want)
            for g, r in zip(c_conv_backward(dout, x, w, geom), want_grads):
                _close(g, r)
