"""Bad input through the public API gives a ValueError/TypeError naming the argument and shapes.

One test per bad input of the foundation issue: wrong dtype (object, complex, strings), wrong
ndim, x/y batch mismatch, labels out of range for sparse CCE, one-hot width != units,
non-contiguous and read-only arrays (accepted by the Keras API, rejected by the raw kernels),
empty arrays, batch_size <= 0, validation_split outside [0, 1), unknown optimizer / loss /
activation strings, set_weights with wrong shapes, truncated or tampered .aenn files.
"""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest

import aenn as keras
from aenn import _core

N, FEATURES, UNITS = 8, 4, 3


def _model(loss="categorical_crossentropy", optimizer="sgd"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(FEATURES,)),
        keras.layers.Dense(5, activation="relu"),
        keras.layers.Dense(UNITS, activation="softmax"),
    ])
    model.compile(optimizer=optimizer, loss=loss)
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((N, FEATURES)).astype("float32")
    labels = np.arange(N) % UNITS
    y = np.eye(UNITS, dtype="float32")[labels]
    return x, y, labels


def _raises(exc, call, *fragments):
    """`call()` raises `exc`; every fragment (a literal string) appears in the message."""
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in message: {msg}"
    return msg


# ----- dtype ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [object, np.complex64, str])
def test_fit_rejects_non_real_x_dtype(dtype):
    x, y, _ = _data()
    bad = x.astype(dtype)
    _raises(TypeError, lambda: _model().fit(bad, y, verbose=0),
            "`x`", str(bad.dtype), str(bad.shape))


@pytest.mark.parametrize("dtype", [object, np.complex128, str])
def test_fit_rejects_non_real_y_dtype(dtype):
    x, y, _ = _data()
    bad = y.astype(dtype)
    _raises(TypeError, lambda: _model().fit(x, bad, verbose=0),
            "`y`", str(bad.dtype), str(bad.shape))


@pytest.mark.parametrize("method", ["predict", "evaluate"])
def test_predict_and_evaluate_reject_string_x(method):
    x, y, _ = _data()
    bad = x.astype(str)
    model = _model()
    call = (lambda: model.predict(bad, verbose=0)) if method == "predict" else \
        (lambda: model.evaluate(bad, y, verbose=0))
    _raises(TypeError, call, "`x`", str(bad.dtype), str(bad.shape))


@pytest.mark.parametrize("dtype", [object, np.complex64, str])
def test_layer_call_rejects_non_real_dtype(dtype):
    x, _, _ = _data()
    bad = x.astype(dtype)
    _raises(TypeError, lambda: keras.layers.Dense(2)(bad), "`inputs`", str(bad.dtype),
            str(bad.shape))


# ----- ndim / shapes --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(N,), (N, FEATURES, 1), (N, 2, 2)])
def test_fit_rejects_x_of_wrong_ndim(shape):
    x = np.zeros(shape, "float32")
    _, y, _ = _data()
    _raises(ValueError, lambda: _model().fit(x, y, verbose=0),
            "`x`", str(shape), f"(None, {FEATURES})")


def test_predict_rejects_x_of_wrong_ndim():
    x = np.zeros((N, FEATURES, 1), "float32")
    _raises(ValueError, lambda: _model().predict(x, verbose=0),
            "`x`", str(x.shape), f"(None, {FEATURES})")


@pytest.mark.parametrize("shape", [(N,), (N, UNITS, 2)])
def test_fit_rejects_y_of_wrong_ndim(shape):
    x, _, _ = _data()
    y = np.zeros(shape, "float32")
    _raises(ValueError, lambda: _model().fit(x, y, verbose=0),
            "y_true", str(shape), f"({N}, {UNITS})")


def test_sparse_cce_rejects_labels_of_wrong_ndim():
    x, _, _ = _data()
    y = np.zeros((N, 2, 2), "int64")
    _raises(ValueError, lambda: _model("sparse_categorical_crossentropy").fit(x, y, verbose=0),
            "y_true", str(y.shape), f"({N}, {UNITS})")


def test_layer_call_rejects_wrong_feature_count():
    layer = keras.layers.Dense(2)
    layer(np.zeros((2, FEATURES), "float32"))
    _raises(ValueError, lambda: layer(np.zeros((2, FEATURES + 1), "float32")),
            layer.name, str(FEATURES), f"(2, {FEATURES + 1})")


