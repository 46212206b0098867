"""NumPy twins of the conv kernels (csrc/conv.c): same names and argument order, outputs returned.

Written independently of the C code: the convolution pads the input explicitly and sums one
strided slice per kernel tap; the transposed convolution scatters into the full output and then
crops / appends zeros exactly as KERAS.md 2.4 describes. Dtype-generic (float64 for gradchecks).

Layouts: inputs (B, H, W, C); conv weight (KH, KW, C, OC); transpose weight (KH, KW, OC, C).
"""

from __future__ import annotations

import numpy as np


def _taps(n_out, stride, dilation, k):
    """For each kernel tap t: the slice of the padded / full axis that tap reads / writes."""
    return [slice(t * dilation, t * dilation + (n_out - 1) * stride + 1, stride) for t in range(k)]


def conv2d_forward(inp, weight, bias, stride_h, stride_w, dilation_h, dilation_w,
                   pad_top, pad_bottom, pad_left, pad_right):
    """out (B,OH,OW,OC) = cross-correlation of zero-padded inp (B,H,W,C) with weight."""
    kh, kw, _, oc = weight.shape
    x = np.pad(inp, ((0, 0), (pad_top, pad_bottom), (pad_left, pad_right), (0, 0)))
    oh = (x.shape[1] - (kh - 1) * dilation_h - 1) // stride_h + 1
    ow = (x.shape[2] - (kw - 1) * dilation_w - 1) // stride_w + 1
    out = np.zeros((inp.shape[0], oh, ow, oc), dtype=inp.dtype)
    rows, cols = _taps(oh, stride_h, dilation_h, kh), _taps(ow, stride_w, dilation_w, kw)
    for u in range(kh):
        for v in range(kw):
            out += x[:, rows[u], cols[v], :] @ weight[u, v]
    if bias is not None:
        out += bias
    return out


def conv2d_backward(dout, inp, weight, stride_h, stride_w, dilation_h, dilation_w,
                    pad_top, pad_bottom, pad_left, pad_right):
    """Returns (dinp, dweight, dbias) of conv2d_forward for the upstream gradient dout."""
    kh, kw = weight.shape[:2]
    b, h, w, c = inp.shape
    _, oh, ow, oc = dout.shape
    x = np.pad(inp, ((0, 0), (pad_top, pad_bottom), (pad_left, pad_right), (0, 0)))
    dx = np.zeros_like(x)
    dweight = np.zeros_like(weight)
    rows, cols = _taps(oh, stride_h, dilation_h, kh), _taps(ow, stride_w, dilation_w, kw)
    d2 = dout.reshape(-1, oc)
    for u in range(kh):
        for v in range(kw):
            dx[:, rows[u], cols[v], :] += dout @ weight[u, v].T
            dweight[u, v] = x[:, rows[u], cols[v], :].reshape(-1, c).T @ d2
    dinp = dx[:, pad_top:pad_top + h, pad_left:pad_left + w, :]
    return np.ascontiguousarray(dinp), dweight, d2.sum(axis=0)


def _full_and_window(n, k, s, d, crop, out_len):
    """Full scatter length, and how the output window [crop, crop+out_len) maps onto it."""
    full = (n - 1) * s + (k - 1) * d + 1
    take = min(out_len, full - crop)  # positions taken from the full output; the rest are zeros
    return full, take


def conv2d_transpose_forward(inp, weight, bias, stride_h, stride_w, dilation_h, dilation_w,
                             crop_top, crop_left, out_h, out_w):
    """out (B,out_h,out_w,OC): scatter inp (B,H,W,C) through weight (KH,KW,OC,C), crop, add bias."""
    kh, kw, oc, _ = weight.shape
    b, h, w, _ = inp.shape
    full_h, take_h = _full_and_window(h, kh, stride_h, dilation_h, crop_top, out_h)
    full_w, take_w = _full_and_window(w, kw, stride_w, dilation_w, crop_left, out_w)
    full = np.zeros((b, full_h, full_w, oc), dtype=inp.dtype)
    rows, cols = _taps(h, stride_h, dilation_h, kh), _taps(w, stride_w, dilation_w, kw)
    for u in range(kh):
        for v in range(kw):
            full[:, rows[u], cols[v], :] += inp @ weight[u, v].T
    out = np.zeros((b, out_h, out_w, oc), dtype=inp.dtype)
    out[:, :take_h, :take_w] = full[:, crop_top:crop_top + take_h, crop_left:crop_left + take_w]
    if bias is not None:
        out += bias
    return out


def conv2d_transpose_backward(dout, inp, weight, stride_h, stride_w, dilation_h, dilation_w,
                              crop_top, crop_left):
    """Returns (dinp, dweight, dbias) of conv2d_transpose_forward (output size = dout's)."""
    kh, kw, oc, c = weight.shape
    b, h, w, _ = inp.shape
    out_h, out_w = dout.shape[1:3]
    full_h, take_h = _full_and_window(h, kh, stride_h, dilation_h, crop_top, out_h)
    full_w, take_w = _full_and_window(w, kw, stride_w, dilation_w, crop_left, out_w)
    dfull = np.zeros((b, full_h, full_w, oc), dtype=dout.dtype)
    dfull[:, crop_top:crop_top + take_h, crop_left:crop_left + take_w] = dout[:, :take_h, :take_w]
    rows, cols = _taps(h, stride_h, dilation_h, kh), _taps(w, stride_w, dilation_w, kw)
    dinp = np.zeros_like(inp)
    dweight = np.zeros_like(weight)
    x2 = inp.reshape(-1, c)
    for u in range(kh):
        for v in range(kw):
            g = dfull[:, rows[u], cols[v], :]
            dinp += g @ weight[u, v]
            dweight[u, v] = g.reshape(-1, oc).T @ x2
    return dinp, dweight, dout.reshape(-1, oc).sum(axis=0)
