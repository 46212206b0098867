"""The compiled training step on convolutional chains (csrc/plan.c, aenn/models/plan.py): the
coursework's conv models and variants of them train through `_core.plan_step` with the bits of
the Python path (AENN_PLAN=0): weights, optimizer variables, History and Dropout generator
states byte for byte, on 1 and 2 threads and every instruction set. Chains the plan does not
cover must fall back to the Python path and still train."""

from __future__ import annotations

import numpy as np
import pytest

import aenn as keras
from aenn.models import plan as plan_module
from tests import architectures
from tests.test_plan import ADAM, MOMENTUM, RMSPROP, SCHEDULE, assert_same, train

L = keras.layers


def images(n=96, seed=0, size=28, channels=1):
    return np.random.default_rng(seed).random((n, size, size, channels), dtype=np.float32)


def one_hot(n=96, classes=10, seed=1):
    return np.eye(classes, dtype=np.float32)[np.random.default_rng(seed).integers(0, classes, n)]


def series(n=70, steps=288, seed=2):
    return np.random.default_rng(seed).standard_normal((n, steps, 1)).astype(np.float32)


def coursework(name):
    return lambda: next(iter(getattr(architectures, name)(keras).values()))


# (model builder, loss, metrics, x, y): the benchmark and notebook conv models
COURSEWORK = {
    "heig_conv_denoiser": (coursework("heig_conv_denoiser"), "binary_crossentropy", (),
                           lambda: (images(), images())),
    "blog_denoiser": (coursework("blog_denoiser"), "binary_crossentropy", (),
                      lambda: (images(), images(seed=5))),
    "blog_conv_ae": (coursework("blog_conv_ae"), "binary_crossentropy", (),
                     lambda: (images(), images())),
    "nab_conv1d_ae": (coursework("nab_conv1d_ae"), "mse", (), lambda: (series(), series())),
    "mnist_convnet": (coursework("mnist_convnet"), "categorical_crossentropy", ("accuracy",),
                      lambda: (images(), one_hot())),
}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", list(COURSEWORK))
def test_coursework_conv_models(monkeypatch, name, threads):
    make, loss, metrics, xy = COURSEWORK[name]
    x, y = xy()
    res = assert_same(monkeypatch, make, loss, ADAM, x, y, metrics=metrics, threads=threads,
                      batch_size=32, epochs=2)
    # 3 steps per epoch (the last partial only for the 70-sample series), the first in Python
    assert res[3] == 2 * 3 - 1


@pytest.mark.parametrize("isa", keras._core.available_isas())
@pytest.mark.parametrize("name", ["heig_conv_denoiser", "mnist_convnet", "nab_conv1d_ae"])
def test_every_isa(monkeypatch, name, isa):
    make, loss, metrics, xy = COURSEWORK[name]
    x, y = xy()
    old = keras._core.isa()
    keras._core.set_isa(isa)
    try:
        assert_same(monkeypatch, make, loss, MOMENTUM, x[:48], y[:48], metrics=metrics,
                    threads=2, batch_size=20, epochs=2)
    finally:
        keras._core.set_isa(old)


def _seq(layers, shape=(28, 28, 1)):
    """A builder of Sequential(Input(shape), *layers()): new layers at every call."""
    return lambda: keras.Sequential([keras.Input(shape)] + layers())


