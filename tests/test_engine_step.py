"""The training step's shortcuts give the same results as the general paths they skip.

- Dense calls a built-in activation's kernels directly (no argument checks): same bits as
  `Activation.forward` / `.backward` (a subclass takes the method path).
- Per-batch callback hooks run only when a callback defines them, and the batch logs are only
  built then: training with or without such a callback gives the same weights and history.
- `keep_heap` (glibc malloc thresholds during fit) is re-entrant and leaves the step buffers
  mapped between steps (no page faults per step once warm).
"""

import os
import resource
import sys

import numpy as np
import pytest

import aenn
from aenn import activations, layers
from aenn.callbacks.callback import Callback, CallbackList
from aenn.models import Sequential
from aenn.utils import heap

ACTS = ["relu", "sigmoid", "softmax", "tanh", "elu", "selu", "gelu", "silu", "softplus",
        "softsign", "relu6", "hard_sigmoid", "exponential", "leaky_relu", "linear"]


class _ViaMethods(activations.Activation):
    """Same activation, but not the built-in class: Dense goes through the methods."""


@pytest.mark.parametrize("name", ACTS)
@pytest.mark.parametrize("shape", [(1, 3), (7, 17), (5, 2, 9)])
def test_dense_direct_activation_kernels_match_the_methods(name, shape):
    rng = np.random.default_rng(3)
    fast = layers.Dense(shape[-1] + 2, activation=name)
    slow = layers.Dense(shape[-1] + 2)
    x = rng.standard_normal(shape).astype(np.float32)
    fast.build((None,) + shape[1:])
    slow.build((None,) + shape[1:])
    slow.set_weights(fast.get_weights())
    slow.activation = _ViaMethods(fast.activation.name, fast.activation.alpha)
    yf, cf = fast.forward(x, training=True)
    ys, cs = slow.forward(x, training=True)
    np.testing.assert_array_equal(yf, ys)
    dout = rng.standard_normal(yf.shape).astype(np.float32)
    for from_logits in (False, True):
        df, gf = fast.backward(dout, cf, from_logits=from_logits)
        ds, gs = slow.backward(dout, cs, from_logits=from_logits)
        np.testing.assert_array_equal(df, ds)
        for a, b in zip(gf, gs):
            np.testing.assert_array_equal(a, b)


def _fit(callbacks, **kw):
    aenn.utils.set_random_seed(5)
    rng = np.random.default_rng(0)
    x = rng.random((300, 12), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 300)]
    model = Sequential([aenn.Input((12,)), layers.Dense(8, activation="relu"),
                        layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy", "mse"])
    hist = model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=callbacks, **kw)
    return model, hist


class _BatchLogs(Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


@pytest.mark.parametrize("kw", [{}, {"validation_split": 0.2}, {"steps_per_epoch": 4}])
def test_batch_hooks_and_lazy_logs_give_the_same_training(kw):
    m0, h0 = _fit([], **kw)
    rec = _BatchLogs()
    m1, h1 = _fit([rec], **kw)
    assert h0.history == h1.history
    for a, b in zip(m0.get_weights(), m1.get_weights()):
        np.testing.assert_array_equal(a, b)
    steps = kw.get("steps_per_epoch") or (8 if "validation_split" in kw else 10)
    assert len(rec.logs) == 3 * steps
    # The last batch's running means are the epoch's logs.
    last = {k: h1.history[k][-1] for k in h1.history if not k.startswith("val_")}
    assert rec.logs[-1] == last


def test_callbacklist_active_hooks():
    class Begin(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            pass

    class Duck:  # not a Callback subclass, but has the hooks
        def set_model(self, model):
            pass

        def set_params(self, params):
            pass

        def on_train_batch_end(self, batch, logs=None):
            pass

    lam = aenn.callbacks.LambdaCallback(on_train_batch_end=lambda b, l: None)
    b, d = Begin(), Duck()
    cbs = CallbackList([Callback(), b, lam, d], add_history=True)
    assert cbs.active("on_train_batch_begin") == [b.on_train_batch_begin]
    assert cbs.active("on_train_batch_end") == [lam.on_train_batch_end, d.on_train_batch_end]
    assert cbs.active("on_test_batch_end") == []


@pytest.mark.skipif(not heap._glibc(), reason="glibc malloc only")
@pytest.mark.skipif(any(name in os.environ.get("LD_PRELOAD", "") for name in
                        ("asan", "jemalloc", "tcmalloc", "mimalloc")),
                    reason="another allocator replaces glibc's malloc (e.g. the ASan CI pass)")
def test_keep_heap_is_reentrant_and_keeps_step_buffers_mapped():
    assert heap._depth == 0
    with heap.keep_heap():
        with heap.keep_heap():
            assert heap._depth == 2
        assert heap._depth == 1
    assert heap._depth == 0
    # Steps allocating and freeing 4 MB activations: once the first steps have grown the
    # heap, later steps reuse it without page faults.
    aenn.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((64 * 40, 64), dtype=np.float32)
    model = Sequential([aenn.Input((64,)), layers.Dense(16384, activation="relu"),
                        layers.Dense(64)])
    model.compile(optimizer="sgd", loss="mse")
    faults = {}

    class Count(Callback):
        def on_train_batch_end(self, batch, logs=None):
            faults[batch] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    model.fit(x, x, batch_size=64, epochs=1, verbose=0, shuffle=False, callbacks=[Count()])
    per_step = (faults[39] - faults[9]) / 30
    # One step touches ~4 x 4 MB of buffers (1,000 pages each): without keep_heap glibc
    # gives them back and faults them in again every step.
    assert per_step < 50, per_step
    assert heap._depth == 0


def test_keep_heap_does_nothing_without_glibc(monkeypatch):
    monkeypatch.setattr(heap, "_libc", False)
    with heap.keep_heap():
        assert heap._depth == 1
    assert heap._depth == 0
    assert sys.modules["aenn.utils.heap"] is heap
