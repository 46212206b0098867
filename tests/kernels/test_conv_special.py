"""The conv special paths (one input channel: forward rows and weight gradient; one output
channel: forward on transposed rows, backward-data rows at stride 1, weight gradient; and the
same paths reached through the transposed convolution) give the SAME BITS as the general
kernels (`_core.conv_set_special_paths(False)`, generic ISA, 1 thread), on every ISA the CPU
has and on 1 and 2 threads, on odd shapes; and they match the float64 NumPy twin."""

import numpy as np
import pytest

from aenn import _core
from aenn.layers import shapes
from aenn.reference import conv as ref
from tests.kernels import test_conv as tc

ISAS = _core.available_isas()


def _cases(count, seed, one):
    """Random conv geometries with one input channel (one='c') or one output channel
    (one='oc'): odd sizes, kernels up to 9 wide (the weight-gradient path takes KW <= 8),
    strides 1..2, dilation 1..2, valid / same / causal, batch 1..3."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        h, w = (int(v) for v in rng.choice([1, 3, 7, 17, 28, 33], 2))
        kh, kw = int(rng.integers(1, 4)), int(rng.choice([1, 2, 3, 5, 8, 9]))
        sh, sw = (int(v) for v in rng.choice([1, 1, 2], 2))
        dh, dw = (1, 1) if rng.random() < 0.6 else (int(v) for v in rng.integers(1, 3, 2))
        padding = str(rng.choice(["valid", "same", "causal"]))
        many = int(rng.choice([2, 3, 16, 17, 33]))
        c, oc = (1, many) if one == "c" else (many, 1)
        b = int(rng.integers(1, 4))
        pads = (shapes.conv_padding(h, kh, sh, padding, dh)
                + shapes.conv_padding(w, kw, sw, padding, dw))
        if h + pads[0] + pads[1] < (kh - 1) * dh + 1 or w + pads[2] + pads[3] < (kw - 1) * dw + 1:
            continue
        cases.append(dict(b=b, h=h, w=w, c=c, oc=oc, kh=kh, kw=kw,
                          geom=(sh, sw, dh, dw) + tuple(int(p) for p in pads)))
    return cases


DENOISER = [
    dict(b=3, h=28, w=28, c=1, oc=16, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=3, h=28, w=28, c=16, oc=1, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=1, h=17, w=17, c=32, oc=1, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=2, h=5, w=40, c=1, oc=17, kh=2, kw=7, geom=(1, 1, 1, 1, 0, 1, 3, 3)),
    # the chunk-wide one-input-channel weight gradient (KW == 3, KH <= 3): several chunks, a
    # channel tail, strides and dilation, kernel rows outside the input
    dict(b=5, h=28, w=28, c=1, oc=20, kh=3, kw=3, geom=(1, 1, 1, 1, 1, 1, 1, 1)),
    dict(b=4, h=15, w=13, c=1, oc=9, kh=2, kw=3, geom=(2, 1, 1, 2, 1, 0, 2, 2)),
    dict(b=3, h=9, w=30, c=1, oc=33, kh=1, kw=3, geom=(1, 2, 1, 1, 0, 0, 1, 1)),
]
CASES = DENOISER + _cases(30, 3, "c") + _cases(30, 4, "oc")


def _transpose_cases():
    """Transposed convs with one input channel (its forward is the one-dy-channel gather) or
    one output channel (its backward-data is the one-input-channel correlate)."""
    out = []
    for (b, h, w, c, oc, kh, kw, s, d) in [(2, 7, 9, 1, 16, 3, 3, 1, 1), (1, 5, 17, 1, 3, 2, 5, 1, 2),
                                           (2, 7, 7, 16, 1, 3, 3, 2, 1), (1, 3, 33, 17, 1, 1, 7, 1, 1),
                                           (3, 4, 6, 1, 1, 3, 2, 1, 1), (1, 1, 28, 1, 5, 1, 9, 1, 1),
                                           # the NAB Conv1D autoencoder's last layer (one row of
                                           # 288 x 32 channels: the dy row cache's one slot)
                                           (2, 1, 288, 32, 1, 1, 7, 1, 1)]:
        for padding in ("valid", "same"):
            oh = shapes.deconv_output_length(h, kh, s, padding, None, d)
            ow = shapes.deconv_output_length(w, kw, s, padding, None, d)
            ct, _ = shapes.deconv_crop(h, kh, s, oh, d)
            cl, _ = shapes.deconv_crop(w, kw, s, ow, d)
            out.append(dict(b=b, h=h, w=w, c=c, oc=oc, kh=kh, kw=kw, oh=oh, ow=ow,
                            geom=(s, s, d, d, int(ct), int(cl))))
    return out


T_CASES = _transpose_cases()


def _brief_cases(transpose):
    """Channel counts {1, 3, 16, 17, 32, 64} in and out (the many-channel tiles split runs of
    pixels / channels into near-equal tiles; one dx channel at stride 1 is the pixel-lane
    gather), odd sizes, valid / same, strides 1..2, batch 1..2."""
    out = []
    rng = np.random.default_rng(11 if transpose else 12)
    chans = [1, 3, 16, 17, 32, 64]
    for c in chans:
        for oc in chans:
            h, w = (int(v) for v in rng.choice([5, 7, 13, 14], 2))
            s = int(rng.choice([1, 2])) if (c, oc) != (32, 1) else 1
            d = 2 if (c + oc) % 7 == 0 else 1
            padding = ("valid", "same")[(c + oc) % 2]
            b = 1 + (c * oc) % 2
            if transpose:
                oh = shapes.deconv_output_length(h, 3, s, padding, None, d)
                ow = shapes.deconv_output_length(w, 3, s, padding, None, d)
                ct, _ = shapes.deconv_crop(h, 3, s, oh, d)
                cl, _ = shapes.deconv_crop(w, 3, s, ow, d)
                out.append(dict(b=b, h=h, w=w, c=c, oc=oc, kh=3, kw=3, oh=oh, ow=ow,
                                geom=(s, s, d, d, int(ct), int(cl))))
            else:
                pads = shapes.conv_padding(h, 3, s, padding, d) + shapes.conv_padding(w, 3, s, padding, d)
                out.append(dict(b=b, h=h, w=w, c=c, oc=oc, kh=3, kw=3,
                                geom=(s, s, d, d) + tuple(int(p) for p in pads)))
    return out


B_CASES = _brief_cases(False)
BT_CASES = _brief_cases(True)


def _conv_all(case):
    x, w, b = tc._arrays(case, False, seed=5)
    out = tc.c_conv_forward(x, w, b, case["geom"])
    return [out, *tc.c_conv_backward(np.cos(out), x, w, case["geom"])]


def _transpose_all(case):
    x, w, b = tc._arrays(case, True, seed=5)
    out = tc.c_transpose_forward(x, w, b, case["geom"], case["oh"], case["ow"])
    return [out, *tc.c_transpose_backward(np.cos(out), x, w, case["geom"])]


def _general(fn, case):
    _core.set_isa("generic")
    _core.set_num_threads(1)
    _core.conv_set_special_paths(False)
    try:
        return fn(case)
    finally:
        _core.conv_set_special_paths(True)


def _assert_same_bits(got, want, what):
    for i, (g, r) in enumerate(zip(got, want)):
        assert g.tobytes() == r.tobytes(), f"{what}: output {i} differs from the general path"


@pytest.mark.parametrize("fn,cases", [(_conv_all, CASES), (_transpose_all, T_CASES),
                                      (_conv_all, B_CASES), (_transpose_all, BT_CASES)],
                         ids=["conv", "transpose", "conv-channels", "transpose-channels"])
def test_special_paths_same_bits_as_general(restore_core, fn, cases):
    for case in cases:
        want = _general(fn, case)
        for isa in ISAS:
            _core.set_isa(isa)
            for threads in (1, 2):
                _core.set_num_threads(threads)
                _assert_same_bits(fn(case), want, f"{case} isa={isa} threads={threads}")


@pytest.mark.parametrize("transpose,c,w", [(False, 16, 28), (False, 32, 33), (False, 17, 9),
                                           (True, 32, 28), (True, 16, 33), (True, 17, 9)])
def test_one_channel_border_taps_are_skipped_not_added(restore_core, transpose, c, w):
    """The pixel-lane paths (one output channel; one dx channel of a transposed conv) read the
    zero columns around a row in their border lanes and must drop those terms, as the general
    path does, not add fma(+0, w, acc). With x = -0, bias = -0 and weights > 0 every term is -0
    and every output stays -0; an added +0 would turn the border outputs into +0."""
    h = 5
    x = np.full((2, h, w, c), -0.0, np.float32)
    bias = np.full(1, -0.0, np.float32)
    rng = np.random.default_rng(c + w)
    k = rng.uniform(0.5, 1.5, (3, 3, 1, c) if transpose else (3, 3, c, 1)).astype(np.float32)
    for isa in ISAS:
        _core.set_isa(isa)
        for threads in (1, 2):
            _core.set_num_threads(threads)
            if transpose:
                out = tc.c_transpose_forward(x, k, bias, (1, 1, 1, 1, 1, 1), h, w)
            else:
                out = tc.c_conv_forward(x, k, bias, (1, 1, 1, 1, 1, 1, 1, 1))
            assert out.shape == (2, h, w, 1)
            assert np.all(out == 0) and np.all(np.signbit(out)), (
                f"isa={isa} threads={threads}: +0 at {np.argwhere(~np.signbit(out))[:4].tolist()}")


@pytest.mark.parametrize("case", DENOISER + CASES[len(DENOISER):len(DENOISER) + 10]
                         + CASES[len(DENOISER) + 30:len(DENOISER) + 40])
def test_special_paths_match_reference(case):
    x, w, b = tc._arrays(case, False, seed=9)
    out = tc.c_conv_forward(x, w, b, case["geom"])
    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    geom = case["geom"]
    r_out = ref.conv2d_forward(x64, w64, b64, *geom)
    tc._close(out, r_out)
    dout = np.cos(out).astype(np.float32)
    dinp, dw, db = tc.c_conv_backward(dout, x, w, geom)
    r_dinp, r_dw, r_db = ref.conv2d_backward(dout.astype(np.float64), x64, w64, *geom)
    tc._close(dinp, r_dinp)
    tc._close(dw, r_dw)
    tc._close(db, r_db)


def test_first_layer_backward_without_dinp_same_bits(restore_core):
    """The engine asks a first layer for no dinp: dweight and dbias are unchanged by that."""
    case = DENOISER[0]
    x, w, b = tc._arrays(case, False, seed=2)
    dout = np.sin(tc.c_conv_forward(x, w, b, case["geom"]))
    _, dw0, db0 = tc.c_conv_backward(dout, x, w, case["geom"], need_dinp=False)
    _, dw1, db1 = _general(lambda c: tc.c_conv_backward(dout, x, w, c["geom"]), case)
    assert dw0.tobytes() == dw1.tobytes() and db0.tobytes() == db1.tobytes()


def _chunked_bias_sum(d, chunk=64):
    """The documented bias-gradient order, in float32: per chunk of 64 pixel rows, 0 then rows
    ascending; then the chunk partials added in chunk order starting from 0."""
    P, N = d.shape
    nch = -(-P // chunk)
    padded = np.zeros((nch * chunk, N), np.float32)
    padded[:P] = d  # adding +0 leaves a partial unchanged (a partial starting at +0 is never -0)
    blocks = padded.reshape(nch, chunk, N)
    part = np.zeros((nch, N), np.float32)
    for i in range(chunk):
        part = part + blocks[:, i, :]
    total = np.zeros(N, np.float32)
    for k in range(nch):
        total = total + part[k]
    return total


@pytest.mark.parametrize("b,h,w,oc", [(1, 1, 1, 1), (1, 8, 64, 3), (2, 7, 9, 16), (3, 28, 28, 1),
                                      (1, 17, 64, 17), (5, 28, 28, 16), (2, 11, 64, 2)])
def test_bias_gradient_chunk_order_bits(restore_core, b, h, w, oc):
    case = dict(b=b, h=h, w=w, c=2, oc=oc, kh=1, kw=1, geom=(1, 1, 1, 1, 0, 0, 0, 0))
    x, wt, _ = tc._arrays(case, False, seed=1)
    rng = np.random.default_rng(h * w + oc)
    dout = (rng.standard_normal((b, h, w, oc)) * rng.choice([1e-3, 1.0, 1e3], (b, h, w, oc))
            ).astype(np.float32)
    want = _chunked_bias_sum(dout.reshape(-1, oc))
    for threads in (1, 2):
        _core.set_num_threads(threads)
        _, _, db = tc.c_conv_backward(dout, x, wt, case["geom"])
        assert db.tobytes() == want.tobytes()
