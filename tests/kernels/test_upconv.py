"""The fused nearest-2x-upsample + 3x3 'same' conv kernel (csrc/upconv.c): vs its NumPy twin,
vs the unfused upsample + conv (within tolerance: the folded weights round differently), twin
vs finite differences, 1 vs 2 threads and every ISA bit-identical, bad arguments raise."""

import numpy as np
import pytest

from aenn import _core
from aenn.reference import conv as rconv
from aenn.reference import upconv as ref
from aenn.reference import upsample as rup
from tests.gradcheck import assert_grads_match

ISAS = _core.available_isas()
SAME = (1, 1, 1, 1, 1, 1, 1, 1)  # strides, dilation, 'same' pads of a 3x3 kernel

# (B, H, W, C, OC, bias): the denoiser's two pairs, odd sizes, batch 1, one channel in / out
CASES = [(3, 7, 7, 16, 16, True), (2, 14, 14, 16, 1, True), (1, 1, 1, 1, 1, True),
         (2, 3, 5, 4, 3, False), (1, 5, 2, 1, 7, True), (2, 1, 6, 17, 1, False),
         (1, 4, 3, 3, 33, True), (3, 2, 2, 9, 8, True)]


def _data(B, H, W, C, OC, bias, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, H, W, C)).astype(np.float32)
    w = rng.standard_normal((3, 3, C, OC)).astype(np.float32)
    b = rng.standard_normal(OC).astype(np.float32) if bias else None
    dy = rng.standard_normal((B, 2 * H, 2 * W, OC)).astype(np.float32)
    return x, w, b, dy


def run(x, w, b, dy, need_dinp=True):
    B, H, W, _C = x.shape
    OC = w.shape[3]
    out = np.empty((B, 2 * H, 2 * W, OC), np.float32)
    _core.upconv_forward(out, x, w, b)
    dx = np.empty_like(x) if need_dinp else None
    dw = np.empty_like(w)
    db = np.empty(OC, np.float32) if b is not None else None
    _core.upconv_backward(dx, dw, db, dy, x, w)
    return out, dx, dw, db


def _f64(a):
    return None if a is None else a.astype(np.float64)


@pytest.mark.parametrize("B,H,W,C,OC,bias", CASES)
def test_matches_reference_and_unfused(B, H, W, C, OC, bias):
    x, w, b, dy = _data(B, H, W, C, OC, bias)
    out, dx, dw, db = run(x, w, b, dy)
    r_out = ref.upconv_forward(_f64(x), _f64(w), _f64(b))
    r_dx, r_dw, r_db = ref.upconv_backward(_f64(dy), _f64(x), _f64(w))
    # the unfused pair, in float64
    up = rup.upsample_nearest_forward(_f64(x), 2, 2)
    u_out = rconv.conv2d_forward(up, _f64(w), _f64(b), *SAME)
    u_dup, u_dw, u_db = rconv.conv2d_backward(_f64(dy), up, _f64(w), *SAME)
    u_dx = rup.upsample_nearest_backward(u_dup, 2, 2)
    for got, twin, unfused in ((out, r_out, u_out), (dx, r_dx, u_dx), (dw, r_dw, u_dw)):
        np.testing.assert_allclose(twin, unfused, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(got, twin, rtol=1e-4, atol=1e-4)
    if bias:
        np.testing.assert_allclose(db, r_db, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(r_db, u_db, rtol=1e-10, atol=1e-10)
    # dinp optional: same weight / bias gradients without it
    _, none_dx, dw2, db2 = run(x, w, b, dy, need_dinp=False)
    assert none_dx is None
    assert dw2.tobytes() == dw.tobytes()
    if bias:
        assert db2.tobytes() == db.tobytes()


def test_float32_close_to_unfused_kernels():
    """The C fused op against the C unfused pair (float32 both): a few ulps apart."""
    x, w, b, dy = _data(4, 7, 7, 16, 16, True, seed=3)
    out, dx, dw, db = run(x, w, b, dy)
    up = np.empty((4, 14, 14, 16), np.float32)
    _core.upsample_nearest_forward(up, x, 2, 2)
    u_out = np.empty_like(out)
    _core.conv2d_forward(u_out, up, w, b, *SAME)
    dup, u_dw, u_db = np.empty_like(up), np.empty_like(w), np.empty(16, np.float32)
    _core.conv2d_backward(dup, u_dw, u_db, dy, up, w, *SAME)
    u_dx = np.empty_like(x)
    _core.upsample_nearest_backward(u_dx, dup, 2, 2)
    for a, b_ in ((out, u_out), (dx, u_dx), (dw, u_dw), (db, u_db)):
        np.testing.assert_allclose(a, b_, rtol=1e-4, atol=1e-4)


def test_reference_grads_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 3))
    w = rng.standard_normal((3, 3, 3, 2))
    b = rng.standard_normal(2)
    dy = rng.standard_normal((2, 6, 8, 2))
    dx, dw, db = ref.upconv_backward(dy, x, w)
    assert_grads_match(lambda x, w, b: ref.upconv_forward(x, w, b), [x, w, b], dy, [dx, dw, db])


