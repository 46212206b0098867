"""Graph building: Input, KerasTensor, nodes, shared layers, nested models, eager calls."""

import numpy as np
import pytest
from conftest import ToyAdd, ToyDense

from aenn.models import Input, InputLayer, KerasTensor, Model, Sequential
from aenn.models.engine import Node


def test_input_shapes():
    x = Input(shape=(28, 28, 1))
    assert isinstance(x, KerasTensor)
    assert x.shape == (None, 28, 28, 1)
    assert Input(shape=784).shape == (None, 784)  # tf.keras accepted an int
    assert Input(shape=(4,), batch_size=8).shape == (8, 4)
    assert isinstance(x.node.layer, InputLayer)
    assert x.node.layer.name.startswith("input_layer")
    assert Input(shape=(3,), name="enc_in").node.layer.name == "enc_in"


@pytest.mark.parametrize("shape", [None, (0, 3), (-1,), ("a",), (2.5,)])
def test_input_bad_shape(shape):
    with pytest.raises(ValueError, match="shape"):
        Input(shape=shape)


def test_symbolic_call_records_node():
    inp = Input(shape=(5,))
    layer = ToyDense(3)
    out = layer(inp)
    assert out.shape == (None, 3)
    assert layer.built and len(layer._inbound_nodes) == 1
    node = layer._inbound_nodes[0]
    assert isinstance(node, Node)
    assert node.inbound_tensors == [inp] and node.outbound_tensors == [out]
    assert layer.input is inp and layer.output is out
    assert layer.input_shape == (None, 5) and layer.output_shape == (None, 3)
    assert out._keras_history == (layer, 0, 0)


def test_layer_without_calls_has_no_output():
    with pytest.raises(AttributeError, match="never been called"):
        _ = ToyDense(2).output


def test_list_inputs_merge_layer():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    s = ToyAdd()([a, b])
    assert s.shape == (None, 4)
    m = Model([a, b], s)
    assert [type(l).__name__ for l in m.layers] == ["InputLayer", "InputLayer", "ToyAdd"]
    xa, xb = np.ones((2, 4), np.float32), np.full((2, 4), 2, np.float32)
    np.testing.assert_array_equal(m.predict([xa, xb], verbose=0), xa + xb)
    # backward of a merge gives each input its gradient
    y, cache = m.forward([xa, xb])
    dx, _ = m.backward(np.ones_like(y), cache)
    assert len(dx) == 2 and np.all(dx[0] == 1) and np.all(dx[1] == 1)


