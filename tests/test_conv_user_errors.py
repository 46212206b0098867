"""Bad inputs to the conv-autoencoder layers give clear Python errors, never a crash.

Each case goes through the public API (symbolic graph building, eager layer calls, and
``predict``) and checks the exception type and that the message names the layer, the argument
and the shapes involved.
"""

from __future__ import annotations

import numpy as np
import pytest

import aenn as keras

L = keras.layers


def _zeros(*shape):
    return np.zeros(shape, np.float32)


# ----- kernel larger than the (padded) input ---------------------------------------------------

@pytest.mark.parametrize("make, in_shape", [
    (lambda: L.Conv1D(4, 7, name="c1"), (5, 1)),
    (lambda: L.Conv1D(4, 3, dilation_rate=3, name="c1"), (6, 1)),
    (lambda: L.Conv2D(4, (3, 9), name="c1"), (12, 8, 1)),
])
@pytest.mark.parametrize("mode", ["symbolic", "eager", "sequential"])
def test_kernel_larger_than_input(make, in_shape, mode):
    with pytest.raises(ValueError) as e:
        if mode == "symbolic":
            make()(keras.Input(in_shape))
        elif mode == "eager":
            make()(_zeros(2, *in_shape))
        else:
            keras.Sequential([keras.Input(in_shape), make()])
    msg = str(e.value)
    assert "'c1'" in msg and "kernel" in msg and "kernel_size" in msg
    assert str((None,) + in_shape) in msg


def test_same_padding_accepts_a_kernel_larger_than_the_input():
    # 'same' pads so that any kernel fits; the check must not fire there.
    y = L.Conv1D(4, 7, padding="same")(_zeros(2, 5, 1))
    assert y.shape == (2, 5, 4)


# ----- strides 0 ------------------------------------------------------------------------------

@pytest.mark.parametrize("cls, strides", [
    (L.Conv1D, 0), (L.Conv2D, 0), (L.Conv2D, (1, 0)), (L.Conv1DTranspose, 0),
    (L.Conv2DTranspose, (0, 2)), (L.Conv1D, -1),
])
def test_strides_must_be_positive(cls, strides):
    with pytest.raises(ValueError) as e:
        cls(4, 3, strides=strides, name="bad_strides")
    msg = str(e.value)
    assert "bad_strides" in msg and "`strides`" in msg and "strides=" in msg


# ----- 4-D input to Conv1D ----------------------------------------------------------------------

def test_conv1d_rejects_4d_input_symbolic():
    with pytest.raises(ValueError) as e:
        L.Conv1D(4, 3, name="c1d")(keras.Input((10, 10, 1)))
    msg = str(e.value)
    assert "'c1d'" in msg and "rank 3" in msg and "(None, 10, 10, 1)" in msg


def test_conv1d_rejects_4d_input_eager():
    with pytest.raises(ValueError) as e:
        L.Conv1D(4, 3, name="c1d")(_zeros(2, 10, 10, 1))
    assert "'c1d'" in str(e.value) and "rank 3" in str(e.value)


def test_conv1d_rejects_4d_input_to_built_layer():
    layer = L.Conv1D(4, 3, name="c1d")
    layer(_zeros(2, 10, 1))
    with pytest.raises(ValueError) as e:
        layer(_zeros(2, 10, 10, 1))
    assert "'c1d'" in str(e.value) and "(2, 10, 10, 1)" in str(e.value)


def test_conv1d_model_predict_rejects_images():
    model = keras.Sequential([keras.Input((288, 1)), L.Conv1D(4, 7, padding="same")])
    with pytest.raises(ValueError) as e:
        model.predict(_zeros(2, 28, 28, 1), verbose=0)
    assert "(2, 28, 28, 1)" in str(e.value) and "(None, 288, 1)" in str(e.value)


# ----- channels that disagree with the built kernel -----------------------------------------------

@pytest.mark.parametrize("make, good, bad", [
    (lambda: L.Conv2D(4, 3, name="k"), (8, 8, 3), (8, 8, 5)),
    (lambda: L.Conv1D(4, 3, name="k"), (8, 3), (8, 2)),
    (lambda: L.Conv1DTranspose(4, 3, name="k"), (8, 3), (8, 2)),
    (lambda: L.Conv2DTranspose(4, 3, strides=2, name="k"), (7, 7, 3), (7, 7, 1)),
])
def test_channels_must_match_the_built_kernel_eager(make, good, bad):
    layer = make()
    layer(_zeros(1, *good))
    with pytest.raises(ValueError) as e:
        layer(_zeros(1, *bad))
    msg = str(e.value)
    assert "'k'" in msg and str(good[-1]) in msg and str((1,) + bad) in msg


