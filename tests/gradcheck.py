"""Central finite differences for the NumPy reference twins (float64)."""

import numpy as np


def numeric_grad(fn, inputs, index, dout, eps=1e-6, positions=48, seed=0):
    """Numeric d(sum(fn(*inputs) * dout))/d(inputs[index]) at up to `positions` sampled entries.

    Returns (flat_positions, numeric_values)."""
    x = inputs[index]
    rng = np.random.default_rng(seed)
    n = x.size
    picks = np.arange(n) if n <= positions else rng.choice(n, positions, replace=False)
    values = []
    for p in picks:
        old = x.flat[p]
        x.flat[p] = old + eps
        up = np.sum(fn(*inputs) * dout)
        x.flat[p] = old - eps
        down = np.sum(fn(*inputs) * dout)
        x.flat[p] = old
        values.append((up - down) / (2 * eps))
    return picks, np.array(values)


def assert_grads_match(fn, inputs, dout, analytic, indices=None, rtol=1e-5, atol=1e-7, eps=1e-6):
    """Checks analytic gradients (list aligned with `indices`) against central differences."""
    indices = range(len(inputs)) if indices is None else indices
    for index, grad in zip(indices, analytic):
        picks, numeric = numeric_grad(fn, inputs, index, dout, eps=eps)
        got = np.asarray(grad, dtype=np.float64).reshape(-1)[picks]
        np.testing.assert_allclose(got, numeric, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {index}")