def test_eager_call_casts_and_runs_inference():
    layer = ToyDense(2)
    x = np.arange(6, dtype=np.float64).reshape(3, 2)
    y = layer(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (3, 2)
    np.testing.assert_allclose(y, x.astype(np.float32) @ layer.kernel.value, rtol=1e-6)
    assert x.dtype == np.float64  # user array untouched
    with pytest.raises(TypeError, match="dtype"):
        layer(np.array([["a", "b"]]))


def test_mixed_symbolic_and_array_inputs_rejected():
    a = Input(shape=(4,))
    with pytest.raises(TypeError, match="KerasTensors"):
        ToyAdd()([a, np.ones((1, 4), np.float32)])


def test_functional_layers_include_input_first():
    inp = Input(shape=(6,))
    h = ToyDense(4, name="enc")(inp)
    out = ToyDense(6, name="dec")(h)
    m = Model(inp, out)
    assert isinstance(m.layers[0], InputLayer)
    assert [l.name for l in m.layers[1:]] == ["enc", "dec"]
    assert m.name.startswith("functional")
    assert m.get_layer("enc") is m.layers[1]
    assert m.get_layer(index=-1).name == "dec"
    with pytest.raises(ValueError, match="No such layer"):
        m.get_layer("nope")
    with pytest.raises(ValueError):
        m.get_layer(index=10)
    assert m.input is inp and m.output is out
    assert m.input_shape == (None, 6) and m.output_shape == (None, 6)


def test_graph_disconnected():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    s = ToyAdd()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(a, s)


def test_model_rejects_non_tensors():
    with pytest.raises(TypeError, match="KerasTensor"):
        Model(np.ones(3), Input(shape=(3,)))
    with pytest.raises(ValueError):
        Model()


def test_intermediate_outputs_and_decoder_extraction():
    inp = Input(shape=(8,))
    enc = ToyDense(3, activation="relu")(inp)
    dec_layer = ToyDense(8, activation="sigmoid")
    out = dec_layer(enc)
    ae = Model(inp, out)
    encoder = Model(inp, ae.layers[1].output)
    x = np.random.default_rng(0).random((5, 8)).astype(np.float32)
    z = encoder.predict(x, verbose=0)
    assert z.shape == (5, 3)
    # classic decoder extraction with a fresh Input and the shared last layer
    enc_in = Input(shape=(3,))
    decoder = Model(enc_in, ae.layers[-1](enc_in))
    np.testing.assert_allclose(decoder.predict(z, verbose=0), ae.predict(x, verbose=0),
                               rtol=1e-6)
    assert decoder.layers[-1] is dec_layer
    assert len(dec_layer._inbound_nodes) == 2


def test_nested_model_adds_one_node():
    enc_in = Input(shape=(6,))
    encoder = Model(enc_in, ToyDense(2, name="code")(enc_in), name="encoder")
    dec_in = Input(shape=(2,))
    decoder = Model(dec_in, ToyDense(6, name="recon")(dec_in), name="decoder")
    inp = Input(shape=(6,))
    out = decoder(encoder(inp))
    ae = Model(inp, out, name="ae")
    assert [l.name for l in ae.layers[1:]] == ["encoder", "decoder"]
    assert len(encoder._inbound_nodes) == 1
    assert ae.count_params() == encoder.count_params() + decoder.count_params()
    x = np.random.default_rng(1).random((4, 6)).astype(np.float32)
    np.testing.assert_allclose(ae.predict(x, verbose=0),
                               decoder.predict(encoder.predict(x, verbose=0), verbose=0),
                               rtol=1e-6)
    # nested model as a Sequential element
    seq = Sequential([encoder, decoder])
    np.testing.assert_allclose(seq.predict(x, verbose=0), ae.predict(x, verbose=0), rtol=1e-6)
    assert len(seq.weights) == 4


def test_model_called_eagerly_returns_arrays():
    inp = Input(shape=(3,))
    m = Model(inp, ToyDense(2)(inp))
    y = m(np.ones((4, 3)))
    assert isinstance(y, np.ndarray) and y.shape == (4, 2)


def test_shared_layer_weights_deduplicated():
    inp = Input(shape=(4,))
    shared = ToyDense(4, activation="tanh")
    out = shared(shared(inp))
    m = Model(inp, out)
    assert len(m.layers) == 2  # input + shared once
    assert len(m.weights) == 2
    assert m.count_params() == 20
    assert len(shared._inbound_nodes) == 2


def test_multi_output_graph():
    inp = Input(shape=(4,))
    a = ToyDense(2, name="head_a")(inp)
    b = ToyDense(3, name="head_b")(inp)
    m = Model(inp, [a, b])
    ya, yb = m.predict(np.ones((5, 4)), verbose=0)
    assert ya.shape == (5, 2) and yb.shape == (5, 3)
    assert m.output_shape == [(None, 2), (None, 3)]


def test_calling_model_on_incompatible_tensor():
    inp = Input(shape=(4,))
    m = Model(inp, ToyDense(2)(inp))
    with pytest.raises(ValueError, match=r"expected shape \(None, 4\), found shape \(None, 5\)"):
        m(Input(shape=(5,)))


@pytest.mark.parametrize("cls, expected", [
    ("Conv2D", "conv2d"), ("Conv2DTranspose", "conv2d_transpose"), ("LeakyReLU", "leaky_re_lu"),
    ("MaxPooling2D", "max_pooling2d"), ("UpSampling2D", "up_sampling2d"),
    ("BatchNormalization", "batch_normalization"), ("ReLU", "re_lu"),
])
def test_default_names_follow_keras_snake_case(cls, expected):
    from aenn.layers.layer import to_snake_case

    assert to_snake_case(cls) == expected


def test_input_layer_spellings():
    assert InputLayer(shape=(3,)).batch_shape == (None, 3)
    assert InputLayer(input_shape=(3,)).batch_shape == (None, 3)
    assert InputLayer(batch_shape=(2, 3)).batch_shape == (2, 3)
    assert Input(shape=(None, 3)).shape == (None, None, 3)
    with pytest.raises(ValueError, match="batch_size"):
        Input(shape=(3,), batch_size=0)


def test_real_merge_and_reshape_layers_in_a_graph():
    core = pytest.importorskip("aenn.layers.core")
    merging = pytest.importorskip("aenn.layers.merging")
    inp = Input(shape=(2, 3))
    flat = core.Flatten()(inp)
    a = core.Dense(4, activation="tanh")(flat)
    b = core.Dense(4, activation="tanh")(flat)
    cat = merging.Concatenate()([a, merging.Add()([a, b])])
    out = core.Reshape((2, 4))(cat)
    m = Model(inp, out)
    assert m.output_shape == (None, 2, 4)
    x = np.random.default_rng(0).normal(size=(3, 2, 3)).astype(np.float32)
    y, cache = m.forward(x)
    dx, wg = m.backward(np.ones_like(y), cache)
    assert dx.shape == x.shape and all(g is not None for g in wg)
    # numeric check of d(sum y)/dx at one entry
    eps = 1e-2
    x2 = x.copy()
    x2[0, 1, 2] += eps
    x3 = x.copy()
    x3[0, 1, 2] -= eps
    num = (m.forward(x2)[0].sum() - m.forward(x3)[0].sum()) / (2 * eps)
    assert dx[0, 1, 2] == pytest.approx(num, rel=2e-2, abs=1e-3)
