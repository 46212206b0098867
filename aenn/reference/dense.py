"""NumPy twins of csrc/gemm.c and csrc/dense.c (dtype-generic: run them in float64 for gradchecks)."""

from __future__ import annotations

import numpy as np


def gemm(C, A, B, transA=False, transB=False, beta=0.0):
    """Returns beta * C + op(A) @ op(B) (C is not modified; it is ignored when beta == 0)."""
    a = A.T if transA else A
    b = B.T if transB else B
    out = a @ b
    if beta != 0.0:
        out = beta * C + out
    return out


def dense_forward(inp, weight, bias):
    """inp (..., C), weight (C, OC), bias (OC,) or None -> out (..., OC) = inp @ weight + bias."""
    out = inp @ weight
    if bias is not None:
        out = out + bias
    return out


def dense_backward(dout, inp, weight, need_dinp=True, need_dbias=True):
    """dout (..., OC) -> (dinp (..., C) or None, dweight (C, OC), dbias (OC,) or None)."""
    C, OC = weight.shape
    d2 = dout.reshape(-1, OC)
    x2 = inp.reshape(-1, C)
    dinp = (d2 @ weight.T).reshape(inp.shape) if need_dinp else None
    dweight = x2.T @ d2
    dbias = d2.sum(axis=0) if need_dbias else None
    return dinp, dweight, dbias