def test_conv_layer_call_rejects_wrong_rank():
    _raises(ValueError, lambda: keras.layers.Conv2D(2, 3)(np.zeros((2, 5, 5), "float32")),
            "Conv2D", "rank 4", "(None, 5, 5)")


# ----- batch mismatch -------------------------------------------------------------------------
def test_fit_rejects_x_y_batch_mismatch():
    x, y, _ = _data()
    _raises(ValueError, lambda: _model().fit(x, y[:5], verbose=0),
            "`x`", "`y`", f"({N}, {FEATURES})", f"(5, {UNITS})")


def test_evaluate_rejects_x_y_batch_mismatch():
    x, y, _ = _data()
    _raises(ValueError, lambda: _model().evaluate(x[:6], y, verbose=0),
            "`x`", "`y`", f"(6, {FEATURES})", f"({N}, {UNITS})")


def test_fit_rejects_validation_data_batch_mismatch():
    x, y, _ = _data()
    _raises(ValueError, lambda: _model().fit(x, y, validation_data=(x, y[:3]), verbose=0),
            "`x_val`", "`y_val`", f"({N}, {FEATURES})", f"(3, {UNITS})")


# ----- labels ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad_label", [UNITS, -1, 99])
@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_sparse_cce_rejects_labels_out_of_range(bad_label, method):
    x, _, labels = _data()
    labels = labels.copy()
    labels[3] = bad_label
    model = _model("sparse_categorical_crossentropy")
    call = getattr(model, method)
    _raises(ValueError, lambda: call(x, labels, verbose=0),
            "y_true", f"{bad_label}", f"[0, {UNITS})", f"({N},)", f"({N}, {UNITS})")


@pytest.mark.parametrize("width", [UNITS - 1, UNITS + 1, 10])
def test_one_hot_width_must_match_units(width):
    x, _, labels = _data()
    y = np.eye(width, dtype="float32")[labels % width]
    _raises(ValueError, lambda: _model().fit(x, y, verbose=0),
            "y_true", f"({N}, {width})", f"({N}, {UNITS})")


# ----- non-contiguous and read-only arrays ----------------------------------------------------
def _variants(x):
    fortran = np.asfortranarray(x)
    strided = np.repeat(x, 2, axis=1)[:, ::2]
    readonly = x.copy()
    readonly.flags.writeable = False
    readonly_f = np.asfortranarray(x)
    readonly_f.flags.writeable = False
    return {"fortran": fortran, "strided": strided, "readonly": readonly,
            "readonly_fortran": readonly_f}


@pytest.mark.parametrize("kind", ["fortran", "strided", "readonly", "readonly_fortran"])
def test_fit_accepts_non_contiguous_and_read_only_arrays_without_modifying_them(kind):
    x, y, _ = _data()
    xv = _variants(x)[kind]
    yv = _variants(y)[kind]
    assert np.array_equal(xv, x) and np.array_equal(yv, y)
    x_before, y_before = xv.copy(), yv.copy()
    flags_before = (xv.flags.c_contiguous, xv.flags.writeable)

    ref = _model()
    ref.fit(x, y, batch_size=4, epochs=2, verbose=0)
    model = _model()
    model.fit(xv, yv, batch_size=4, epochs=2, verbose=0, validation_data=(xv, yv))
    # Same seed, same values: the same weights bit for bit as training on the contiguous copy.
    for a, b in zip(ref.get_weights(), model.get_weights()):
        assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(model.predict(xv, verbose=0), ref.predict(x, verbose=0))
    assert model.evaluate(xv, yv, verbose=0) == ref.evaluate(x, y, verbose=0)
    # The user's arrays are untouched (values and flags).
    assert np.array_equal(xv, x_before) and np.array_equal(yv, y_before)
    assert (xv.flags.c_contiguous, xv.flags.writeable) == flags_before


def test_layer_call_accepts_non_contiguous_read_only_input():
    x, _, _ = _data()
    layer = keras.layers.Dense(3)
    expected = layer(x)
    for xv in _variants(x).values():
        before = xv.copy()
        np.testing.assert_array_equal(layer(xv), expected)
        assert np.array_equal(xv, before)


def _dense_args():
    x, _, _ = _data()
    w = np.ones((FEATURES, UNITS), "float32")
    b = np.zeros(UNITS, "float32")
    out = np.empty((N, UNITS), "float32")
    return out, x, w, b


