"""NumPy twin of csrc/noise.c (dtype-generic)."""


def mask_mul(inp, mask, scale):
    """inp (B, S, C) * mask (B, S or 1, C) * scale."""
    return inp * mask * scale
