"""Output-size and padding formulas (Keras/TF conventions), shared by compute_output_shape and forward.

n = input length on one spatial axis, k = kernel (or pool) size, s = stride, d = dilation,
k_eff = (k - 1) * d + 1. See KERAS.md sections 1.4, 1.5, 2.3, 2.4, 3.1.
"""

from __future__ import annotations


def effective_kernel(k, d=1):
    return (k - 1) * d + 1


def conv_output_length(n, k, s, padding, d=1):
    """Output length of a convolution or pooling window along one axis (None stays None)."""
    if n is None:
        return None
    k_eff = effective_kernel(k, d)
    if padding == "valid":
        return (n - k_eff) // s + 1
    if padding in ("same", "causal"):
        return (n + s - 1) // s
    raise ValueError(f"Invalid padding: {padding!r}")


def same_padding(n, k, s, d=1):
    """(before, after) zeros that TF's 'same' adds: total max((ceil(n/s)-1)*s + k_eff - n, 0),
    the extra one (odd total) at the end."""
    k_eff = effective_kernel(k, d)
    out = (n + s - 1) // s
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def conv_padding(n, k, s, padding, d=1):
    """(before, after) padding of one axis for 'valid', 'same' or 'causal'."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return same_padding(n, k, s, d)
    if padding == "causal":
        return effective_kernel(k, d) - 1, 0
    raise ValueError(f"Invalid padding: {padding!r}")


def deconv_output_length(n, k, s, padding, output_padding=None, d=1):
    """Output length of a transposed convolution along one axis (KERAS.md 2.3)."""
    if n is None:
        return None
    k_eff = effective_kernel(k, d)
    if output_padding is None:
        if padding == "valid":
            return (n - 1) * s + max(k_eff, s)
        if padding == "same":
            return n * s
    else:
        if padding == "valid":
            return (n - 1) * s + k_eff + output_padding
        if padding == "same":
            return (n - 1) * s + (k_eff % 2) + output_padding
    raise ValueError(f"Invalid padding: {padding!r}")


def deconv_crop(n, k, s, out_len, d=1):
    """(crop_before, extra_after) for a transposed convolution (KERAS.md 2.4).

    The full scatter has length L = (n-1)*s + k_eff. With P = L - out_len: if P >= 0 drop P//2 at
    the start and the rest at the end (extra_after = 0); if P < 0 drop nothing and append -P zero
    positions at the end (they receive only the bias)."""
    full = (n - 1) * s + effective_kernel(k, d)
    p = full - out_len
    if p >= 0:
        return p // 2, 0
    return 0, -p
