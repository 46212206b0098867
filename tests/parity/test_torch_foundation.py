"""Foundation parity with PyTorch at rtol 1e-5 from identical weights (values AND gradients).

Fills the gaps left by the kernel-level parity files: the public `aenn.layers.Dense` layer with
every activation (forward and backward), every activation's and loss's gradient at rtol 1e-5
(the other files allow 1e-4), and one `train_on_batch` step of each optimizer, with Keras'
default hyper-parameters, on a small MLP whose weights are copied into torch.

Where Keras' formula differs from torch's only by where epsilon goes, the one-step equivalent
is used (Adam: torch eps = eps / sqrt(1 - beta_2) at step 1) or epsilon is 0 on both sides
(RMSprop, Adagrad: Keras adds it inside the square root).
"""

from __future__ import annotations

import numpy as np
import pytest

import aenn as keras
from aenn import activations, losses

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.parity

RTOL = 1e-5


def _close(ours, theirs, atol):
    np.testing.assert_allclose(ours, theirs.detach().numpy() if hasattr(theirs, "detach")
                               else theirs, rtol=RTOL, atol=atol)


TORCH_ACT = {
    "linear": lambda t: t * 1.0,
    "relu": torch.relu,
    "relu6": F.relu6,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": F.hardsigmoid,
    "tanh": torch.tanh,
    "softmax": lambda t: torch.softmax(t, dim=-1),
    "softplus": F.softplus,
    "softsign": F.softsign,
    "silu": F.silu,
    "swish": F.silu,
    "exponential": torch.exp,
}


def test_every_registered_activation_is_compared():
    with pytest.raises(ValueError) as info:
        activations.get("no_such_activation")
    listed = set(str(info.value).split("valid names: ")[1].strip("[]").replace("'", "")
                 .split(", "))
    assert listed == set(TORCH_ACT), listed ^ set(TORCH_ACT)


def _away_from_kinks(x):
    for k in (0.0, -3.0, 3.0, 6.0):  # subgradient conventions may differ at kinks
        x[np.abs(x - k) < 1e-2] = k + 2e-2
    return x


@pytest.mark.parametrize("name", sorted(TORCH_ACT))
def test_activation_value_and_gradient(name):
    rng = np.random.default_rng(10)
    x = _away_from_kinks(rng.uniform(-5, 7, (6, 9)).astype(np.float32))
    dy = rng.normal(size=x.shape).astype(np.float32)
    act = activations.get(name)
    y = act.forward(x)
    dx = act.backward(dy, x, y)
    xt = torch.tensor(x, requires_grad=True)
    yt = TORCH_ACT[name](xt)
    yt.backward(torch.tensor(dy))
    _close(y, yt, atol=1e-6)
    _close(dx, xt.grad, atol=1e-6)


