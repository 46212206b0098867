"""NumPy twin of csrc/convpool.c: Conv2D (one input channel) -> ReLU -> 2x2/stride-2 max pooling.

Written as the composition of the three layers' twins, which is what the fused op must equal:
pre = conv(inp, weight) + bias, y = relu(pre), out = maxpool2x2(y) with argmax = oh*OW + ow in
pre. The backward has no input gradient (the fused op is used where the image needs none).
Dtype-generic (float64 for gradchecks).

Layouts: inp (B,H,W,1); weight (KH,KW,1,OC); out and argmax (B,OH//2,OW//2,OC).
"""

from __future__ import annotations

import numpy as np

from .conv import conv2d_backward, conv2d_forward
from .pool import maxpool2d_backward, maxpool2d_forward


def _pre(inp, weight, bias, pads):
    return conv2d_forward(inp, weight, bias, 1, 1, 1, 1, *pads)


def convpool_forward(inp, weight, bias, pads):
    """(out, argmax) of maxpool2x2(relu(conv(inp, weight) + bias)); pads = (top, bottom, left,
    right) of the convolution."""
    pre = _pre(inp, weight, bias, pads)
    y = np.maximum(pre, 0)
    _, OH, OW, _ = pre.shape
    return maxpool2d_forward(y, 2, 2, 2, 2, 0, 0, (OH // 2, OW // 2))


def convpool_backward(dout, inp, weight, bias, pads):
    """(dweight, dbias) of convpool_forward for the upstream gradient dout."""
    pre = _pre(inp, weight, bias, pads)
    _, argmax = convpool_forward(inp, weight, bias, pads)
    _, OH, OW, _ = pre.shape
    dy = maxpool2d_backward(dout, argmax, 2, 2, 2, 2, 0, 0, (OH, OW)) * (pre > 0)
    _, dweight, dbias = conv2d_backward(dy, inp, weight, 1, 1, 1, 1, *pads)
    return dweight, dbias
