"""Graph fusion of Conv2D(relu) -> MaxPooling2D((2, 2)) (aenn/models/fusion.py): the whole op in
C for a one-input-channel conv (csrc/convpool.c, mode "m1"), ReLU + pool in one op after any
other conv (pool.h, mode "relu"). Which pairs fuse, in which mode; training, evaluation and
prediction give exactly the unfused layers' bits (the fusion changes no rounding); the image's
gradient when it needs one; inputs of a size the kernels do not take; profiler rows; thread
determinism."""

import numpy as np
import pytest

import aenn
from aenn import _core, layers
from aenn.models import fusion


def _denoiser():
    inp = aenn.Input((28, 28, 1))
    h = layers.Conv2D(16, 3, activation="relu", padding="same", name="c1")(inp)
    h = layers.MaxPooling2D(2, padding="same", name="p1")(h)
    h = layers.Conv2D(16, 3, activation="relu", padding="same", name="c2")(h)
    h = layers.MaxPooling2D(2, padding="same", name="p2")(h)
    h = layers.Conv2D(16, 3, activation="relu", padding="same")(h)
    h = layers.UpSampling2D((2, 2))(h)
    h = layers.Conv2D(16, (3, 3), activation="relu", padding="same")(h)
    h = layers.UpSampling2D((2, 2))(h)
    out = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(h)
    return aenn.Model(inp, out), "binary_crossentropy"


def _convnet():
    return aenn.Sequential([
        aenn.Input((28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu", name="c1"),
        layers.MaxPooling2D((2, 2), name="p1"),
        layers.Conv2D(64, (3, 3), activation="relu", name="c2"),
        layers.MaxPooling2D((2, 2), name="p2"), layers.Flatten(), layers.Dropout(0.5),
        layers.Dense(10, activation="softmax")]), "categorical_crossentropy"


def _gradient_to_image():
    """A one-channel conv after another layer: the fused conv's input needs a gradient."""
    inp = aenn.Input((12, 10, 1))
    h = layers.Conv2D(1, 3, padding="same", name="c0")(inp)
    h = layers.Conv2D(6, (2, 3), activation="relu", name="c1")(h)
    h = layers.MaxPooling2D((2, 2), name="p1")(h)
    out = layers.Dense(3, activation="softmax")(layers.Flatten()(h))
    return aenn.Model(inp, out), "categorical_crossentropy"


def _strided():
    """A three-channel image, a strided 5x5 conv: ReLU + pool fused after the conv's own kernel,
    an odd conv output (9x9) before a 'valid' pool."""
    inp = aenn.Input((18, 17, 3))
    h = layers.Conv2D(5, 5, strides=2, activation="relu", name="c1")(inp)
    h = layers.MaxPooling2D((2, 2), name="p1")(h)
    out = layers.Dense(3, activation="softmax")(layers.Flatten()(h))
    return aenn.Model(inp, out), "categorical_crossentropy"


BUILDERS = {"denoiser": _denoiser, "convnet": _convnet, "gradient_to_image": _gradient_to_image,
            "strided": _strided}
MODES = {"denoiser": {"c1": ("p1", "m1"), "c2": ("p2", "relu")},
         "convnet": {"c1": ("p1", "m1"), "c2": ("p2", "relu")},
         "gradient_to_image": {"c1": ("p1", "m1")},
         "strided": {"c1": ("p1", "relu")}}


def _data(name, n=160, seed=0):
    shape = {"gradient_to_image": (12, 10, 1), "strided": (18, 17, 3)}.get(name, (28, 28, 1))
    rng = np.random.default_rng(seed)
    x = rng.random((n,) + shape).astype(np.float32)
    x[x < 0.7] = 0.0  # MNIST-like: mostly exact zeros, so pre-activations tie at 0
    if name == "denoiser":
        return x, x
    classes = 3 if name in ("gradient_to_image", "strided") else 10
    return x, np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]


def _pair_names(model):
    return {next(n for n in model._nodes if id(n) == k).layer.name: (p.layer.name, mode)
            for k, (p, mode) in fusion.find_convpools(model).items()}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_pairs_found(name):
    model, _ = BUILDERS[name]()
    assert _pair_names(model) == MODES[name]


def _train(monkeypatch, name, fused, threads=None):
    """Weights, History, predictions and evaluation after two epochs, with or without the
    conv + pool fusion (the upsample fusion stays as it is)."""
    if not fused:
        monkeypatch.setattr(fusion, "find_convpools", lambda model: {})
    if threads is not None:
        _core.set_num_threads(threads)
    aenn.utils.set_random_seed(3)
    model, loss = BUILDERS[name]()
    model.compile(optimizer="adam", loss=loss)
    x, y = _data(name)
    hist = model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_split=0.2)
    monkeypatch.undo()
    return (b"".join(w.tobytes() for w in model.get_weights()), hist.history,
            model.predict(x[:20], verbose=0).tobytes(), model.evaluate(x, y, verbose=0))


@pytest.mark.parametrize("name", list(BUILDERS))
def test_fit_gives_the_unfused_bits(monkeypatch, restore_core, name):
    assert _train(monkeypatch, name, True) == _train(monkeypatch, name, False)


def test_fit_bitwise_across_threads(monkeypatch, restore_core):
    assert _train(monkeypatch, "convnet", True, threads=1) == \
        _train(monkeypatch, "convnet", True, threads=2)


