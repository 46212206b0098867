"""compile / fit / evaluate / predict: gradients, Keras semantics, reproducibility, validation."""

import numpy as np
import pytest
from conftest import ToyAdd, ToyDense, ToyScaleLoss

from aenn import losses, optimizers, regularizers
from aenn import random as aenn_random
from aenn.callbacks.callback import Callback
from aenn.models import Input, Model, Sequential, engine


def _data(n=64, d=8, seed=0):
    rng = np.random.default_rng(seed)
    basis = rng.random((3, d))
    return (rng.random((n, 3)) @ basis / 3).astype(np.float32)


def _loss_at(model, x, y):
    engine._clear_losses(model)
    y_pred, entries = model.forward(x, training=True)
    return model._compute_loss(y, y_pred, entries)[0]


def _check_grads_fd(model, x, y, eps=1e-2, rtol=3e-2, atol=2e-4):
    _loss, _, grads, variables = model._compute_gradients([x], y)
    assert grads and len(grads) == len(variables)
    for var, g in zip(variables, grads):
        flat = var.value.reshape(-1)
        for i in range(min(flat.size, 6)):
            old = flat[i]
            flat[i] = old + eps
            up = _loss_at(model, x, y)
            flat[i] = old - eps
            down = _loss_at(model, x, y)
            flat[i] = old
            num = (up - down) / (2 * eps)
            assert abs(g.reshape(-1)[i] - num) <= atol + rtol * abs(num), (var.path, i, g.reshape(-1)[i], num)


def test_shared_layer_gradients_are_summed_fd():
    inp = Input(shape=(4,))
    shared = ToyDense(4, activation="tanh", name="shared")
    h1 = shared(inp)
    h2 = shared(h1)  # called twice: weight grads of both calls summed
    s = ToyAdd()([h1, h2])  # h1 consumed twice: tensor grads summed
    out = ToyDense(3, activation="sigmoid")(s)
    m = Model(inp, out)
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    y = (rng.random((5, 3)) > 0.5).astype(np.float32)
    _check_grads_fd(m, x, y)


def test_regularizers_layer_losses_and_nested_model_fd():
    enc_in = Input(shape=(5,))
    enc = Model(enc_in, ToyDense(3, activation="tanh",
                                 kernel_regularizer=regularizers.L2(0.05),
                                 activity_regularizer=regularizers.L2(0.02))(enc_in))
    inp = Input(shape=(5,))
    z = ToyScaleLoss(0.3)(enc(inp))
    out = ToyDense(5, activation="sigmoid")(z)
    m = Model(inp, out)
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    x = np.random.default_rng(1).normal(size=(6, 5)).astype(np.float32)
    _check_grads_fd(m, x, x)
    # the reported loss includes the penalties
    engine._clear_losses(m)
    y_pred, entries = m.forward(x, training=True)
    base = losses.get("mse")(x, y_pred)
    total = m._compute_loss(x, y_pred, entries)[0]
    assert total > base + 1e-4


def test_bce_on_sigmoid_uses_logits():
    inp = Input(shape=(3,))
    out = ToyDense(3, activation="sigmoid")(inp)
    m = Model(inp, out)
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy")
    x = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32) * 30
    y = np.ones((4, 3), np.float32)
    engine._clear_losses(m)
    y_pred, entries = m.forward(x, training=True)
    logits, act = m._output_logits(entries)
    assert act == "sigmoid" and logits is not None
    _, _, from_logits, _ = m._compute_loss(y, y_pred, entries)
    assert from_logits
    _check_grads_fd(m, x[:2] / 30, y[:2])