@pytest.mark.parametrize("kind", ["fortran", "strided"])
def test_core_kernel_rejects_non_contiguous_input(kind):
    out, x, w, b = _dense_args()
    _core.dense_forward(out, x, w, b)  # the contiguous call works
    bad = _variants(x)[kind]
    _raises(ValueError, lambda: _core.dense_forward(out, bad, w, b),
            "dense_forward", "`inp`", str(x.shape), "C-contiguous")


def test_core_kernel_rejects_non_contiguous_output():
    out, x, w, b = _dense_args()
    bad_out = np.asfortranarray(out)
    _raises(ValueError, lambda: _core.dense_forward(bad_out, x, w, b),
            "dense_forward", "`out`", str(out.shape), "C-contiguous")


def test_core_kernel_rejects_read_only_output():
    out, x, w, b = _dense_args()
    out.flags.writeable = False
    _raises(ValueError, lambda: _core.dense_forward(out, x, w, b),
            "dense_forward", "`out`", str(out.shape), "read-only")


def test_core_kernel_rejects_wrong_dtype():
    out, x, w, b = _dense_args()
    _raises(TypeError, lambda: _core.dense_forward(out, x.astype("float64"), w, b),
            "dense_forward", "`inp`", "float32", "float64")


# ----- empty arrays ---------------------------------------------------------------------------
def test_fit_rejects_empty_x():
    x, y, _ = _data()
    _raises(ValueError, lambda: _model().fit(x[:0], y[:0], verbose=0),
            "`x`", "empty", f"(0, {FEATURES})")


def test_fit_rejects_empty_y():
    x, y, _ = _data()
    _raises(ValueError, lambda: _model().fit(x, y[:0], verbose=0),
            "`y`", "empty", f"(0, {UNITS})")


def test_predict_rejects_empty_x():
    x, _, _ = _data()
    _raises(ValueError, lambda: _model().predict(x[:0], verbose=0),
            "`x`", "empty", f"(0, {FEATURES})")


def test_layer_call_rejects_empty_input():
    layer = keras.layers.Dense(2)
    _raises(ValueError, lambda: layer(np.zeros((0, FEATURES), "float32")),
            layer.name, "`inputs`", f"(0, {FEATURES})")


def test_core_kernel_rejects_empty_array():
    out, x, w, b = _dense_args()
    _raises(ValueError, lambda: _core.dense_forward(out[:0], x[:0], w, b),
            "dense_forward", "empty", f"(0, {UNITS})")


# ----- batch_size / validation_split ----------------------------------------------------------
@pytest.mark.parametrize("batch_size", [0, -1, -128])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_batch_size_must_be_positive(method, batch_size):
    x, y, _ = _data()
    model = _model()
    if method == "predict":
        def call():
            model.predict(x, batch_size=batch_size, verbose=0)
    else:
        def call():
            getattr(model, method)(x, y, batch_size=batch_size, verbose=0)
    _raises(ValueError, call, "`batch_size`", f"batch_size={batch_size}")


@pytest.mark.parametrize("split", [1.0, 1.5, -0.1, -1])
def test_validation_split_outside_0_1(split):
    x, y, _ = _data()
    _raises(ValueError, lambda: _model().fit(x, y, validation_split=split, verbose=0),
            "`validation_split`", "[0, 1)", f"validation_split={split}")


def test_validation_split_leaving_no_training_sample():
    x, y, _ = _data()
    msg = _raises(ValueError, lambda: _model().fit(x[:1], y[:1], validation_split=0.5,
                                                    verbose=0),
                  "`validation_split")
    assert re.search(r"\b1 samples?\b", msg), msg


# ----- unknown identifiers --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["adamz", "Adam W", ""])
def test_unknown_optimizer_string(name):
    model = _model()
    _raises(ValueError, lambda: model.compile(optimizer=name, loss="mse"), "optimizer",
            repr(name), "'adam'", "'sgd'")


@pytest.mark.parametrize("name", ["msez", "crossentropy"])
def test_unknown_loss_string(name):
    model = _model()
    _raises(ValueError, lambda: model.compile(optimizer="sgd", loss=name), "loss",
            repr(name), "'mse'", "'categorical_crossentropy'")


@pytest.mark.parametrize("make", [
    lambda: keras.layers.Dense(3, activation="relux"),
    lambda: keras.layers.Activation("relux"),
    lambda: keras.layers.Conv2D(2, 3, activation="relux"),
])
def test_unknown_activation_string(make):
    _raises(ValueError, make, "activation", "'relux'", "'relu'")


