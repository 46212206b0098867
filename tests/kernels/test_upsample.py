"""C upsampling kernels vs the NumPy twins, finite differences, threads, bad arguments."""

import numpy as np
import pytest

from aenn import _core
from aenn.reference import upsample as ref
from tests.gradcheck import assert_grads_match

CASES = [(1, 1, 1, 1, 2, 2), (2, 3, 7, 3, 2, 2), (1, 7, 3, 2, 3, 1), (3, 1, 17, 2, 1, 3),
         (2, 4, 5, 1, 2, 3)]


def run(kind, direction, src, sh, sw):
    B, H, W, C = src.shape
    shape = (B, H * sh, W * sw, C) if direction == "forward" else (B, H // sh, W // sw, C)
    dst = np.empty(shape, np.float32)
    getattr(_core, f"upsample_{kind}_{direction}")(dst, src, sh, sw)
    return dst


@pytest.mark.parametrize("kind", ["nearest", "bilinear"])
@pytest.mark.parametrize("B,H,W,C,sh,sw", CASES)
def test_matches_reference(kind, B, H, W, C, sh, sw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, H, W, C)).astype(np.float32)
    out = run(kind, "forward", x, sh, sw)
    fwd = getattr(ref, f"upsample_{kind}_forward")
    bwd = getattr(ref, f"upsample_{kind}_backward")
    np.testing.assert_allclose(out, fwd(x, sh, sw), rtol=1e-5, atol=1e-6)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    np.testing.assert_allclose(run(kind, "backward", dout, sh, sw), bwd(dout, sh, sw), rtol=1e-5,
                               atol=1e-5)


def test_bilinear_factor_two_values():
    x = np.array([1.0, 2.0, 4.0], np.float32).reshape(1, 1, 3, 1)
    out = run("bilinear", "forward", x, 1, 2).ravel()
    np.testing.assert_allclose(out, [1.0, 1.25, 1.75, 2.5, 3.5, 4.0])


@pytest.mark.parametrize("kind", ["nearest", "bilinear"])
def test_reference_grads_finite_differences(kind):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 2))
    fwd = getattr(ref, f"upsample_{kind}_forward")
    dout = rng.standard_normal((2, 6, 15, 2))
    assert_grads_match(lambda x: fwd(x, 2, 3), [x], dout,
                       [getattr(ref, f"upsample_{kind}_backward")(dout, 2, 3)])


def test_threads_bitwise():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7, 9, 3)).astype(np.float32)
    dout = rng.standard_normal((5, 14, 18, 3)).astype(np.float32)
    res = []
    old = _core.get_num_threads()
    try:
        for t in (1, 2):
            _core.set_num_threads(t)
            res.append([run(k, "forward", x, 2, 2).tobytes() for k in ("nearest", "bilinear")]
                       + [run(k, "backward", dout, 2, 2).tobytes() for k in ("nearest", "bilinear")])
    finally:
        _core.set_num_threads(old)
    assert res[0] == res[1]


def test_bad_arguments_raise():
    x = np.zeros((2, 3, 4, 5), np.float32)
    out = np.zeros((2, 6, 8, 5), np.float32)
    _core.upsample_nearest_forward(out, x, 2, 2)
    with pytest.raises(ValueError):
        _core.upsample_nearest_forward(out, x, 0, 2)
    with pytest.raises(ValueError):
        _core.upsample_bilinear_forward(out, x, 3, 2)
    with pytest.raises(ValueError):
        _core.upsample_bilinear_forward(out[:1], x, 2, 2)
    with pytest.raises(TypeError):
        _core.upsample_bilinear_forward(out, x.astype(np.float64), 2, 2)
    with pytest.raises(ValueError):
        _core.upsample_nearest_backward(x, out[..., :4], 2, 2)
    with pytest.raises(ValueError):
        _core.upsample_nearest_backward(x, x, 1, 1)  # overlap
    with pytest.raises(ValueError):
        _core.upsample_nearest_forward(out.reshape(2, 6, 40), x, 2, 2)
