"""Graph fusion of UpSampling2D(2, nearest) -> Conv2D(3x3, same) (aenn/models/fusion.py):
which pairs fuse, fused vs AENN_FUSE=0 training (close, not equal), thread determinism,
intermediate outputs, the profiler rows, saving."""

import numpy as np
import pytest

import aenn
from aenn import _core, layers
from aenn.models import fusion


def _denoiser(seed=1, **conv_kw):
    aenn.utils.set_random_seed(seed)
    inp = aenn.Input((28, 28, 1))
    h = layers.Conv2D(16, 3, activation="relu", padding="same")(inp)
    h = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.Conv2D(16, 3, activation="relu", padding="same")(h)
    h = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.Conv2D(16, 3, activation="relu", padding="same")(h)
    h = layers.UpSampling2D((2, 2), name="up1")(h)
    conv_kw = {"activation": "relu", **conv_kw}
    h = layers.Conv2D(16, (3, 3), padding="same", name="c4", **conv_kw)(h)
    h = layers.UpSampling2D((2, 2), name="up2")(h)
    out = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same", name="c5")(h)
    model = aenn.Model(inp, out)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def _images(n=256, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype(np.float32)


def _fit(monkeypatch, fuse, threads=None, **kw):
    monkeypatch.setenv("AENN_FUSE", fuse)
    if threads is not None:
        _core.set_num_threads(threads)
    model = _denoiser(**kw)
    x = _images()
    hist = model.fit(x, x, batch_size=64, epochs=2, verbose=0, shuffle=False)
    return model, hist.history["loss"], model.get_weights()


def test_denoiser_pairs_found():
    model = _denoiser()
    pairs = fusion.find_pairs(model)
    names = {next(n for n in model._nodes if id(n) == k).layer.name: c.layer.name
             for k, c in pairs.items()}
    assert names == {"up1": "c4", "up2": "c5"}


def test_fused_kernel_is_used(monkeypatch):
    calls = []
    real = _core.upconv_forward
    monkeypatch.setattr(_core, "upconv_forward", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setenv("AENN_FUSE", "1")
    model = _denoiser()
    model.predict(_images(8), verbose=0)
    assert len(calls) == 2
    monkeypatch.setenv("AENN_FUSE", "0")
    model.predict(_images(8), verbose=0)
    assert len(calls) == 2


def test_fused_vs_unfused_fit_close(monkeypatch, restore_core):
    _, loss1, w1 = _fit(monkeypatch, "1")
    _, loss0, w0 = _fit(monkeypatch, "0")
    np.testing.assert_allclose(loss1, loss0, rtol=1e-5)
    for a, b in zip(w1, w0):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    assert any(a.tobytes() != b.tobytes() for a, b in zip(w1, w0))  # rounding differs


def test_fused_fit_bitwise_across_threads(monkeypatch, restore_core):
    _, loss1, w1 = _fit(monkeypatch, "1", threads=1)
    _, loss2, w2 = _fit(monkeypatch, "1", threads=2)
    assert loss1 == loss2
    assert all(a.tobytes() == b.tobytes() for a, b in zip(w1, w2))


@pytest.mark.parametrize("conv_kw", [{"use_bias": False}, {"activation": "tanh"},
                                     {"activity_regularizer": "l2"}])
def test_conv_options_fused_close(monkeypatch, conv_kw, restore_core):
    x = _images(32)
    res = {}
    for fuse in ("1", "0"):
        monkeypatch.setenv("AENN_FUSE", fuse)
        model = _denoiser(**conv_kw)
        assert len(fusion.find_pairs(model)) == 2
        loss = model.train_on_batch(x, x)
        res[fuse] = (loss, model.get_weights(), model.predict(x[:4], verbose=0),
                     model.evaluate(x, x, verbose=0))
    np.testing.assert_allclose(res["1"][0], res["0"][0], rtol=1e-5)
    np.testing.assert_allclose(res["1"][3], res["0"][3], rtol=1e-5)
    np.testing.assert_allclose(res["1"][2], res["0"][2], rtol=1e-4, atol=1e-5)
    for a, b in zip(res["1"][1], res["0"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def _pair(up_kw=None, conv_kw=None, shape=(6, 5, 3)):
    inp = aenn.Input(shape)
    up = layers.UpSampling2D(**(up_kw or {}))(inp)
    kw = {"filters": 4, "kernel_size": 3, "padding": "same"}
    kw.update(conv_kw or {})
    out = layers.Conv2D(**kw)(up)
    return inp, up, out


@pytest.mark.parametrize("up_kw,conv_kw", [
    ({"interpolation": "bilinear"}, None),
    ({"size": (2, 3)}, None),
    (None, {"kernel_size": 5}),
    (None, {"strides": 2}),
    (None, {"padding": "valid"}),
    (None, {"dilation_rate": 2}),
])
def test_not_eligible(up_kw, conv_kw):
    inp, _, out = _pair(up_kw, conv_kw)
    assert fusion.find_pairs(aenn.Model(inp, out)) == {}


def test_upsample_activity_regularizer_not_fused():
    inp = aenn.Input((6, 5, 3))
    up_layer = layers.UpSampling2D()
    up_layer.activity_regularizer = aenn.regularizers.get("l2")
    out = layers.Conv2D(4, 3, padding="same")(up_layer(inp))
    assert fusion.find_pairs(aenn.Model(inp, out)) == {}


def test_eligible_pair_and_sequential():
    inp, _, out = _pair()
    assert len(fusion.find_pairs(aenn.Model(inp, out))) == 1
    seq = aenn.Sequential([aenn.Input((6, 5, 3)), layers.UpSampling2D(),
                           layers.Conv2D(2, 3, padding="same", activation="relu")])
    assert len(fusion.find_pairs(seq)) == 1
    x = np.random.default_rng(0).standard_normal((2, 6, 5, 3)).astype(np.float32)
    seq.compile(optimizer="sgd", loss="mse")
    assert np.isfinite(seq.train_on_batch(x, np.zeros((2, 12, 10, 2), np.float32)))


def test_shared_or_output_upsample_not_fused(monkeypatch):
    inp, up, out = _pair()
    other = layers.Conv2D(2, 3, padding="same")(up)
    assert fusion.find_pairs(aenn.Model(inp, [out, other])) == {}
    assert fusion.find_pairs(aenn.Model(inp, [up, out])) == {}
    # an intermediate-output model still returns the upsampled tensor
    x = np.random.default_rng(0).standard_normal((2, 6, 5, 3)).astype(np.float32)
    monkeypatch.setenv("AENN_FUSE", "1")
    got = aenn.Model(inp, up).predict(x, verbose=0)
    np.testing.assert_array_equal(got, np.repeat(np.repeat(x, 2, axis=1), 2, axis=2))
    both = aenn.Model(inp, [up, out]).predict(x, verbose=0)
    np.testing.assert_array_equal(both[0], got)


def test_profile_rows(monkeypatch):
    monkeypatch.setenv("AENN_FUSE", "1")
    model = _denoiser()
    x = _images(64)
    rep = model.fit(x, x, batch_size=32, epochs=1, verbose=0, profile=True).profile
    rows = {(r["name"], r["pass"]): r for r in rep["rows"]}
    for name in ("c4", "c5"):
        assert rows[(name, "forward")]["calls"] == 2
        assert rows[(name, "backward")]["calls"] == 2
        assert rows[(name, "forward")]["c_ms_per_step"] > 0
    assert rows[("up1", "forward")]["c_ms_per_step"] == 0
    assert ("up1", "backward") not in rows


def test_save_load_unchanged(monkeypatch, tmp_path):
    monkeypatch.setenv("AENN_FUSE", "1")
    model = _denoiser()
    x = _images(16)
    model.train_on_batch(x, x)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = aenn.saving.load_model(path)
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