# ----- set_weights ----------------------------------------------------------------------------
def test_model_set_weights_wrong_shape():
    model = _model()
    weights = model.get_weights()
    bad = [np.zeros((FEATURES + 1, 5), "float32")] + weights[1:]
    _raises(ValueError, lambda: model.set_weights(bad), "kernel", f"({FEATURES}, 5)",
            f"({FEATURES + 1}, 5)")
    # Nothing was assigned.
    for a, b in zip(model.get_weights(), weights):
        assert a.tobytes() == b.tobytes()


def test_model_set_weights_wrong_count():
    model = _model()
    _raises(ValueError, lambda: model.set_weights(model.get_weights()[:1]), "set_weights",
            "1 arrays", "4 weights")


def test_layer_set_weights_wrong_shape():
    model = _model()
    layer = model.layers[-1]
    _raises(ValueError, lambda: layer.set_weights([np.zeros((5, UNITS), "float32"),
                                                   np.zeros(UNITS + 2, "float32")]),
            layer.name, f"({UNITS},)", f"({UNITS + 2},)")


# ----- .aenn files ----------------------------------------------------------------------------
@pytest.fixture
def saved_model(tmp_path):
    x, y, _ = _data()
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model.aenn"
    model.save(path)
    return model, path


def test_saved_model_round_trips(saved_model):
    model, path = saved_model
    loaded = keras.load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_load_truncated_file(saved_model, tmp_path, fraction):
    _, path = saved_model
    raw = path.read_bytes()
    bad = tmp_path / "truncated.aenn"
    bad.write_bytes(raw[: int(len(raw) * fraction)])
    msg = _raises(ValueError, lambda: keras.load_model(bad), str(bad))
    # Cutting the zip's end record can leave a readable but empty directory: then the missing
    # members are named instead.
    assert "truncated or corrupted" in msg or "not an aenn model file" in msg, msg


def test_load_file_with_flipped_byte(saved_model, tmp_path):
    _, path = saved_model
    raw = bytearray(path.read_bytes())
    # Flip one byte inside the stored weights (the largest member).
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("weights.npz")
    raw[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0x5A
    bad = tmp_path / "flipped.aenn"
    bad.write_bytes(bytes(raw))
    _raises(ValueError, lambda: keras.load_model(bad), str(bad))


def _rewrite(path, dest, replace):
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    members.update(replace(members))
    with zipfile.ZipFile(dest, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_load_file_with_edited_config(saved_model, tmp_path):
    """A valid zip whose config was edited after saving: the recorded checksum catches it."""
    _, path = saved_model
    bad = tmp_path / "edited.aenn"

    def edit(members):
        config = json.loads(members["config.json"])
        text = json.dumps(config).replace('"units": 3', '"units": 4')
        assert text != json.dumps(config)
        return {"config.json": text.encode()}

    _rewrite(path, bad, edit)
    _raises(ValueError, lambda: keras.load_model(bad), str(bad), "config.json", "checksum")


def test_load_file_with_weights_of_wrong_shape(saved_model, tmp_path):
    """Weights replaced by arrays of another shape, checksum recomputed: the shapes are named."""
    import hashlib
    import io

    _, path = saved_model
    bad = tmp_path / "reshaped.aenn"

    def edit(members):
        with np.load(io.BytesIO(members["weights.npz"])) as f:
            arrays = {k: f[k] for k in f.files}
        first = min(k for k in arrays if k.startswith("w"))
        assert arrays[first].shape == (FEATURES, 5)
        arrays[first] = np.zeros((FEATURES, 6), "float32")
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        weights = buf.getvalue()
        metadata = json.loads(members["metadata.json"])
        metadata["sha256"]["weights.npz"] = hashlib.sha256(weights).hexdigest()
        return {"weights.npz": weights, "metadata.json": json.dumps(metadata).encode()}

    _rewrite(path, bad, edit)
    _raises(ValueError, lambda: keras.load_model(bad), str(bad), f"({FEATURES}, 5)",
            f"({FEATURES}, 6)")


def test_load_file_missing_member(saved_model, tmp_path):
    _, path = saved_model
    bad = tmp_path / "missing.aenn"
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist() if name != "weights.npz"}
    with zipfile.ZipFile(bad, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    _raises(ValueError, lambda: keras.load_model(bad), str(bad), "weights.npz")


def test_built_dense_reused_on_a_different_feature_count_raises():
    import aenn as keras

    dense = keras.layers.Dense(4)
    dense(keras.Input((3,)))
    with pytest.raises(ValueError, match=r"built for inputs with 3 features.*\(None, 5\)"):
        dense(keras.Input((5,)))
