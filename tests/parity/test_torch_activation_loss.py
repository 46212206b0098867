"""Parity with PyTorch: every activation and every loss (value and gradient) from the same arrays.

Compared on the Keras definitions: leaky_relu slope 0.2, hard_sigmoid = relu6(x+3)/6 (Keras 3),
exact gelu, Keras's "sum_over_batch_size" reduction (KL divergence = torch's "batchmean").
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from aenn import activations, losses

TORCH_ACT = {
    "linear": lambda t: t * 1.0,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda t: torch.softmax(t, dim=-1),
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
    "elu": lambda t: F.elu(t, 1.0),
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "hard_sigmoid": F.hardsigmoid,
    "gelu": F.gelu,
    "silu": F.silu,
    "swish": F.silu,
    "exponential": torch.exp,
    "relu6": F.relu6,
}


@pytest.mark.parametrize("name", sorted(TORCH_ACT))
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (2, 5, 5, 3)])
def test_activation(name, shape):
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 8 if name == "relu6" else 5, shape).astype(np.float32)
    for k in (0.0, -3.0, 3.0, 6.0):  # kinks: subgradient conventions may differ
        x[np.abs(x - k) < 1e-3] = k + 1e-2
    dy = rng.normal(size=shape).astype(np.float32)
    act = activations.get(name)
    y = act.forward(x)
    dx = act.backward(dy, x, y)
    xt = torch.tensor(x, requires_grad=True)
    yt = TORCH_ACT[name](xt)
    yt.backward(torch.tensor(dy))
    atol = 2e-6 if name == "gelu" else 1e-6
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-5, atol=atol)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-4, atol=atol)


def test_relu_layer_variant():
    x = np.random.default_rng(1).uniform(-8, 8, (17, 3)).astype(np.float32)
    y = activations.relu(x, max_value=6.0)
    np.testing.assert_allclose(y, F.relu6(torch.tensor(x)).numpy())
    y = activations.relu(x, negative_slope=0.1)
    np.testing.assert_allclose(y, F.leaky_relu(torch.tensor(x), 0.1).numpy(), rtol=1e-6)
    y = activations.relu(x, threshold=1.0)
    np.testing.assert_allclose(y, F.threshold(torch.tensor(x), 1.0, 0.0).numpy())


EPS = 1e-7


def torch_loss(name, y, p, delta=1.0):
    """The Keras-definition loss in torch (inputs kept inside the clip range)."""
    if name == "bce":
        return F.binary_cross_entropy(p, y)
    if name == "bce_logits":
        return F.binary_cross_entropy_with_logits(p, y)
    if name == "cce":
        q = torch.clamp(p / p.sum(-1, keepdim=True), EPS, 1 - EPS)
        return -(y * torch.log(q)).sum(-1).mean()
    if name == "cce_logits":
        return F.cross_entropy(p.reshape(-1, p.shape[-1]), y.reshape(-1, y.shape[-1]))
    if name == "mse":
        return F.mse_loss(p, y)
    if name == "mae":
        return F.l1_loss(p, y)
    if name == "kld":
        rows = int(np.prod(p.shape[:-1]))
        return F.kl_div(torch.log(p), y, reduction="sum") / rows
    if name == "huber":
        return F.huber_loss(p, y, delta=delta)
    raise KeyError(name)


AENN_LOSS = {
    "bce": losses.BinaryCrossentropy(), "bce_logits": losses.BinaryCrossentropy(from_logits=True),
    "cce": losses.CategoricalCrossentropy(),
    "cce_logits": losses.CategoricalCrossentropy(from_logits=True),
    "mse": losses.MeanSquaredError(), "mae": losses.MeanAbsoluteError(),
    "kld": losses.KLDivergence(), "huber": losses.Huber(), "huber_0.3": losses.Huber(0.3),
}


def loss_data(name, shape, seed):
    rng = np.random.default_rng(seed)
    if name in ("bce",):
        return rng.uniform(0, 1, shape), rng.uniform(0.02, 0.98, shape)
    if name == "bce_logits":
        return rng.uniform(0, 1, shape), rng.normal(0, 3, shape)
    if name in ("cce", "kld"):
        y = rng.uniform(0.05, 1, shape)
        p = rng.uniform(0.05, 1, shape)
        return y / y.sum(-1, keepdims=True), p / (p.sum(-1, keepdims=True) if name == "kld" else 1)
    if name == "cce_logits":
        y = rng.uniform(0, 1, shape)
        return y / y.sum(-1, keepdims=True), rng.normal(0, 3, shape)
    y, p = rng.normal(size=shape), rng.normal(size=shape)
    return y, p


@pytest.mark.parametrize("name", sorted(AENN_LOSS))
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (17, 5), (2, 4, 4, 3)])
def test_loss(name, shape):
    y, p = (a.astype(np.float32) for a in loss_data(name, shape, 2))
    value, grad = AENN_LOSS[name].value_and_grad(y, p)
    pt = torch.tensor(p, requires_grad=True)
    delta = 0.3 if name == "huber_0.3" else 1.0
    lt = torch_loss(name.split("_0")[0], torch.tensor(y), pt, delta)
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=1e-5, abs=1e-7)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("shape", [(1, 3), (17, 5), (130, 10)])
def test_sparse_categorical(from_logits, shape):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, shape[1], shape[0])
    p = (rng.normal(0, 3, shape) if from_logits else rng.uniform(0.05, 1, shape)).astype(np.float32)
    value, grad = losses.SparseCategoricalCrossentropy(from_logits=from_logits).value_and_grad(
        labels, p)
    pt = torch.tensor(p, requires_grad=True)
    lab = torch.tensor(labels)
    if from_logits:
        lt = F.cross_entropy(pt, lab)
    else:
        q = torch.clamp(pt, EPS, 1 - EPS)
        lt = F.nll_loss(torch.log(q / q.sum(-1, keepdim=True)), lab)
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=1e-5)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=1e-4, atol=1e-7)


def test_bce_from_sigmoid_logits_matches_torch():
    """The TensorFlow path: BCE on a sigmoid output computed from its logits."""
    rng = np.random.default_rng(4)
    z = rng.normal(0, 4, (8, 6)).astype(np.float32)
    y = rng.uniform(0, 1, z.shape).astype(np.float32)
    sig = activations.get("sigmoid").forward(z)
    value, grad = losses.BinaryCrossentropy().value_and_grad(y, sig, logits=z)
    zt = torch.tensor(z, requires_grad=True)
    lt = F.binary_cross_entropy_with_logits(zt, torch.tensor(y))
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=1e-5)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-4, atol=1e-8)
