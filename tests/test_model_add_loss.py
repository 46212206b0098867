"""`model.add_loss(tensor)`: symbolic losses built with aenn.ops join the loss and train."""

import numpy as np
import pytest

import aenn
from aenn import layers, ops, optimizers, regularizers

RNG = np.random.default_rng(1)


@pytest.fixture(autouse=True)
def _seeded():
    aenn.random.set_global_seed(0)  # reproducible initial weights
D, H, LATENT = 6, 5, 2


def _kl(z_mean, z_log_var):
    return -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def _vae(add_kl, symbolic_loss, seed=7):
    x = aenn.Input((D,))
    h = layers.Dense(H, activation="relu")(x)
    z_mean = layers.Dense(LATENT)(h)
    z_log_var = layers.Dense(LATENT)(h)
    z = layers.Sampling(add_kl=add_kl, kl_weight=1.0, seed=seed)([z_mean, z_log_var])
    out = layers.Dense(D, activation="sigmoid")(layers.Dense(H, activation="relu")(z))
    vae = aenn.Model(x, out)
    if symbolic_loss:
        vae.add_loss(ops.mean(_kl(z_mean, z_log_var)))
    return vae


def _numpy_kl(vae, x):
    dense = [l for l in vae.layers if isinstance(l, layers.Dense)]
    w1, b1 = dense[0].get_weights()
    wm, bm = dense[1].get_weights()
    wv, bv = dense[2].get_weights()
    x = x.astype(np.float64)
    h = np.maximum(x @ w1 + b1, 0)
    zm, zv = h @ wm + bm, h @ wv + bv
    return float(np.mean(-0.5 * np.sum(1 + zv - zm ** 2 - np.exp(zv), axis=-1)))


def _data(n=32):
    return RNG.uniform(0, 1, (n, D)).astype(np.float32)


def test_symbolic_kl_value_in_evaluate_and_fit_history():
    vae = _vae(add_kl=False, symbolic_loss=True)
    x = _data()
    vae.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss=None)  # loss = the KL only
    expected = _numpy_kl(vae, x)
    assert expected > 0
    assert vae.evaluate(x, batch_size=32, verbose=0) == pytest.approx(expected, rel=1e-5)
    hist = vae.fit(x, batch_size=32, epochs=1, verbose=0)
    assert hist.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert vae.losses and vae.losses[-1] == pytest.approx(expected, rel=1e-5)
    # Training on the KL alone drives it down: the gradient reaches the encoder.
    vae.compile(optimizer=optimizers.Adam(learning_rate=0.05), loss=None)
    vae.fit(x, batch_size=8, epochs=10, verbose=0, shuffle=False)
    after = _numpy_kl(vae, x)
    assert after < 0.5 * expected
    assert vae.evaluate(x, batch_size=32, verbose=0) == pytest.approx(after, rel=1e-4, abs=1e-6)


def test_symbolic_kl_matches_builtin_sampling_kl():
    x = _data(40)
    a = _vae(add_kl=False, symbolic_loss=True)
    b = _vae(add_kl=True, symbolic_loss=False)
    b.set_weights(a.get_weights())
    results = []
    for m in (a, b):
        m.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy")
        h = m.fit(x, x, batch_size=8, epochs=3, shuffle=False, verbose=0)
        results.append((h.history["loss"], m.get_weights()))
    (la, wa), (lb, wb) = results
    np.testing.assert_allclose(la, lb, rtol=1e-5)
    for p, q in zip(wa, wb):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-6)
    # the KL term is really in both totals: with no compiled loss, both report the NumPy KL
    for m in (a, b):
        m.compile(optimizer="sgd", loss=None)
    kl = _numpy_kl(a, x)
    assert kl > 0
    assert a.evaluate(x, verbose=0) == pytest.approx(kl, rel=1e-5)
    assert b.evaluate(x, verbose=0) == pytest.approx(kl, rel=1e-5)
    assert len(a.layers) > len(b.layers)  # the op nodes are layers of `a`


def _grad_model():
    x = aenn.Input((4,))
    h = layers.Dense(3, activation="tanh")(x)
    z_mean = layers.Dense(2)(h)
    z_log_var = layers.Dense(2)(h)
    out = layers.Dense(4)(z_mean)
    m = aenn.Model(x, out)
    m.add_loss(ops.mean(_kl(z_mean, z_log_var)))
    m.add_loss(0.1 * ops.sum(ops.sqrt(ops.square(z_log_var) + 1.0), axis=-1))  # per sample: mean
    m.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    return m


def test_gradients_match_finite_differences():
    m = _grad_model()
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    y = RNG.standard_normal((5, 4)).astype(np.float32)
    xs = m._prepare_x(x)
    loss, _, grads, variables = m._compute_gradients(xs, y)
    assert loss == pytest.approx(m.test_on_batch(x, y), rel=1e-6)
    eps = 1e-3
    checked = 0
    for var, g in zip(variables, grads):
        v0 = var.numpy().copy()
        for idx in list(np.ndindex(v0.shape))[:4]:
            vals = []
            for s in (1, -1):
                v = v0.copy()
                v[idx] += s * eps
                var.assign(v)
                vals.append(m.test_on_batch(x, y))
            var.assign(v0)
            num = (vals[0] - vals[1]) / (2 * eps)
            assert g is not None
            assert abs(num - g[idx]) <= 1e-3 * max(1.0, abs(num)), (var.path, idx, num, g[idx])
            checked += 1
    assert checked >= 20