def test_frozen_layers():
    inp = Input(shape=(4,))
    first, middle, last = ToyDense(4), ToyDense(4, activation="tanh"), ToyDense(4)
    m = Model(inp, last(middle(first(inp))))
    middle.trainable = False
    m.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    before = [w.numpy() for w in m.weights]
    x = _data(16, 4)
    m.fit(x, x, epochs=1, batch_size=8, verbose=0, shuffle=False)
    after = m.weights
    assert not np.array_equal(before[0], after[0].value)  # first layer still learns
    np.testing.assert_array_equal(before[2], after[2].value)  # frozen
    np.testing.assert_array_equal(before[3], after[3].value)
    assert len(m.trainable_weights) == 4


def _ae(d=8, code=4, seed=None):
    inp = Input(shape=(d,))
    out = ToyDense(d, activation="sigmoid")(ToyDense(code, activation="tanh")(inp))
    return Model(inp, out)


def test_autoencoder_overfits_64_samples():
    aenn_random.set_global_seed(0)
    x = _data(64, 8)
    m = _ae()
    m.compile(optimizer=optimizers.Adam(learning_rate=0.02), loss="mse")
    first = m.evaluate(x, x, verbose=0)
    hist = m.fit(x, x, epochs=80, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.1 * first
    assert m.evaluate(x, x, verbose=0) < 0.1 * first


def test_same_seed_identical_weights():
    x = _data(40, 8)

    def run():
        aenn_random.set_global_seed(123)
        m = _ae()
        m.compile(optimizer="adam", loss="mse")
        m.fit(x, x, epochs=3, batch_size=8, verbose=0, shuffle=True)
        return b"".join(w.tobytes() for w in m.get_weights())

    assert run() == run()


def test_validation_split_takes_last_fraction_and_matches_evaluate():
    x = _data(20, 8)
    m = _ae()
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse", metrics=["mae"])
    h = m.fit(x, x, epochs=2, batch_size=4, validation_split=0.25, verbose=0, shuffle=True)
    val_loss, val_mae = m.evaluate(x[15:], x[15:], verbose=0)
    assert h.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert h.history["val_mae"][-1] == pytest.approx(val_mae, rel=1e-6)
    assert h.history["loss"][-1] == pytest.approx(m.evaluate(x[:15], x[:15], verbose=0)[0],
                                                  rel=1e-5)
    assert h.params["steps"] == 4  # ceil(15 / 4)


def test_history_keys_sorted_and_model_history():
    x = _data(16, 8)
    m = _ae()
    m.compile(optimizer="adam", loss="mse", metrics=["mse", "accuracy"])
    h = m.fit(x, x, epochs=2, batch_size=8, validation_data=(x, x), verbose=0)
    assert list(h.history) == ["accuracy", "loss", "mse", "val_accuracy", "val_loss", "val_mse"]
    assert h.epoch == [0, 1] and m.history is h
    assert all(isinstance(v, float) for vals in h.history.values() for v in vals)
    assert h.params == {"verbose": 0, "epochs": 2, "steps": 2}


def test_stop_training_from_callback():
    class StopAt(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    x = _data(16, 8)
    m = _ae()
    m.compile(optimizer="adam", loss="mse")
    h = m.fit(x, x, epochs=10, batch_size=8, verbose=0, callbacks=[StopAt()])
    assert h.epoch == [0, 1]


def test_callback_hooks_order_and_logs():
    events = []

    class Rec(Callback):
        def __getattribute__(self, name):
            if name.startswith("on_"):
                return lambda *a: events.append((name, a))
            return object.__getattribute__(self, name)

    x = _data(8, 8)
    m = _ae()
    m.compile(optimizer="adam", loss="mse")
    m.fit(x, x, epochs=1, batch_size=4, verbose=0, validation_data=(x, x), callbacks=[Rec()])
    names = [e[0] for e in events]
    assert names == ["on_train_begin", "on_epoch_begin",
                     "on_train_batch_begin", "on_train_batch_end",
                     "on_train_batch_begin", "on_train_batch_end",
                     "on_test_begin", "on_test_batch_begin", "on_test_batch_end",
                     "on_test_batch_begin", "on_test_batch_end", "on_test_end",
                     "on_epoch_end", "on_train_end"]
    epoch_logs = events[-2][1][1]
    assert list(epoch_logs) == ["loss", "val_loss"]


def test_initial_epoch_and_batch_weighted_average():
    x = _data(10, 8)
    m = _ae()
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    h = m.fit(x, x, epochs=3, initial_epoch=1, batch_size=4, shuffle=False, verbose=0)
    assert h.epoch == [1, 2]
    # partial last batch (2 samples) weighted by its size: equals the full-data mean
    assert h.history["loss"][0] == pytest.approx(m.evaluate(x, x, verbose=0, batch_size=10),
                                                 rel=1e-5)


def test_evaluate_predict_and_on_batch():
    x = _data(70, 8)
    m = _ae()
    m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    p = m.predict(x, verbose=0)
    assert p.shape == (70, 8)
    np.testing.assert_allclose(m.predict(x, batch_size=7, verbose=0), p, rtol=1e-6)
    np.testing.assert_allclose(m.predict_on_batch(x), p, rtol=1e-6)
    r = m.evaluate(x, x, verbose=0, return_dict=True)
    assert list(r) == ["loss", "mae"]
    tb = m.test_on_batch(x, x)
    assert tb[0] == pytest.approx(r["loss"], rel=1e-5)
    before = m.get_weights()[0].copy()
    loss = m.train_on_batch(x[:8], x[:8], return_dict=True)
    assert set(loss) == {"loss", "mae"}
    assert not np.array_equal(before, m.get_weights()[0])


def test_model_add_loss_callable():
    m = _ae()
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    x = _data(8, 8)
    base = m.evaluate(x, x, verbose=0)
    m.add_loss(lambda: 0.5)
    assert m.evaluate(x, x, verbose=0) == pytest.approx(base + 0.5, rel=1e-6)
    with pytest.raises(ValueError, match="inputs"):  # tensors work when in the graph
        m.add_loss(Input(shape=(8,)) * 2.0)
    with pytest.raises(TypeError, match="callable"):
        m.add_loss(0.3)


def test_unbuilt_sequential_fit_and_user_arrays_untouched():
    m = Sequential([ToyDense(4, activation="relu"), ToyDense(8)])
    m.compile(optimizer="adam", loss="mse")
    x = _data(12, 8).astype(np.float64)
    x_copy = x.copy()
    m.fit(x, x, epochs=1, batch_size=4, verbose=0)
    assert m.built and m.input_shape == (None, 8)
    np.testing.assert_array_equal(x, x_copy)
    assert x.dtype == np.float64


# ----- every bad input raises --------------------------------------------------------------------
@pytest.fixture
def compiled():
    m = _ae()
    m.compile(optimizer="adam", loss="mse")
    return m


def test_fit_before_compile():
    m = _ae()
    with pytest.raises((RuntimeError, ValueError), match="compile"):
        m.fit(_data(4, 8), _data(4, 8), verbose=0)
    with pytest.raises(ValueError, match="compile"):
        m.evaluate(_data(4, 8), _data(4, 8), verbose=0)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"x": np.zeros((4, 8)), "y": np.zeros((5, 8))}, ValueError, r"same number of samples.*\(5, 8\)"),
    ({"x": np.zeros((4, 8, 1)), "y": np.zeros((4, 8))}, ValueError, r"expected shape \(None, 8\)"),
    ({"x": np.zeros((4, 7)), "y": np.zeros((4, 8))}, ValueError, r"\(4, 7\)"),
    ({"x": np.zeros((4, 8), dtype=object), "y": np.zeros((4, 8))}, TypeError, "dtype object"),
    ({"x": np.zeros((4, 8), dtype=complex), "y": np.zeros((4, 8))}, TypeError, "complex"),
    ({"x": np.array([["a"] * 8] * 4), "y": np.zeros((4, 8))}, TypeError, "dtype"),
    ({"x": np.zeros((0, 8)), "y": np.zeros((0, 8))}, ValueError, "empty"),
    ({"x": np.zeros((4, 8)), "y": np.zeros((4, 8)), "batch_size": 0}, ValueError, "batch_size"),
    ({"x": np.zeros((4, 8)), "y": np.zeros((4, 8)), "batch_size": -3}, ValueError, "batch_size"),
    ({"x": np.zeros((4, 8)), "y": np.zeros((4, 8)), "validation_split": 1.0}, ValueError,
     "validation_split"),
    ({"x": np.zeros((4, 8)), "y": np.zeros((4, 8)), "validation_split": -0.1}, ValueError,
     "validation_split"),
    ({"x": np.zeros((1, 8)), "y": np.zeros((1, 8)), "validation_split": 0.5}, ValueError,
     "not sufficient"),
    ({"x": np.full((4, 8), np.nan), "y": np.zeros((4, 8))}, ValueError, "NaN"),
    ({"x": np.zeros((4, 8)), "y": np.full((4, 8), np.inf)}, ValueError, "inf"),
    ({"x": np.zeros((4, 8)), "y": None}, ValueError, "targets"),
    ({"x": None, "y": None}, ValueError, "`x`"),
    ({"x": np.zeros((4, 8)), "y": np.zeros((4, 8)), "sample_weight": np.ones(4)},
     NotImplementedError, "sample_weight"),
    ({"x": np.zeros((4, 8)), "y": np.zeros((4, 8)), "class_weight": {0: 1}},
     NotImplementedError, "class_weight"),
    ({"x": np.zeros((4, 8)), "y": np.zeros((4, 8)), "verbose": 3}, ValueError, "verbose"),
    ({"x": np.zeros((4, 8)), "y": np.zeros((4, 8)), "validation_data": np.zeros(3)}, ValueError,
     "validation_data"),
    ({"x": np.zeros((4, 8)), "y": np.zeros((4, 8)), "validation_data": (np.zeros((2, 8)), np.zeros((3, 8)))},
     ValueError, "y_val"),
])
def test_fit_bad_inputs(compiled, kwargs, exc, match):
    kwargs.setdefault("verbose", 0)
    with pytest.raises(exc, match=match):
        compiled.fit(**kwargs)