@pytest.mark.parametrize("make, good, bad", [
    (lambda: L.Conv2D(4, 3, name="k"), (8, 8, 3), (8, 8, 5)),
    (lambda: L.Conv1DTranspose(4, 3, name="k"), (8, 3), (8, 2)),
])
def test_channels_must_match_the_built_kernel_symbolic(make, good, bad):
    # Reusing a layer on a new Input with another channel count (a classic copy-paste error).
    layer = make()
    layer(keras.Input(good))
    with pytest.raises(ValueError) as e:
        layer(keras.Input(bad))
    msg = str(e.value)
    assert "'k'" in msg and f"{good[-1]} channels" in msg and str((None,) + bad) in msg


# ----- Reshape with a wrong element count ---------------------------------------------------------

@pytest.mark.parametrize("target", [(7, 7, 32), (-1, 5)])
def test_reshape_wrong_element_count(target):
    with pytest.raises(ValueError) as e:
        L.Reshape(target, name="rs")(keras.Input((3136 if target[0] == 7 else 12,)))
    msg = str(e.value)
    assert "'rs'" in msg and "target_shape" in msg and str(target) in msg


def test_reshape_wrong_element_count_eager():
    with pytest.raises(ValueError) as e:
        L.Reshape((7, 7, 32), name="rs")(_zeros(2, 3136))
    assert "'rs'" in str(e.value) and "3136" in str(e.value)


# ----- Concatenate with mismatched shapes ----------------------------------------------------------

def test_concatenate_mismatched_shapes_symbolic():
    with pytest.raises(ValueError) as e:
        L.Concatenate(name="cat")([keras.Input((4, 3)), keras.Input((5, 3))])
    msg = str(e.value)
    assert "'cat'" in msg and "(None, 4, 3)" in msg and "(None, 5, 3)" in msg


def test_concatenate_mismatched_shapes_eager():
    with pytest.raises(ValueError) as e:
        L.Concatenate(axis=-1, name="cat")([_zeros(2, 4, 3), _zeros(2, 5, 3)])
    assert "'cat'" in str(e.value) and "axis" in str(e.value)


def test_concatenate_mismatched_ranks():
    with pytest.raises(ValueError) as e:
        L.Concatenate(name="cat")([keras.Input((4, 3)), keras.Input((4,))])
    assert "'cat'" in str(e.value) and "(None, 4)" in str(e.value)


# ----- Sampling with mismatched z_mean / z_log_var ---------------------------------------------------

def test_sampling_mismatched_symbolic():
    with pytest.raises(ValueError) as e:
        L.Sampling(name="smp")([keras.Input((2,)), keras.Input((3,))])
    msg = str(e.value)
    assert "'smp'" in msg and "z_mean" in msg and "z_log_var" in msg
    assert "(None, 2)" in msg and "(None, 3)" in msg


@pytest.mark.parametrize("a, b", [((4, 2), (4, 3)), ((4, 2), (5, 2))])
def test_sampling_mismatched_eager(a, b):
    with pytest.raises(ValueError) as e:
        L.Sampling(name="smp")([_zeros(*a), _zeros(*b)])
    msg = str(e.value)
    assert "'smp'" in msg
    # the shapes appear with the batch size, or with None when the check runs at build time
    for shape in (a, b):
        assert str(shape) in msg or str((None,) + shape[1:]) in msg


def test_sampling_needs_two_inputs():
    with pytest.raises(ValueError) as e:
        L.Sampling(name="smp")(keras.Input((2,)))
    assert "'smp'" in str(e.value) and "z_mean" in str(e.value)


# ----- a model still works after a rejected call ---------------------------------------------------

def test_layer_still_usable_after_an_error():
    layer = L.Conv1D(2, 3, name="k")
    y = layer(_zeros(1, 8, 1))
    with pytest.raises(ValueError):
        layer(_zeros(1, 8, 4))
    np.testing.assert_array_equal(layer(_zeros(1, 8, 1)), y)