def test_model_level_l2_on_activations_equals_activity_regularizer():
    x = RNG.standard_normal((24, 6)).astype(np.float32)

    def build(use_add_loss):
        inp = aenn.Input((6,))
        kw = {} if use_add_loss else {"activity_regularizer": regularizers.l2(0.01)}
        h = layers.Dense(4, activation="relu", **kw)(inp)
        out = layers.Dense(6)(h)
        m = aenn.Model(inp, out)
        if use_add_loss:
            m.add_loss(0.01 * ops.sum(ops.square(h), axis=-1))  # mean over the batch
        return m

    a, b = build(True), build(False)
    b.set_weights(a.get_weights())
    hist = []
    for m in (a, b):
        m.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse")
        hist.append(m.fit(x, x, batch_size=8, epochs=2, shuffle=False, verbose=0)
                    .history["loss"])
    np.testing.assert_allclose(hist[0], hist[1], rtol=1e-5)
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-6)
    base = aenn.Model(a.input, a.output)  # same layers, no added loss
    base.compile(optimizer="sgd", loss="mse")
    a_loss = a.evaluate(x, x, verbose=0, batch_size=24)
    assert a_loss > base.evaluate(x, x, verbose=0, batch_size=24)


def test_add_loss_config_round_trip_keeps_the_loss(tmp_path):
    m = _grad_model()
    clone = aenn.models.model_from_json(m.to_json())
    clone.set_weights(m.get_weights())
    clone.compile(optimizer="sgd", loss="mse")
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    expected = m.evaluate(x, x, verbose=0)
    plain = aenn.Model(m.input, m.output)
    plain.compile(optimizer="sgd", loss="mse")
    assert plain.evaluate(x, x, verbose=0) < expected  # the added losses count
    assert clone.evaluate(x, x, verbose=0) == pytest.approx(expected, rel=1e-6)
    m.save(tmp_path / "m.keras")
    loaded = aenn.load_model(tmp_path / "m.keras")
    assert loaded.evaluate(x, x, verbose=0) == pytest.approx(expected, rel=1e-6)


def test_nested_model_with_added_loss_trains_in_outer_model():
    inner = _grad_model()
    inp = aenn.Input((4,))
    outer = aenn.Model(inp, inner(inp))
    outer.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    assert outer.evaluate(x, x, verbose=0) == pytest.approx(inner.evaluate(x, x, verbose=0),
                                                             rel=1e-6)
    _, _, g_outer, v_outer = outer._compute_gradients(outer._prepare_x(x), x)
    _, _, g_inner, v_inner = inner._compute_gradients(inner._prepare_x(x), x)
    assert [id(v) for v in v_outer] == [id(v) for v in v_inner]
    for p, q in zip(g_outer, g_inner):
        np.testing.assert_allclose(p, q, rtol=1e-6)


def test_add_loss_errors():
    m = _grad_model()
    with pytest.raises(ValueError, match="input"):
        m.add_loss(m.input)
    with pytest.raises(ValueError, match="inputs"):
        m.add_loss(ops.mean(aenn.Input((4,))))
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    m.evaluate(x, x, verbose=0)  # the failed calls left the model intact
    seq = aenn.Sequential([aenn.Input((4,)), layers.Dense(2)])
    with pytest.raises(NotImplementedError, match="functional"):
        seq.add_loss(ops.mean(seq.output))
    base = m.evaluate(x, x, verbose=0)
    m.add_loss(lambda: 0.25)  # the callable form still works
    assert m.evaluate(x, x, verbose=0) == pytest.approx(base + 0.25, rel=1e-6)


def test_keras2_style_reconstruction_plus_kl_with_add_loss_only():
    """The Keras-2 VAE pattern: the whole loss through add_loss, compile without a loss."""
    x_in = aenn.Input((4,))
    h = layers.Dense(3, activation="tanh")(x_in)
    z_mean, z_log_var = layers.Dense(2)(h), layers.Dense(2)(h)
    out = layers.Dense(4, activation="sigmoid")(z_mean)
    a = aenn.Model(x_in, out)
    rec = ops.mean(ops.binary_crossentropy(x_in, out), axis=-1)
    a.add_loss(ops.mean(rec + _kl(z_mean, z_log_var)))
    a.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss=None)
    b = aenn.Model(x_in, out)  # the same layers: compiled BCE + the KL via add_loss
    b.add_loss(ops.mean(_kl(z_mean, z_log_var)))
    b.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy")
    x = RNG.uniform(0, 1, (7, 4)).astype(np.float32)
    ea, eb = a.evaluate(x, verbose=0), b.evaluate(x, x, verbose=0)
    assert ea == pytest.approx(eb, rel=1e-5)
    np.testing.assert_allclose(
        ops.mean(ops.binary_crossentropy(x, a.predict(x, verbose=0)), axis=-1),
        aenn.losses.binary_crossentropy(x, a.predict(x, verbose=0)), rtol=1e-5)
    _, _, ga, va = a._compute_gradients(a._prepare_x(x), None)
    _, _, gb, vb = b._compute_gradients(b._prepare_x(x), x)
    assert [id(v) for v in va] == [id(v) for v in vb]
    for p, q in zip(ga, gb):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-6)