def test_fused_kernels_are_used(monkeypatch):
    calls = []
    for fn in ("convpool_forward", "convpool_backward", "relu_maxpool2x2_forward",
               "relu_maxpool2x2_backward"):
        real = getattr(_core, fn)
        monkeypatch.setattr(_core, fn, lambda *a, _f=fn, _r=real: calls.append(_f) or _r(*a))
    model, loss = _convnet()
    model.compile(optimizer="sgd", loss=loss)
    x, y = _data("convnet", n=8)
    model.train_on_batch(x, y)
    assert calls == ["convpool_forward", "relu_maxpool2x2_forward", "relu_maxpool2x2_backward",
                     "convpool_backward"]
    monkeypatch.setenv("AENN_FUSE", "0")
    model.train_on_batch(x, y)
    assert len(calls) == 4


def _pair(conv_kw=None, pool_kw=None, shape=(8, 8, 1)):
    inp = aenn.Input(shape)
    kw = {"filters": 4, "kernel_size": 3, "activation": "relu"}
    kw.update(conv_kw or {})
    conv = layers.Conv2D(**kw)(inp)
    out = layers.MaxPooling2D(**{"pool_size": 2, **(pool_kw or {})})(conv)
    return inp, conv, out


@pytest.mark.parametrize("conv_kw,pool_kw,shape", [
    ({"activation": "sigmoid"}, None, (8, 8, 1)),
    ({"activation": None}, None, (8, 8, 1)),
    ({"activity_regularizer": "l2"}, None, (8, 8, 1)),
    (None, {"pool_size": 3}, (8, 8, 1)),
    (None, {"strides": 1}, (8, 8, 1)),
    (None, {"padding": "same"}, (9, 9, 1)),    # odd 7x7 conv output: a padded window
    (None, None, (None, None, 1)),             # sizes unknown
])
def test_not_eligible(conv_kw, pool_kw, shape):
    inp, _, out = _pair(conv_kw, pool_kw, shape)
    assert fusion.find_convpools(aenn.Model(inp, out)) == {}


@pytest.mark.parametrize("conv_kw,shape", [
    ({"kernel_size": 5}, (8, 8, 1)),
    ({"kernel_size": (3, 2)}, (8, 8, 1)),
    ({"kernel_size": (4, 3)}, (8, 8, 1)),
    ({"strides": 2}, (12, 12, 1)),
    ({"dilation_rate": 2}, (8, 8, 1)),
    (None, (8, 8, 2)),                                          # two input channels
    ({"filters": 256, "padding": "same"}, (8, 20, 1)),          # a conv row over the limit
])
def test_relu_mode_for_other_convs(conv_kw, shape):
    inp, _, out = _pair(conv_kw, None, shape)
    assert [m for _, m in fusion.find_convpools(aenn.Model(inp, out)).values()] == ["relu"]


def test_eligible_variants():
    for conv_kw, pool_kw, shape in [(None, None, (9, 9, 1)),                  # odd: 'valid'
                                    ({"padding": "same"}, {"padding": "same"}, (8, 6, 1)),
                                    ({"kernel_size": (1, 3), "use_bias": False}, None, (5, 7, 1)),
                                    ({"activation": "relu", "name": "r"}, None, (4, 4, 1))]:
        inp, _, out = _pair(conv_kw, pool_kw, shape)
        modes = [m for _, m in fusion.find_convpools(aenn.Model(inp, out)).values()]
        assert modes == ["m1"], (conv_kw, pool_kw, shape)


def test_shared_or_output_conv_not_fused(monkeypatch):
    inp, conv, out = _pair()
    other = layers.Flatten()(conv)
    assert fusion.find_convpools(aenn.Model(inp, [out, other])) == {}
    assert fusion.find_convpools(aenn.Model(inp, [conv, out])) == {}
    pool_layer = layers.MaxPooling2D(2)
    pool_layer.activity_regularizer = aenn.regularizers.get("l2")
    assert fusion.find_convpools(aenn.Model(inp, pool_layer(conv))) == {}
    # the intermediate-output model returns the conv output, and the pool output beside it
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 1)).astype(np.float32)
    both = aenn.Model(inp, [conv, out]).predict(x, verbose=0)
    alone = aenn.Model(inp, out).predict(x, verbose=0)
    assert both[1].tobytes() == alone.tobytes()
    assert both[0].shape == (2, 6, 6, 4)


def test_input_of_another_size_runs_unfused():
    """fit/predict refuse an input size other than the Input's, but the graph's own forward
    takes one: where the fused kernel does not apply (an odd conv output before a 'same' pool)
    the two layers run as they are, forward and backward."""
    inp, _, out = _pair({"padding": "same"}, {"padding": "same"}, (8, 8, 1))
    model = aenn.Model(inp, out)
    assert len(fusion.find_convpools(model)) == 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 9, 1)).astype(np.float32)
    with pytest.raises(ValueError, match="expected shape"):
        model.predict(x, verbose=0)
    got, cache = model.forward(x)
    conv, pool = model.layers[1], model.layers[2]
    y, c1 = conv.forward(x)
    want, c2 = pool.forward(y)
    assert got.tobytes() == want.tobytes()
    dout = rng.standard_normal(got.shape).astype(np.float32)
    _, grads = model.backward(dout, cache, need_dinputs=False)
    _, want_grads = conv.backward(pool.backward(dout, c2)[0], c1, need_dinputs=False)
    assert [g.tobytes() for g in grads] == [g.tobytes() for g in want_grads]


def test_profile_rows(monkeypatch):
    model, loss = _convnet()
    model.compile(optimizer="adam", loss=loss)
    x, y = _data("convnet", n=64)
    rep = model.fit(x, y, batch_size=32, epochs=1, verbose=0, profile=True).profile
    rows = {(r["name"], r["pass"]): r for r in rep["rows"]}
    assert rows[("c1", "forward")]["calls"] == 2 and rows[("c1", "forward")]["c_ms_per_step"] > 0
    assert rows[("c1", "backward")]["calls"] == 2
    assert rows[("p1", "forward")]["c_ms_per_step"] == 0
    assert ("p1", "backward") not in rows