def test_predict_bad_inputs(compiled):
    with pytest.raises(ValueError, match="expected shape"):
        compiled.predict(np.zeros(8), verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        compiled.predict(np.zeros((2, 8)), batch_size=1.5, verbose=0)


class _ResettingLoss(ToyScaleLoss):
    """Like layers that reset `_losses` at the start of forward (Dense does)."""

    def forward(self, x, training=False):
        self._losses = []
        return super().forward(x, training)


def test_shared_layer_losses_of_every_call_are_counted():
    inp = Input(shape=(3,))
    pen = _ResettingLoss(0.5)
    out = pen(ToyDense(3)(pen(inp)))
    m = Model(inp, out)
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    engine._clear_losses(m)
    _y, _entries = m.forward(x, training=True)
    assert len(pen.losses) == 2
    h = m.layers[2](x)
    expected = 0.5 * np.mean(x.astype(np.float64) ** 2) + 0.5 * np.mean(h.astype(np.float64) ** 2)
    assert sum(pen.losses) == pytest.approx(expected, rel=1e-5)
    _check_grads_fd(m, x, x)


def test_layers_handling_their_own_activity_regularizer_are_not_counted_twice():
    class SelfReg(ToyDense):
        handles_activity_regularizer = True

    inp = Input(shape=(3,))
    layer = SelfReg(3, activity_regularizer=regularizers.L2(1.0))
    m = Model(inp, layer(inp))
    m.forward(np.ones((2, 3), np.float32))
    assert layer.losses == []  # the engine left it to the layer


def test_real_dense_autoencoder():
    core = pytest.importorskip("aenn.layers.core")
    aenn_random.set_global_seed(0)
    x = _data(64, 16)
    inp = Input(shape=(16,))
    code = core.Dense(8, activation="tanh")(inp)
    out = core.Dense(16, activation="sigmoid")(code)
    m = Model(inp, out)
    m.compile(optimizer=optimizers.Adam(learning_rate=0.02), loss="binary_crossentropy")
    engine._clear_losses(m)
    _y_pred, entries = m.forward(x, training=True)
    assert m._output_logits(entries)[1] == "sigmoid"  # TF logits path is taken
    _check_grads_fd(m, x[:4], x[:4])
    first = m.evaluate(x, x, verbose=0)
    m.fit(x, x, epochs=30, batch_size=16, verbose=0)
    assert m.evaluate(x, x, verbose=0) < first - 0.02


def test_real_dense_activity_regularizer_counted_once_fd():
    core = pytest.importorskip("aenn.layers.core")
    inp = Input(shape=(5,))
    d = core.Dense(4, activation="tanh", activity_regularizer=regularizers.L1(0.05))
    conv_like = ToyDense(5, activation="sigmoid", activity_regularizer=regularizers.L2(0.05))
    m = Model(inp, conv_like(d(inp)))
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    x = np.random.default_rng(3).normal(size=(6, 5)).astype(np.float32)
    engine._clear_losses(m)
    y, _entries = m.forward(x, training=True)
    h = d(x)
    assert d.losses == pytest.approx([0.05 * np.abs(h).sum() / 6], rel=1e-5)
    assert conv_like.losses == pytest.approx([0.05 * np.square(y.astype(np.float64)).sum() / 6],
                                             rel=1e-5)
    _check_grads_fd(m, x, x)


def test_real_vae_with_sampling_trains():
    core = pytest.importorskip("aenn.layers.core")
    sampling = pytest.importorskip("aenn.layers.sampling")
    aenn_random.set_global_seed(1)
    x = (_data(64, 12) > 0.4).astype(np.float32)
    enc_in = Input(shape=(12,))
    h = core.Dense(8, activation="relu")(enc_in)
    z_mean, z_log_var = core.Dense(2)(h), core.Dense(2)(h)
    z = sampling.Sampling()([z_mean, z_log_var])
    encoder = Model(enc_in, [z_mean, z_log_var, z], name="encoder")
    dec_in = Input(shape=(2,))
    decoder = Model(dec_in, core.Dense(12, activation="sigmoid")(core.Dense(8, activation="relu")(dec_in)),
                    name="decoder")
    inp = Input(shape=(12,))
    vae = Model(inp, decoder(encoder(inp)[2]), name="vae")
    vae.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy")
    h = vae.fit(x, x, epochs=15, batch_size=16, verbose=0)
    assert np.all(np.isfinite(h.history["loss"]))
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert encoder.predict(x, verbose=0)[0].shape == (64, 2)


def test_unfreezing_without_recompile_rebuilds_optimizer():
    x = _data(16, 8)
    m = _ae()
    m.layers[1].trainable = False
    m.compile(optimizer="adam", loss="mse")
    m.fit(x, x, epochs=1, batch_size=8, verbose=0)
    m.layers[1].trainable = True
    before = m.layers[1].kernel.numpy()
    with pytest.warns(UserWarning, match="trainable weights changed"):
        m.fit(x, x, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(before, m.layers[1].kernel.value)


def test_weights_outside_the_loss_path_get_no_update():
    inp = Input(shape=(4,))
    used = ToyDense(4)(inp)
    unused = ToyDense(2)(inp)
    m = Model(inp, [used, unused])
    m._outputs = m._outputs[:1]  # train through the first head only
    m._single_output = True
    m.compile(optimizer="adam", loss="mse")
    before = m.layers[2].kernel.numpy()
    x = _data(8, 4)
    _, _, grads, _ = m._compute_gradients([x], x)
    assert grads[2] is None and grads[3] is None
    m.fit(x, x, epochs=2, batch_size=4, verbose=0)
    np.testing.assert_array_equal(before, m.layers[2].kernel.value)
