"""Every coursework architecture (TASKS.md §7) builds with Keras's parameter counts and shapes.

Each builder in ``tests/architectures.py`` is written once against a Keras-like module and run
on ``aenn``. The numbers of TASKS.md §7 / the issue are asserted directly; when real Keras 3 is
importable (``KERAS_BACKEND=torch``) the same builder is also run on ``keras`` and every layer
is compared: class, output shape, parameter count, trainable / non-trainable split, recursively
into nested models, plus the three totals lines that ``summary()`` prints.
"""

from __future__ import annotations

import os
import warnings

import architectures as A
import numpy as np
import pytest

import aenn

os.environ.setdefault("KERAS_BACKEND", "torch")
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import keras as real_keras
    if not real_keras.__version__.startswith("3."):
        real_keras = None
except Exception:  # noqa: BLE001 - any import failure means "no reference available"
    real_keras = None

needs_keras = pytest.mark.skipif(real_keras is None, reason="Keras 3 is not importable")


def _size(weights):
    return sum(int(np.prod(tuple(w.shape))) for w in weights)


def _counts(model):
    return (model.count_params(), _size(model.trainable_weights),
            _size(model.non_trainable_weights))


def _shape(layer):
    out = layer.output
    if isinstance(out, (list, tuple)):
        return [tuple(t.shape) for t in out]
    return tuple(out.shape)


def _layer_rows(model):
    """(class, output shape, params, trainable, non-trainable) per layer, nested models inline."""
    rows = []
    for layer in model.layers:
        rows.append((type(layer).__name__, _shape(layer), layer.count_params(), _size(layer.trainable_weights),
                     _size(layer.non_trainable_weights)))
        if hasattr(layer, "layers"):
            rows.extend(("  " + r[0],) + r[1:] for r in _layer_rows(layer))
    return rows


def _normalise_class(rows):
    # aenn's functional class is `Model`; Keras 3 reports `Functional`.
    return [(r[0].replace("Functional", "Model"),) + r[1:] for r in rows]


def _totals_lines(model):
    lines = []
    model.summary(print_fn=lambda s, *a, **k: lines.append(s))
    text = "\n".join(lines)
    return [ln.strip() for ln in text.splitlines()
            if ln.strip().startswith(("Total params", "Trainable params", "Non-trainable params"))]


def _build(module, key):
    fn, kwargs, expected = A.EXPECTED[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about `input_shape=` on a layer
        return fn(module, **kwargs), expected


ALL = [k for k in A.EXPECTED if k != "ecg_dense_ae"]


@pytest.mark.parametrize("key", ALL)
def test_counts_match_the_reference_numbers(key):
    models, expected = _build(aenn, key)
    for name, (total, trainable, non_trainable) in expected.items():
        assert _counts(models[name]) == (total, trainable, non_trainable), (key, name)


@pytest.mark.parametrize("key", ALL)
def test_summary_prints_the_totals(key):
    models, expected = _build(aenn, key)
    for name, (total, trainable, non_trainable) in expected.items():
        lines = _totals_lines(models[name])
        assert [ln.split("(")[0].strip() for ln in lines] == [
            f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {non_trainable:,}"], (key, name, lines)


@needs_keras
@pytest.mark.parametrize("key", ALL + ["ecg_dense_ae"])
def test_keras_builds_the_same_numbers(key):
    """The builders are faithful: real Keras gives the reference numbers too."""
    models, expected = _build(real_keras, key)
    for name, counts in expected.items():
        assert _counts(models[name]) == counts, (key, name)


@needs_keras
@pytest.mark.parametrize("key", ALL)
def test_per_layer_shapes_and_params_equal_keras(key):
    ours, expected = _build(aenn, key)
    ref, _ = _build(real_keras, key)
    for name in expected:
        got = _normalise_class(_layer_rows(ours[name]))
        want = _normalise_class(_layer_rows(ref[name]))
        assert got == want, (key, name)
        assert _totals_lines(ours[name]) == _totals_lines(ref[name]), (key, name)


@needs_keras
def test_ecg_subclassed_submodels_equal_keras():
    """Keras's subclassed AnomalyDetector vs aenn's Sequential rewrite, submodel by submodel."""
    ref, _ = _build(real_keras, "ecg_dense_ae")
    ours, _ = _build(aenn, "ecg_dense_ae_sequential")
    for part in ("encoder", "decoder"):
        # Keras's subclassed model was built by a call on a batch of 2: compare without batch.
        want = [(type(la).__name__, _shape(la)[1:], la.count_params())
                for la in getattr(ref["autoencoder"], part).layers]
        got = [(type(la).__name__, _shape(la)[1:], la.count_params())
               for la in ours[part].layers]
        assert got == want, part


@pytest.mark.xfail(raises=ValueError, strict=True,
                   reason="aenn does not support subclassed Models (TF ECG tutorial style)")
def test_ecg_subclassed_model_builds_in_aenn():
    models, _ = _build(aenn, "ecg_dense_ae")
    assert _counts(models["autoencoder"]) == (10484, 10484, 0)


def _batch_shape(shape, n=2):
    return (n,) + tuple(shape[1:])


@pytest.mark.parametrize("key", ALL)
def test_forward_pass_gives_the_symbolic_shapes(key):
    """predict() on a batch of 2 returns arrays of the summarised output shapes."""
    models, expected = _build(aenn, key)
    for name in expected:
        model = models[name]
        ins = model.inputs
        x = [np.random.default_rng(0).random(_batch_shape(t.shape)).astype(np.float32)
             for t in ins]
        y = model.predict(x[0] if len(x) == 1 else x, verbose=0)
        outs = model.outputs
        ys = y if isinstance(y, (list, tuple)) else [y]
        assert [a.shape for a in ys] == [_batch_shape(t.shape) for t in outs], (key, name)
        assert all(np.isfinite(a).all() for a in ys)


def test_conv_shapes_of_the_key_models():
    """Hard numbers from KERAS.md §15 (independent of Keras being importable)."""
    nab = A.nab_conv1d_ae(aenn)["autoencoder"]
    assert [_shape(la) for la in nab.layers] == [
        (None, 144, 32), (None, 144, 32), (None, 72, 16), (None, 144, 16), (None, 144, 16),
        (None, 288, 32), (None, 288, 1)]
    assert [la.count_params() for la in nab.layers] == [256, 0, 3600, 1808, 0, 3616, 225]
    blog = A.blog_conv_ae(aenn)["autoencoder"]
    shapes = [_shape(la) for la in blog.layers]
    assert (None, 4, 4, 8) in shapes and (None, 14, 14, 16) in shapes
    assert shapes[-1] == (None, 28, 28, 1)
    dae, _ = _build(aenn, "seed004_dae")
    assert dae["encoder"].layers[-1].name == "BottleNeck"
    assert _shape(dae["encoder"].layers[-1]) == (None, 196)
