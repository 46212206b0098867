"""NumPy twins of csrc/pool.c (dtype-generic: float64 for finite differences).

Same names and argument order as the aenn._core functions minus the preallocated outputs; the
output spatial size (OH, OW), which the C binding reads from `out` / `dout`, is passed as
`out_size`. Layout NHWC; pad_top / pad_left are the padding before each axis (Keras 'same'
puts the extra cell after); padded cells never take part.
"""

import numpy as np


def _window(o, s, pad, k, n):
    start = o * s - pad
    return max(start, 0), min(start + k, n)


def maxpool2d_forward(inp, kh, kw, sh, sw, pad_top, pad_left, out_size):
    """inp (B, H, W, C) -> (out (B, OH, OW, C), argmax int32 spatial index h*W + w)."""
    B, H, W, C = inp.shape
    OH, OW = out_size
    out = np.empty((B, OH, OW, C), dtype=inp.dtype)
    argmax = np.empty((B, OH, OW, C), dtype=np.int32)
    for oh in range(OH):
        h0, h1 = _window(oh, sh, pad_top, kh, H)
        for ow in range(OW):
            w0, w1 = _window(ow, sw, pad_left, kw, W)
            win = inp[:, h0:h1, w0:w1, :].reshape(B, -1, C)
            idx = np.argmax(win, axis=1)  # first maximum, row-major window order
            out[:, oh, ow, :] = np.take_along_axis(win, idx[:, None, :], axis=1)[:, 0, :]
            ww = w1 - w0
            argmax[:, oh, ow, :] = (h0 + idx // ww) * W + (w0 + idx % ww)
    return out, argmax


def maxpool2d_backward(dout, argmax, kh, kw, sh, sw, pad_top, pad_left, inp_size):
    """dout (B, OH, OW, C) -> dinp (B, H, W, C) with inp_size = (H, W)."""
    B, _OH, _OW, C = dout.shape
    H, W = inp_size
    dinp = np.zeros((B, H * W, C), dtype=dout.dtype)
    b = np.arange(B)[:, None, None, None]
    c = np.arange(C)[None, None, None, :]
    np.add.at(dinp, (np.broadcast_to(b, argmax.shape), argmax, np.broadcast_to(c, argmax.shape)),
              dout)
    return dinp.reshape(B, H, W, C)


def avgpool2d_forward(inp, kh, kw, sh, sw, pad_top, pad_left, out_size):
    """inp (B, H, W, C) -> out (B, OH, OW, C), mean over the real cells of each window."""
    B, H, W, C = inp.shape
    OH, OW = out_size
    out = np.empty((B, OH, OW, C), dtype=inp.dtype)
    for oh in range(OH):
        h0, h1 = _window(oh, sh, pad_top, kh, H)
        for ow in range(OW):
            w0, w1 = _window(ow, sw, pad_left, kw, W)
            out[:, oh, ow, :] = inp[:, h0:h1, w0:w1, :].mean(axis=(1, 2))
    return out


def avgpool2d_backward(dout, kh, kw, sh, sw, pad_top, pad_left, inp_size):
    """dout (B, OH, OW, C) -> dinp (B, H, W, C) with inp_size = (H, W)."""
    B, OH, OW, C = dout.shape
    H, W = inp_size
    dinp = np.zeros((B, H, W, C), dtype=dout.dtype)
    for oh in range(OH):
        h0, h1 = _window(oh, sh, pad_top, kh, H)
        for ow in range(OW):
            w0, w1 = _window(ow, sw, pad_left, kw, W)
            count = (h1 - h0) * (w1 - w0)
            dinp[:, h0:h1, w0:w1, :] += dout[:, oh, ow, None, None, :] / count
    return dinp
