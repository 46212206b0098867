"""NumPy twins of csrc/upsample.c (dtype-generic). Layout NHWC, integer factors (sh, sw)."""

import numpy as np


def upsample_nearest_forward(inp, sh, sw):
    """inp (B, H, W, C) -> (B, H*sh, W*sw, C), each pixel repeated."""
    return np.repeat(np.repeat(inp, sh, axis=1), sw, axis=2)


def upsample_nearest_backward(dout, sh, sw):
    """dout (B, H*sh, W*sw, C) -> dinp (B, H, W, C): sums over sh x sw blocks."""
    B, OH, OW, C = dout.shape
    return dout.reshape(B, OH // sh, sh, OW // sw, sw, C).sum(axis=(2, 4))


def _interp_matrix(n, s, dtype):
    """(n*s, n) matrix M with out = M @ x along one axis (half-pixel centres, edge clamp)."""
    out = np.arange(n * s)
    src = np.maximum((out + 0.5) / s - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    t = src - lo
    m = np.zeros((n * s, n), dtype=dtype)
    np.add.at(m, (out, lo), 1 - t)
    np.add.at(m, (out, hi), t)
    return m


def upsample_bilinear_forward(inp, sh, sw):
    """inp (B, H, W, C) -> (B, H*sh, W*sw, C), bilinear like tf.image.resize (antialias off)."""
    _B, H, W, _C = inp.shape
    mh, mw = _interp_matrix(H, sh, inp.dtype), _interp_matrix(W, sw, inp.dtype)
    return np.einsum("ph,bhwc,qw->bpqc", mh, inp, mw)


def upsample_bilinear_backward(dout, sh, sw):
    """The adjoint: dout (B, H*sh, W*sw, C) -> dinp (B, H, W, C)."""
    _B, OH, OW, _C = dout.shape
    mh, mw = _interp_matrix(OH // sh, sh, dout.dtype), _interp_matrix(OW // sw, sw, dout.dtype)
    return np.einsum("ph,bpqc,qw->bhwc", mh, dout, mw)
