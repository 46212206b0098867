"""aenn optimizers vs PyTorch from identical weights and gradients (several steps).

Where torch.optim's formula differs from Keras' only by where epsilon goes (Adam, RMSprop,
Adagrad), epsilon is set to 0 on both sides, which makes the formulas identical; Adam with
Keras' epsilon is also checked against the Keras formula written with torch tensors.
Torch's SGD momentum buffer b relates to Keras' m by m = -lr*b (constant lr).
"""

import numpy as np
import pytest

from aenn import optimizers as O
from aenn.layers.layer import Variable

torch = pytest.importorskip("torch")

SHAPES = [(3, 7), (7,), (1,)]
STEPS = 5


def _data(seed=0):
    rng = np.random.default_rng(seed)
    w0 = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return w0, grads


def _run_aenn(opt, w0, grads):
    vs = [Variable(w.copy(), f"w{i}") for i, w in enumerate(w0)]
    opt.build(vs)
    for g in grads:
        opt.apply(g, vs)
    return [v.value for v in vs]


def _run_torch(make, w0, grads):
    ts = [torch.tensor(w.copy(), requires_grad=True) for w in w0]
    opt = make(ts)
    for g in grads:
        for t, gi in zip(ts, g):
            t.grad = torch.tensor(gi)
        opt.step()
    return [t.detach().numpy() for t in ts]


CASES = [
    ("sgd", lambda: O.SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd_momentum", lambda: O.SGD(0.1, momentum=0.9),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("sgd_nesterov", lambda: O.SGD(0.1, momentum=0.9, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    ("adam_eps0", lambda: O.Adam(0.01, epsilon=0.0),
     lambda p: torch.optim.Adam(p, lr=0.01, eps=0.0)),
    ("amsgrad_eps0", lambda: O.Adam(0.01, epsilon=0.0, amsgrad=True),
     lambda p: torch.optim.Adam(p, lr=0.01, eps=0.0, amsgrad=True)),
    ("rmsprop_eps0", lambda: O.RMSprop(0.01, epsilon=0.0),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0)),
    ("rmsprop_centered_momentum", lambda: O.RMSprop(0.01, momentum=0.5, centered=True, epsilon=0.0),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0, momentum=0.5, centered=True)),
    ("adagrad_eps0", lambda: O.Adagrad(0.1, epsilon=0.0),
     lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=0.0)),
    ("adadelta", lambda: O.Adadelta(1.0, rho=0.95, epsilon=1e-6),
     lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.95, eps=1e-6)),
    # Keras 3 Nadam's momentum schedule is 0.96**t: torch's momentum_decay=1 gives the same
    ("nadam", lambda: O.Nadam(0.01, epsilon=1e-7),
     lambda p: torch.optim.NAdam(p, lr=0.01, eps=1e-7, momentum_decay=1.0)),
]


@pytest.mark.parametrize("name,make_aenn,make_torch", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, make_aenn, make_torch):
    w0, grads = _data()
    ours = _run_aenn(make_aenn(), w0, grads)
    theirs = _run_torch(make_torch, w0, grads)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_adam_keras_formula_in_torch():
    """Keras' Adam (eps added to sqrt of the uncorrected v) written with torch tensors."""
    w0, grads = _data(1)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    ours = _run_aenn(O.Adam(lr, b1, b2, eps), w0, grads)
    ws = [torch.tensor(w) for w in w0]
    ms = [torch.zeros_like(w) for w in ws]
    vs = [torch.zeros_like(w) for w in ws]
    for t, g in enumerate(grads, start=1):
        alpha = lr * (1 - b2 ** t) ** 0.5 / (1 - b1 ** t)
        for i, gi in enumerate(g):
            gi = torch.tensor(gi)
            ms[i] += (gi - ms[i]) * (1 - b1)
            vs[i] += (gi * gi - vs[i]) * (1 - b2)
            ws[i] -= ms[i] * alpha / (vs[i].sqrt() + eps)
    for a, b in zip(ours, ws):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-5, atol=1e-6)
