"""Dense kernels vs PyTorch (torch.nn.functional.linear with the kernel transposed)."""

import numpy as np
import pytest

from aenn import _core

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("B,C,OC", [(1, 3, 2), (17, 7, 13), (70, 33, 9)])
def test_dense_forward_and_grads_match_torch(B, C, OC):
    rng = np.random.default_rng(B + C + OC)
    x = rng.standard_normal((B, C)).astype(np.float32)
    w = rng.standard_normal((C, OC)).astype(np.float32)
    b = rng.standard_normal(OC).astype(np.float32)
    dout = rng.standard_normal((B, OC)).astype(np.float32)

    out = np.empty((B, OC), np.float32)
    _core.dense_forward(out, x, w, b)
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    _core.dense_backward(dx, dw, db, dout, x, w)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    ty = torch.nn.functional.linear(tx, tw.T, tb)
    ty.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-4, atol=1e-5)
