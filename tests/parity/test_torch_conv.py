"""Parity of the conv kernels with PyTorch from identical weights (forward and gradients).

TF 'same' padding is asymmetric (extra zero at the end), so torch gets an explicit F.pad; the
transposed convolution is torch's full conv_transpose2d (padding 0) cropped / zero-extended to
the Keras output size (KERAS.md 2.4)."""

import numpy as np
import pytest

from aenn import _core
from aenn.layers import shapes

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _t(a):
    return torch.tensor(np.asarray(a, np.float64), requires_grad=True)


def _close(got, want, rtol):
    want = want.detach().numpy() if hasattr(want, "detach") else want
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("n,k,s,d,padding", [
    (28, 3, 1, 1, "same"), (28, 3, 2, 1, "same"), (7, 3, 2, 1, "same"), (17, 4, 1, 1, "same"),
    (9, 3, 1, 2, "same"), (17, 3, 3, 1, "valid"), (7, 2, 1, 2, "valid"), (288, 7, 2, 1, "same"),
])
def test_conv2d_matches_torch(n, k, s, d, padding):
    rng = np.random.default_rng(n * 31 + k)
    m = 5 if n < 100 else 1  # second spatial axis
    x = rng.standard_normal((2, m, n, 3)).astype(np.float32)
    w = rng.standard_normal((min(k, m) if m > 1 else 1, k, 3, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    kh = w.shape[0]
    sh = s if m > 1 else 1
    ph = shapes.conv_padding(m, kh, sh, padding, 1)
    pw = shapes.conv_padding(n, k, s, padding, d)
    geom = (sh, s, 1, d, ph[0], ph[1], pw[0], pw[1])
    oh = (m + sum(ph) - kh) // sh + 1
    ow = (n + sum(pw) - (k - 1) * d - 1) // s + 1
    out = np.empty((2, oh, ow, 4), np.float32)
    _core.conv2d_forward(out, x, w, b, *geom)

    tx, tw, tb = _t(x), _t(w), _t(b)
    xin = F.pad(tx.permute(0, 3, 1, 2), (pw[0], pw[1], ph[0], ph[1]))
    ty = F.conv2d(xin, tw.permute(3, 2, 0, 1), tb, stride=(sh, s), dilation=(1, d))
    ty = ty.permute(0, 2, 3, 1)
    _close(out, ty, 1e-5)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    (ty * torch.tensor(dout, dtype=torch.float64)).sum().backward()
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    _core.conv2d_backward(dx, dw, db, dout, x, w, *geom)
    _close(dx, tx.grad, 1e-4)
    _close(dw, tw.grad, 1e-4)
    _close(db, tb.grad, 1e-4)


@pytest.mark.parametrize("n,k,s,d,padding,op", [
    (7, 3, 2, 1, "same", None), (7, 3, 2, 1, "same", 0), (14, 3, 2, 1, "same", None),
    (7, 3, 1, 1, "same", None), (5, 4, 2, 1, "same", None), (5, 5, 2, 1, "same", 1),
    (4, 2, 3, 1, "valid", None), (4, 3, 2, 1, "valid", 1), (5, 3, 1, 2, "valid", None),
    (72, 7, 2, 1, "same", None),
])
def test_conv2d_transpose_matches_torch(n, k, s, d, padding, op):
    rng = np.random.default_rng(n * 17 + k)
    x = rng.standard_normal((2, 3, n, 5)).astype(np.float32)
    w = rng.standard_normal((2, k, 4, 5)).astype(np.float32)  # (kh, kw, OC, C)
    b = rng.standard_normal(4).astype(np.float32)
    oh = shapes.deconv_output_length(3, 2, 1, "valid", None, 1)
    ow = shapes.deconv_output_length(n, k, s, padding, op, d)
    ch, _ = shapes.deconv_crop(3, 2, 1, oh, 1)
    cw, extra = shapes.deconv_crop(n, k, s, ow, d)
    out = np.empty((2, oh, ow, 4), np.float32)
    _core.conv2d_transpose_forward(out, x, w, b, 1, s, 1, d, ch, cw)

    tx, tw, tb = _t(x), _t(w), _t(b)
    full = F.conv_transpose2d(tx.permute(0, 3, 1, 2), tw.permute(3, 2, 0, 1), None,
                              stride=(1, s), dilation=(1, d))
    ty = full[:, :, ch:ch + oh, cw:cw + ow]
    ty = F.pad(ty, (0, ow - ty.shape[3], 0, oh - ty.shape[2]))
    ty = ty + tb[None, :, None, None]
    ty = ty.permute(0, 2, 3, 1)
    _close(out, ty, 1e-5)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    (ty * torch.tensor(dout, dtype=torch.float64)).sum().backward()
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    _core.conv2d_transpose_backward(dx, dw, db, dout, x, w, 1, s, 1, d, ch, cw)
    _close(dx, tx.grad, 1e-4)
    _close(dw, tw.grad, 1e-4)
    _close(db, tb.grad, 1e-4)
