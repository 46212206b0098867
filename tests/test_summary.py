"""model.summary(): Keras 3 table layout and totals."""

import numpy as np
from conftest import ToyAdd, ToyDense

from aenn.models import Input, Model, Sequential
from aenn.models.summary import format_size, summary_lines

KERAS_AE = """\
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (ToyDense)                │ (None, 32)             │        25,120 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (ToyDense)              │ (None, 784)            │        25,872 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 50,992 (199.19 KB)
 Trainable params: 50,992 (199.19 KB)
 Non-trainable params: 0 (0.00 B)"""


def _lines(model, **kw):
    out = []
    model.summary(print_fn=out.append, **kw)
    return out


def test_dense_autoencoder_summary_matches_keras_layout():
    m = Sequential([Input(shape=(784,)), ToyDense(32, activation="relu", name="dense"),
                    ToyDense(784, activation="sigmoid", name="dense_1")], name="sequential")
    lines = _lines(m, line_length=76)
    assert lines[0] == 'Model: "sequential"'
    assert "\n".join(lines[1:]) == KERAS_AE
    assert all(len(l) == 76 for l in lines[1:8])


def test_mlp_totals_55050_and_widths():
    m = Sequential([Input(shape=(784,)), ToyDense(64), ToyDense(64), ToyDense(10)])
    lines = _lines(m, line_length=88)
    assert " Total params: 55,050 (215.04 KB)" in lines
    assert len(lines[1]) == 88
    assert m.count_params() == 55050


def test_functional_chain_has_input_row_and_three_columns():
    inp = Input(shape=(784,))
    m = Model(inp, ToyDense(10)(inp))
    lines = _lines(m, line_length=76)
    assert "input_layer" in lines[4] and "(InputLayer)" in lines[4]
    assert "Connected to" not in lines[2]


def test_branching_graph_adds_connected_to_column():
    inp = Input(shape=(4,), name="x_in")
    a = ToyDense(4, name="a")(inp)
    b = ToyDense(4, name="b")(inp)
    m = Model(inp, ToyAdd(name="add")([a, b]))
    lines = _lines(m, line_length=108)
    assert "Connected to" in lines[2]
    text = "\n".join(lines)
    assert "x_in[0][0]" in text and "a[0][0], b[0][0]" in text
    assert len(lines[1]) == 108


def test_nested_model_is_one_row_and_trainable_column():
    enc_in = Input(shape=(6,))
    encoder = Model(enc_in, ToyDense(2)(enc_in), name="encoder")
    inp = Input(shape=(6,))
    m = Model(inp, ToyDense(6)(encoder(inp)))
    encoder.trainable = False
    lines = _lines(m, line_length=88, show_trainable=True)
    text = "\n".join(lines)
    assert "encoder (Functional)" in text
    assert " Trainable params: 18 (72.00 B)" in lines
    assert " Non-trainable params: 14 (56.00 B)" in lines
    assert "Trainable" in lines[2]
    expanded = "\n".join(_lines(m, line_length=88, expand_nested=True))
    assert "  toy_dense" in expanded and expanded.count("(InputLayer)") == 1


def test_optimizer_params_line_after_training():
    m = Sequential([Input(shape=(3,)), ToyDense(2)])
    m.compile(optimizer="adam", loss="mse")
    assert not any("Optimizer" in l for l in _lines(m))
    m.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)
    lines = _lines(m)
    opt = [l for l in lines if "Optimizer params" in l]
    assert len(opt) == 1 and opt[0].startswith(" Optimizer params: 18 (")  # 2x8 slots + it + lr
    assert any(l.startswith(" Total params: 26 (") for l in lines)


def test_unbuilt_sequential_summary():
    m = Sequential([ToyDense(3)])
    lines = summary_lines(m, line_length=76)
    assert any("?" in l and "0 (unbuilt)" in l for l in lines)


def test_long_shape_wraps_inside_cell():
    m = Sequential([Input(shape=(224, 224, 3)), ToyDense(3)])
    lines = _lines(m, line_length=60)
    assert all(len(l) == 60 for l in lines[1:-3])


def test_format_size():
    assert format_size(0) == "0.00 B"
    assert format_size(4 * 7265) == "28.38 KB"
    assert format_size(3 * 1024 ** 2) == "3.00 MB"


def test_real_dense_summaries():
    core = __import__("pytest").importorskip("aenn.layers.core")
    ae = Sequential([Input(shape=(784,)), core.Dense(32, activation="relu"),
                     core.Dense(784, activation="sigmoid")])
    assert any(l == " Total params: 50,992 (199.19 KB)" for l in _lines(ae))
    mlp = Sequential([Input(shape=(784,)), core.Dense(64, activation="relu"),
                      core.Dense(64, activation="relu"), core.Dense(10, activation="softmax")])
    assert any(l == " Total params: 55,050 (215.04 KB)" for l in _lines(mlp))


def test_blog_conv_autoencoder_total_4385():
    import pytest

    conv = pytest.importorskip("aenn.layers.conv")
    pooling = pytest.importorskip("aenn.layers.pooling")
    up = pytest.importorskip("aenn.layers.upsampling")
    inp = Input(shape=(28, 28, 1))
    x = conv.Conv2D(16, 3, activation="relu", padding="same")(inp)
    x = pooling.MaxPooling2D(2, padding="same")(x)
    x = conv.Conv2D(8, 3, activation="relu", padding="same")(x)
    x = pooling.MaxPooling2D(2, padding="same")(x)
    x = conv.Conv2D(8, 3, activation="relu", padding="same")(x)
    encoded = pooling.MaxPooling2D(2, padding="same")(x)
    assert encoded.shape == (None, 4, 4, 8)
    x = conv.Conv2D(8, 3, activation="relu", padding="same")(encoded)
    x = up.UpSampling2D(2)(x)
    x = conv.Conv2D(8, 3, activation="relu", padding="same")(x)
    x = up.UpSampling2D(2)(x)
    x = conv.Conv2D(16, 3, activation="relu")(x)
    x = up.UpSampling2D(2)(x)
    decoded = conv.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    ae = Model(inp, decoded)
    lines = _lines(ae, line_length=76)
    assert " Total params: 4,385 (17.13 KB)" in lines
    assert "input_layer" in lines[4]
    assert "Connected to" not in lines[2]
