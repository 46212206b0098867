"""Sequential / Model API: add/pop, building, weights, trainable, config round trips."""

import json
import warnings

import numpy as np
import pytest
from conftest import ToyDense, ToyScaleLoss

from aenn.models import Input, InputLayer, Model, Sequential, model_from_config, model_from_json


def test_sequential_with_input_first():
    m = Sequential([Input(shape=(5,)), ToyDense(3), ToyDense(2)])
    assert m.built
    assert [type(l).__name__ for l in m.layers] == ["ToyDense", "ToyDense"]  # no InputLayer
    assert m.output_shape == (None, 2)
    assert m.name.startswith("sequential")
    assert m.count_params() == 18 + 8


def test_sequential_input_shape_kwarg_warns_like_keras():
    with pytest.warns(UserWarning, match="input_shape"):
        m = Sequential([ToyDense(3, input_shape=(5,)), ToyDense(2)])
    assert m.built and m.input_shape == (None, 5)
    with pytest.warns(UserWarning):
        m2 = Sequential([ToyDense(3, input_dim=4)])
    assert m2.input_shape == (None, 4)


def test_sequential_unbuilt_until_called():
    m = Sequential()
    m.add(ToyDense(4))
    m.add(ToyDense(2))
    assert not m.built and m.weights == []
    with pytest.raises(ValueError, match="isn't built"):
        m.count_params()
    y = m(np.ones((3, 7), np.float32))
    assert y.shape == (3, 2) and m.built
    assert m.count_params() == 7 * 4 + 4 + 4 * 2 + 2


def test_sequential_add_pop():
    m = Sequential([Input(shape=(3,))])
    m.add(ToyDense(4))
    m.add(ToyDense(5))
    assert m.output_shape == (None, 5)
    last = m.pop()
    assert last.units == 5 and m.output_shape == (None, 4)
    with pytest.raises(TypeError, match="Layer"):
        m.add("dense")
    with pytest.raises(ValueError, match="first"):
        m.add(Input(shape=(3,)))
    assert len(m.layers[0]._inbound_nodes) == 1  # the chain is extended, not rebuilt
    assert m.layers[0].output.shape == (None, 4)
    m.pop()
    assert not m.built
    with pytest.raises(IndexError):
        m.pop()


def test_sequential_reuses_layers_of_another_model():
    inp = Input(shape=(6,))
    l1, l2, l3 = ToyDense(4), ToyDense(3), ToyDense(2)
    big = Model(inp, l3(l2(l1(inp))))
    head = Sequential(big.layers[-2:])
    assert head.layers == [l2, l3]
    x = np.random.default_rng(0).random((5, 4)).astype(np.float32)
    y = head.predict(x, verbose=0)
    np.testing.assert_allclose(y, l3(l2(x)), rtol=1e-6)
    assert head.weights[0] is l2.kernel  # weights shared, not copied


def test_get_set_weights_and_errors():
    m = Sequential([Input(shape=(3,)), ToyDense(2, name="d0")])
    w = m.get_weights()
    assert [a.shape for a in w] == [(3, 2), (2,)]
    w[0] += 1
    m.set_weights(w)
    np.testing.assert_array_equal(m.layers[0].kernel.value, w[0])
    with pytest.raises(ValueError, match="2 weights"):
        m.set_weights(w[:1])
    with pytest.raises(ValueError, match=r"d0.*\(3, 2\).*\(2, 3\)"):
        m.set_weights([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(ValueError):
        m.layers[0].set_weights([np.zeros((2, 3)), np.zeros(2)])


def test_trainable_flags_recursive():
    enc_in = Input(shape=(4,))
    encoder = Model(enc_in, ToyDense(2)(enc_in))
    inp = Input(shape=(4,))
    head = ToyDense(1)
    m = Model(inp, head(encoder(inp)))
    assert len(m.trainable_weights) == 4 and m.non_trainable_weights == []
    encoder.trainable = False
    assert len(m.trainable_weights) == 2 and len(m.non_trainable_weights) == 2
    assert encoder.layers[1].trainable is False
    m.trainable = False
    assert m.trainable_weights == [] and len(m.non_trainable_weights) == 4
    m.trainable = True
    assert len(m.trainable_weights) == 4


def _roundtrip(model):
    config = {"class_name": "Sequential" if isinstance(model, Sequential) else "Functional",
              "config": model.get_config()}
    config = json.loads(json.dumps(config))  # must survive JSON
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clone = model_from_config(config)
    clone.set_weights(model.get_weights())
    return clone


def test_sequential_config_roundtrip():
    m = Sequential([Input(shape=(5,)), ToyDense(3, activation="relu"), ToyDense(2)])
    clone = _roundtrip(m)
    assert isinstance(clone, Sequential) and clone.name == m.name
    x = np.random.default_rng(0).random((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), m.predict(x, verbose=0))


def test_functional_config_roundtrip_shared_and_nested():
    enc_in = Input(shape=(6,))
    encoder = Model(enc_in, ToyDense(3, activation="tanh")(enc_in), name="encoder")
    inp = Input(shape=(6,))
    shared = ToyDense(3, activation="tanh", name="shared")
    z = encoder(inp)
    z2 = shared(shared(z))
    out = ToyDense(6, activation="sigmoid", name="out")(ToyScaleLoss(0.1, name="pen")(z2))
    m = Model(inp, out, name="big")
    clone = _roundtrip(m)
    assert [l.name for l in clone.layers] == [l.name for l in m.layers]
    assert isinstance(clone.get_layer("encoder"), Model)
    assert len(clone.get_layer("shared")._inbound_nodes) == 2
    x = np.random.default_rng(1).random((4, 6)).astype(np.float32)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), m.predict(x, verbose=0))


def test_unknown_layer_class_in_config():
    config = {"class_name": "Sequential",
              "config": {"name": "s", "layers": [{"class_name": "NoSuchLayer", "config": {}}]}}
    with pytest.raises(ValueError, match="NoSuchLayer"):
        model_from_config(config)
    with pytest.raises(ValueError, match="class_name"):
        model_from_config({"config": {}})


def test_input_layer_in_sequential_config_first():
    m = Sequential([Input(shape=(2,)), ToyDense(1)])
    layers = m.get_config()["layers"]
    assert layers[0]["class_name"] == "InputLayer"
    assert tuple(layers[0]["config"]["batch_shape"]) == (None, 2)
    assert isinstance(InputLayer.from_config(layers[0]["config"]), InputLayer)


def test_to_json_roundtrip():
    m = Sequential([Input(shape=(3,)), ToyDense(2)])
    clone = model_from_json(m.to_json())
    assert isinstance(clone, Sequential) and clone.output_shape == (None, 2)
