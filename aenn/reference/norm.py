"""NumPy twins of csrc/norm.c (dtype-generic). inp is (N, C); statistics per channel."""

import numpy as np


def batchnorm_forward_train(inp, gamma, beta, eps):
    """-> (out, mean, inv_std, var) with the biased batch variance."""
    mean = inp.mean(axis=0)
    var = ((inp - mean) ** 2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    out = (inp - mean) * inv_std
    if gamma is not None:
        out = gamma * out
    if beta is not None:
        out = out + beta
    return out, mean, inv_std, var


def batchnorm_forward_infer(inp, gamma, beta, moving_mean, moving_var, eps):
    out = (inp - moving_mean) * (1.0 / np.sqrt(moving_var + eps))
    if gamma is not None:
        out = gamma * out
    if beta is not None:
        out = out + beta
    return out


def batchnorm_backward(dout, inp, mean, inv_std, gamma, training):
    """-> (dinp, dgamma, dbeta). training=False: the statistics are constants."""
    n = inp.shape[0]
    xhat = (inp - mean) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    scale = inv_std if gamma is None else gamma * inv_std
    if training:
        dinp = scale / n * (n * dout - dbeta - xhat * dgamma)
    else:
        dinp = scale * dout
    return dinp, dgamma, dbeta