@pytest.mark.parametrize("activation", sorted(TORCH_ACT))
def test_dense_layer_forward_and_backward(activation):
    """The public Dense layer (kernel (in, out), bias) against torch.nn.functional.linear."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(13, 7)).astype(np.float32)
    layer = keras.layers.Dense(5, activation=activation)
    layer(x[:1])  # build
    w = rng.normal(0, 0.5, (7, 5)).astype(np.float32)
    b = rng.normal(0, 0.5, 5).astype(np.float32)
    layer.set_weights([w, b])
    y, cache = layer.forward(x, training=True)
    dy = rng.normal(size=y.shape).astype(np.float32)
    dx, (dw, db) = layer.backward(dy, cache, need_dinputs=True)

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = TORCH_ACT[activation](F.linear(xt, wt.T, bt))
    yt.backward(torch.tensor(dy))
    _close(y, yt, atol=1e-6)
    _close(layer(x), yt, atol=1e-6)  # the eager call agrees with forward()
    _close(dx, xt.grad, atol=1e-5)
    _close(dw, wt.grad, atol=1e-5)
    _close(db, bt.grad, atol=1e-5)


# ----- losses ---------------------------------------------------------------------------------
EPS = 1e-7


def _loss_case(name, rng):
    shape = (11, 6)
    if name in ("binary_crossentropy",):
        return rng.uniform(0, 1, shape), rng.uniform(0.02, 0.98, shape)
    if name in ("categorical_crossentropy", "kl_divergence"):
        y = rng.uniform(0.05, 1, shape)
        p = rng.uniform(0.05, 1, shape)
        return y / y.sum(-1, keepdims=True), p / p.sum(-1, keepdims=True)
    return rng.normal(size=shape), rng.normal(size=shape)


TORCH_LOSS = {
    "binary_crossentropy": lambda y, p: F.binary_cross_entropy(p, y),
    "categorical_crossentropy": lambda y, p: -(y * torch.log(
        torch.clamp(p / p.sum(-1, keepdim=True), EPS, 1 - EPS))).sum(-1).mean(),
    "mean_squared_error": F.mse_loss,
    "mean_absolute_error": F.l1_loss,
    "kl_divergence": lambda y, p: F.kl_div(torch.log(p), y, reduction="sum") / p.shape[0],
    "huber_loss": lambda y, p: F.huber_loss(p, y, delta=1.0),
}


@pytest.mark.parametrize("name", sorted(TORCH_LOSS))
def test_loss_value_and_gradient(name):
    rng = np.random.default_rng(12)
    y, p = (a.astype(np.float32) for a in _loss_case(name, rng))
    value, grad = losses.get(name).value_and_grad(y, p)
    pt = torch.tensor(p, requires_grad=True)
    lt = TORCH_LOSS[name](torch.tensor(y), pt)
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=RTOL, abs=1e-7)
    _close(grad, pt.grad, atol=1e-8)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_value_and_gradient(from_logits):
    rng = np.random.default_rng(13)
    labels = rng.integers(0, 6, 11)
    p = rng.normal(0, 3, (11, 6)) if from_logits else rng.uniform(0.05, 1, (11, 6))
    p = p.astype(np.float32)
    if not from_logits:
        p /= p.sum(-1, keepdims=True)
    value, grad = losses.SparseCategoricalCrossentropy(from_logits=from_logits).value_and_grad(
        labels, p)
    pt = torch.tensor(p, requires_grad=True)
    lab = torch.tensor(labels)
    if from_logits:
        lt = F.cross_entropy(pt, lab)
    else:
        q = torch.clamp(pt / pt.sum(-1, keepdim=True), EPS, 1 - EPS)
        lt = F.nll_loss(torch.log(q), lab)
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=RTOL)
    _close(grad, pt.grad, atol=1e-8)


# ----- one optimizer step through the model ---------------------------------------------------
OPTIMIZERS = {
    "sgd": (lambda: keras.optimizers.SGD(),
            lambda p: torch.optim.SGD(p, lr=0.01)),
    "sgd_momentum": (lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "adam": (lambda: keras.optimizers.Adam(),
             lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7 / np.sqrt(1 - 0.999))),
    "rmsprop": (lambda: keras.optimizers.RMSprop(epsilon=0.0),
                lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=0.0)),
    "adagrad": (lambda: keras.optimizers.Adagrad(epsilon=0.0),
                lambda p: torch.optim.Adagrad(p, lr=1e-3, initial_accumulator_value=0.1,
                                              eps=0.0)),
    "adadelta": (lambda: keras.optimizers.Adadelta(),
                 lambda p: torch.optim.Adadelta(p, lr=1e-3, rho=0.95, eps=1e-7)),
    "nadam": (lambda: keras.optimizers.Nadam(),
              lambda p: torch.optim.NAdam(p, lr=1e-3, eps=1e-7, momentum_decay=1.0)),
}


def test_every_optimizer_is_compared():
    names = {"sgd", "adam", "rmsprop", "adagrad", "adadelta", "nadam"}
    for name in names:
        keras.optimizers.get(name)
    with pytest.raises(ValueError) as info:
        keras.optimizers.get("no_such_optimizer")
    listed = set(str(info.value).split("Known names: ")[1].strip("[]").replace("'", "")
                 .split(", "))
    assert listed == names
    assert names <= {k.split("_")[0] for k in OPTIMIZERS}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_one_train_step_matches_torch(name):
    make_aenn, make_torch = OPTIMIZERS[name]
    rng = np.random.default_rng(14)
    x = rng.normal(size=(16, 10)).astype(np.float32)
    labels = rng.integers(0, 4, 16)
    y = np.eye(4, dtype=np.float32)[labels]
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input(shape=(10,)),
        keras.layers.Dense(8, activation="tanh"),
        keras.layers.Dense(4, activation="softmax"),
    ])
    model.compile(optimizer=make_aenn(), loss="categorical_crossentropy")
    w0 = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(x, y)
    ours = model.get_weights()

    ts = [torch.tensor(w, requires_grad=True) for w in w0]
    k1, b1, k2, b2 = ts
    logits = F.linear(torch.tanh(F.linear(torch.tensor(x), k1.T, b1)), k2.T, b2)
    lt = F.cross_entropy(logits, torch.tensor(labels))
    opt = make_torch(ts)
    lt.backward()
    opt.step()
    assert float(np.asarray(loss).reshape(-1)[0]) == pytest.approx(lt.item(), rel=RTOL)
    for a, t, before in zip(ours, ts, w0):
        assert not np.array_equal(a, before)  # the step moved every weight
        _close(a, t, atol=1e-7)