@pytest.mark.parametrize("B,H,W,C,OC,bias", CASES)
def test_threads_and_isas_bitwise(B, H, W, C, OC, bias, restore_core):
    x, w, b, dy = _data(B, H, W, C, OC, bias, seed=5)
    _core.set_isa("generic")
    _core.set_num_threads(1)
    base = [a.tobytes() for a in run(x, w, b, dy) if a is not None]
    for isa in ISAS:
        _core.set_isa(isa)
        for t in (1, 2):
            _core.set_num_threads(t)
            got = [a.tobytes() for a in run(x, w, b, dy) if a is not None]
            assert got == base, (isa, t)


def test_bad_arguments_raise():
    x, w, b, dy = _data(2, 3, 4, 5, 6, True)
    out = np.empty((2, 6, 8, 6), np.float32)
    with pytest.raises(ValueError, match="upconv_forward.*weight"):
        _core.upconv_forward(out, x, np.zeros((2, 3, 5, 6), np.float32), b)
    with pytest.raises(ValueError, match="upconv_forward.*out"):
        _core.upconv_forward(np.empty((2, 6, 7, 6), np.float32), x, w, b)
    with pytest.raises(ValueError, match="upconv_forward.*bias"):
        _core.upconv_forward(out, x, w, np.zeros(5, np.float32))
    with pytest.raises((TypeError, ValueError), match="upconv_forward.*inp"):
        _core.upconv_forward(out, x.astype(np.float64), w, b)
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty(6, np.float32)
    with pytest.raises(ValueError, match="upconv_backward.*dinp"):
        _core.upconv_backward(np.empty((2, 3, 4, 4), np.float32), dw, db, dy, x, w)
    with pytest.raises(ValueError, match="upconv_backward.*dout"):
        _core.upconv_backward(dx, dw, db, dy[:, :5], x, w)
    with pytest.raises(ValueError, match="upconv_backward.*dbias"):
        _core.upconv_backward(dx, dw, np.empty(3, np.float32), dy, x, w)
    with pytest.raises(ValueError, match="upconv_backward.*shares memory"):
        _core.upconv_backward(dx, dw, db, dy, dx, w)
    with pytest.raises(ValueError, match="upconv_backward.*dout"):
        _core.upconv_backward(dx, dw, db, np.ascontiguousarray(dy[:, :5]), x, w)


# One output channel: csrc/upconv.c's one-channel path (eight output rows in lockstep forward;
# bias, weight gradient and dinp in one pass per chunk backward) against the four parity
# convolutions through conv.c's general path (special paths off), which it must equal bit for
# bit. Sizes: the denoiser's last layer, odd and one-pixel sizes, widths past one 16-lane vector,
# more than one chunk of 64 low-res rows, channels that are not a multiple of the vector width.
ONE_CHANNEL = [(3, 14, 14, 16), (2, 7, 7, 16), (1, 1, 1, 1), (2, 5, 3, 3), (3, 1, 6, 17),
               (2, 4, 17, 5), (1, 9, 33, 2), (4, 2, 2, 9), (1, 3, 40, 16), (70, 3, 2, 4),
               (1, 2, 1, 20)]


def _one_channel_data(B, H, W, C, seed, special=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, H, W, C)).astype(np.float32)
    w = rng.standard_normal((3, 3, C, 1)).astype(np.float32)
    dy = rng.standard_normal((B, 2 * H, 2 * W, 1)).astype(np.float32)
    if special:  # signed zeros, a NaN and an infinity where the skipped border taps would see them
        x[..., 0] = -0.0
        x[0, 0, 0, -1] = np.inf
        dy[:, 0] = -0.0
        dy[0, -1, -1, 0] = np.nan
        w[0, 0] = -0.0
    return x, w, dy


@pytest.mark.parametrize("B,H,W,C", ONE_CHANNEL)
@pytest.mark.parametrize("special", [False, True])
def test_one_channel_path_same_bits_as_parity_convs(B, H, W, C, special, restore_core):
    x, w, dy = _one_channel_data(B, H, W, C, seed=B * 100 + W, special=special)
    for b in (np.array([0.25], np.float32), None):
        _core.set_isa("generic")
        _core.set_num_threads(1)
        _core.conv_set_special_paths(False)
        want = [a.tobytes() for a in run(x, w, b, dy) if a is not None]
        _core.conv_set_special_paths(True)
        for isa in ISAS:
            _core.set_isa(isa)
            for t in (1, 2):
                _core.set_num_threads(t)
                got = [a.tobytes() for a in run(x, w, b, dy) if a is not None]
                assert got == want, (isa, t, b is None)
                # without dinp: the same weight and bias gradients
                _, none_dx, dw2, db2 = run(x, w, b, dy, need_dinp=False)
                assert none_dx is None and dw2.tobytes() == want[2]
                if b is not None:
                    assert db2.tobytes() == want[3]
