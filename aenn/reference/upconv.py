"""NumPy twin of csrc/upconv.c: UpSampling2D(2, nearest) then a 3x3 'same' Conv2D, fused.

Written from the parity decomposition (not from the upsampled tensor): output pixel
(2i+a, 2j+b) is a 2x2 convolution of the low-res input, zero-padded by (1-a, 1-b) at the start,
with the 3x3 taps folded onto the low-res pixel each of them reads (row(0,u) = min(u,1),
row(1,u) = u//2; columns likewise). Dtype-generic (float64 for gradchecks).

Layouts: inp (B,H,W,C); weight (3,3,C,OC); out (B,2H,2W,OC).
"""

from __future__ import annotations

import numpy as np

from .conv import conv2d_backward, conv2d_forward


def _k2(a, u):
    """The 2x2 kernel index that 3x3 tap u lands on for output parity a."""
    return min(u, 1) if a == 0 else u // 2


def fold_weights(weight):
    """(3,3,C,OC) -> (2,2 parities, 2,2 taps, C, OC) folded kernels."""
    weff = np.zeros((2, 2, 2, 2) + weight.shape[2:], dtype=weight.dtype)
    for a in range(2):
        for b in range(2):
            for u in range(3):
                for v in range(3):
                    weff[a, b, _k2(a, u), _k2(b, v)] += weight[u, v]
    return weff


def upconv_forward(inp, weight, bias):
    """out (B,2H,2W,OC) = conv3x3_same(upsample2x_nearest(inp), weight) + bias."""
    B, H, W, _ = inp.shape
    weff = fold_weights(weight)
    out = np.empty((B, 2 * H, 2 * W, weight.shape[3]), dtype=inp.dtype)
    for a in range(2):
        for b in range(2):
            out[:, a::2, b::2, :] = conv2d_forward(inp, weff[a, b], bias, 1, 1, 1, 1,
                                                   1 - a, a, 1 - b, b)
    return out


def upconv_backward(dout, inp, weight):
    """Returns (dinp, dweight, dbias) of upconv_forward for the upstream gradient dout."""
    weff = fold_weights(weight)
    dinp = np.zeros_like(inp)
    dweight = np.zeros_like(weight)
    for a in range(2):
        for b in range(2):
            dx, dwe, _ = conv2d_backward(np.ascontiguousarray(dout[:, a::2, b::2, :]), inp,
                                         weff[a, b], 1, 1, 1, 1, 1 - a, a, 1 - b, b)
            dinp += dx
            for u in range(3):
                for v in range(3):
                    dweight[u, v] += dwe[_k2(a, u), _k2(b, v)]
    return dinp, dweight, dout.reshape(-1, dout.shape[-1]).sum(axis=0)