# Chains of every conv / pool / upsample unit, their fusions and their edge cases:
# (builder, loss, metrics, data: "images" -> one-hot labels, "autoencoder" -> itself, "series").
VARIANTS = {
    # strided Conv2D, Conv2DTranspose (stride 2 'same', then stride 1), linear output, MSE
    "conv2d_transpose": (_seq(lambda: [
        L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        L.Conv2DTranspose(6, 3, strides=2, padding="same", activation="elu"),
        L.Conv2DTranspose(1, 3, padding="same")]), "mse", (), "autoencoder"),
    # activations whose backward reads the output (tanh, elu), no bias, dilation, 2x3 kernel
    "activations_no_bias": (_seq(lambda: [
        L.Conv2D(5, 3, activation="tanh", use_bias=False),
        L.Conv2D(4, (2, 3), activation="elu", dilation_rate=2),
        L.Flatten(), L.Dense(10, activation="softmax")]), "categorical_crossentropy",
                            ("accuracy",), "images"),
    # a one-input-channel conv + pool whose input needs a gradient (after a Dense + Reshape)
    "convpool_m1_with_dx": (_seq(lambda: [
        L.Flatten(), L.Dense(196, activation="relu"), L.Reshape((14, 14, 1)),
        L.Conv2D(6, 3, activation="relu", padding="same"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(10, activation="softmax")]), "categorical_crossentropy", (),
                            "images"),
    # conv + pool on an odd conv output with a 'valid' pool, Dropout on images before it
    "convpool_odd_dropout": (_seq(lambda: [
        L.Conv2D(7, 3, activation="relu"), L.Dropout(0.3),
        L.Conv2D(9, 3, activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(10, activation="softmax")]), "categorical_crossentropy",
                             ("accuracy",), "images"),
    # pools and upsamplings on their own: average, strided 'same' max, bilinear, (2, 3)
    "pools_upsampling": (_seq(lambda: [
        L.Conv2D(4, 3, padding="same"), L.AveragePooling2D(2),
        L.Conv2D(4, 3, activation="sigmoid", padding="same"),
        L.MaxPooling2D(3, strides=2, padding="same"),
        L.UpSampling2D(2, interpolation="bilinear"), L.Conv2D(4, 3, activation="relu"),
        L.UpSampling2D((2, 3)), L.Flatten(), L.Dense(10, activation="softmax")]),
                         "categorical_crossentropy", (), "images"),
    # 1-D: causal and dilated convs, 1-D pools and upsampling, a transpose with output_padding
    "conv1d_pool_upsample": (_seq(lambda: [
        L.Conv1D(6, 5, padding="causal", activation="relu"), L.MaxPooling1D(2),
        L.Conv1D(5, 3, dilation_rate=2, padding="same", activation="relu"),
        L.AveragePooling1D(3, strides=2, padding="same"), L.UpSampling1D(2),
        L.Conv1DTranspose(1, 3, strides=2, padding="same", output_padding=1)],
        shape=(40, 1)), "mse", (), "series"),
}


def _variant_data(kind):
    if kind == "series":
        x = series(n=50, steps=40)
        return x, x
    x = images(n=50)
    return x, (x if kind == "autoencoder" else one_hot(n=50))


@pytest.mark.parametrize("optimizer", [ADAM, RMSPROP, SCHEDULE],
                         ids=["adam", "rmsprop", "schedule"])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_variants(monkeypatch, name, optimizer):
    make, loss, metrics, kind = VARIANTS[name]
    x, y = _variant_data(kind)
    res = assert_same(monkeypatch, make, loss, optimizer, x, y, metrics=metrics, threads=2,
                      batch_size=16, epochs=2)
    assert res[3] == 2 * 4 - 1


@pytest.mark.parametrize("last", ["flatten", "reshape"])
def test_output_reshaped_after_the_last_unit(monkeypatch, last):
    """A Flatten / Reshape after the last sigmoid conv: the Python path's loss then reads the
    probabilities (the reshaping layer has no logits) on the output's own last axis; the plan
    must do the same."""
    x = images(n=40)
    tail = L.Flatten() if last == "flatten" else L.Reshape((28, 28))
    y = x.reshape(40, 784) if last == "flatten" else x.reshape(40, 28, 28)
    make = _seq(lambda: [L.Conv2D(4, 3, activation="relu", padding="same"),
                         L.Conv2D(1, 3, activation="sigmoid", padding="same"), tail])
    assert_same(monkeypatch, make, "binary_crossentropy", ADAM, x, y, metrics=(), batch_size=16,
                epochs=2)


def test_unfused_graph_runs_the_unfused_units(monkeypatch):
    """AENN_FUSE=0: the denoiser's pools and upsamplings run as units of their own, with the
    bits of the unfused Python path (which differ from the fused ones: the upsample fusion
    rounds differently)."""
    make, loss, _, xy = COURSEWORK["heig_conv_denoiser"]
    x, y = xy()
    monkeypatch.setenv("AENN_FUSE", "0")
    unfused = assert_same(monkeypatch, make, loss, ADAM, x, y, metrics=(), batch_size=32,
                          epochs=1)
    monkeypatch.setenv("AENN_FUSE", "1")
    fused = train(monkeypatch, True, make, loss, ADAM, x, y, metrics=(), batch_size=32,
                  epochs=1)
    assert unfused[3] == fused[3] == 2
    assert unfused[0] != fused[0]


def _fallback_model(case):
    if case == "kernel_regularizer":
        conv = L.Conv2D(4, 3, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-3))
    elif case == "softmax_conv":
        conv = L.Conv2D(4, 3, activation="softmax")
    elif case == "frozen_conv":
        conv = L.Conv2D(4, 3, activation="relu", trainable=False)
    elif case == "spatial_dropout":
        return _seq(lambda: [L.Conv2D(4, 3, activation="relu"), L.SpatialDropout2D(0.3),
                             L.Flatten(), L.Dense(10, activation="softmax")])()
    elif case == "batchnorm_on_images":
        return _seq(lambda: [L.Conv2D(4, 3), L.BatchNormalization(), L.Flatten(),
                             L.Dense(10, activation="softmax")])()
    elif case == "global_pool":
        return _seq(lambda: [L.Conv2D(4, 3, activation="relu"), L.GlobalAveragePooling2D(),
                             L.Dense(10, activation="softmax")])()
    elif case == "cropping":
        return _seq(lambda: [L.Conv2D(4, 3, activation="relu"), L.Cropping2D(1), L.Flatten(),
                             L.Dense(10, activation="softmax")])()
    return _seq(lambda: [conv, L.MaxPooling2D(2), L.Flatten(),
                         L.Dense(10, activation="softmax")])()


@pytest.mark.parametrize("case", ["kernel_regularizer", "softmax_conv", "frozen_conv",
                                  "spatial_dropout", "batchnorm_on_images", "global_pool",
                                  "cropping"])
def test_ineligible_conv_models_fall_back(monkeypatch, case):
    x, y = images(n=40), one_hot(n=40)
    monkeypatch.setenv("AENN_PLAN", "1")
    keras.utils.set_random_seed(5)
    model = _fallback_model(case)
    model.compile(ADAM(), "categorical_crossentropy", metrics=["accuracy"])
    before_w = [w.copy() for w in model.get_weights()]
    before = plan_module.steps_run
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert plan_module.steps_run == before, "the plan ran for an ineligible model"
    assert all(np.isfinite(v) for v in history.history["loss"])
    assert any(not np.array_equal(a, b) for a, b in zip(before_w, model.get_weights()))


def test_input_shape_must_match_the_graph(monkeypatch):
    """Flat data for an image model is not planned (the Python path reports the shape)."""
    monkeypatch.setenv("AENN_PLAN", "1")
    model = coursework("mnist_convnet")()
    model.compile(ADAM(), "categorical_crossentropy")
    before = plan_module.steps_run
    with pytest.raises(ValueError):
        model.fit(images(n=32).reshape(32, 784), one_hot(n=32), batch_size=16, verbose=0)
    assert plan_module.steps_run == before


def _conv_layer(geom, y, z, k, transpose=0):
    return (5, 1, 0, y, np.zeros_like(y), k, None, 0, 1.0, z, None, np.zeros_like(k), None,
            transpose, geom)


def test_plan_create_rejects_bad_conv_geometry():
    """Bad geometry reaches C as a ValueError naming the layer, never as a crash."""
    from aenn import _core
    cap = 4
    x = np.zeros((cap, 6 * 6 * 1), np.float32)
    y = np.zeros((cap, 4 * 4 * 2), np.float32)
    k = np.zeros((3, 3, 1, 2), np.float32)
    loss = (2, 0.0, 0, 0, np.zeros(cap, np.float32), np.zeros(1))
    opt = (0, [k], [], 0, np.zeros((), np.int64))
    good = (6, 6, 1, 4, 4, 2, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0)
    # the good one is accepted
    _core.plan_create([_conv_layer(good, y, y, k)], x, y.copy(), None,
                      (2, 0.0, 0, 0, np.zeros(cap, np.float32), np.zeros(1), 32), opt, 0)
    bad = {
        "output": (6, 6, 1, 5, 4, 2, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0),
        "stride": (6, 6, 1, 4, 4, 2, 3, 3, 0, 1, 1, 1, 0, 0, 0, 0),
        "padding": (6, 6, 1, 4, 4, 2, 3, 3, 1, 1, 1, 1, -1, 0, 0, 0),
        "kernel": (6, 6, 1, 4, 4, 2, 9, 3, 1, 1, 1, 1, 0, 0, 0, 0),
    }
    for what, geom in bad.items():
        with pytest.raises(ValueError, match=r"plan_create.*layers\[0\]"):
            _core.plan_create([_conv_layer(geom, y, y, k)], x, y.copy(), None,
                              (2, 0.0, 0, 0, np.zeros(cap, np.float32), np.zeros(1), 32), opt, 0)
    # a kernel of the wrong size
    with pytest.raises(ValueError, match="kernel"):
        _core.plan_create([_conv_layer(good, y, y, k[:2])], x, y.copy(), None,
                          (2, 0.0, 0, 0, np.zeros(cap, np.float32), np.zeros(1), 32), opt, 0)
    # a loss axis that does not divide the output
    with pytest.raises(ValueError, match="last axis"):
        _core.plan_create([_conv_layer(good, y, y, k)], x, y.copy(), None,
                          (2, 0.0, 0, 0, np.zeros(cap, np.float32), np.zeros(1), 5), opt, 0)
