"""Conv layers: Keras shapes / parameter counts (KERAS.md 15), hyper-parameter and input checks,
forward/backward against the NumPy twin, config round trip."""


import numpy as np
import pytest

from aenn.layers import shapes
from aenn.layers.conv import Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose
from aenn.reference import conv as ref


def built(layer, input_shape):
    layer.build(input_shape)
    return layer


# ---- shapes and parameter counts --------------------------------------------------------------

def test_nab_conv1d_autoencoder_shapes_and_params():
    layers = [Conv1D(32, 7, padding="same", strides=2, activation="relu"),
              Conv1D(16, 7, padding="same", strides=2, activation="relu"),
              Conv1DTranspose(16, 7, padding="same", strides=2, activation="relu"),
              Conv1DTranspose(32, 7, padding="same", strides=2, activation="relu"),
              Conv1DTranspose(1, 7, padding="same")]
    shape = (None, 288, 1)
    got = []
    for layer in layers:
        built(layer, shape)
        shape = layer.compute_output_shape(shape)
        got.append((shape, layer.count_params()))
    assert got == [((None, 144, 32), 256), ((None, 72, 16), 3600), ((None, 144, 16), 1808),
                   ((None, 288, 32), 3616), ((None, 288, 1), 225)]
    assert layers[2].kernel.shape == (7, 16, 16) and layers[4].kernel.shape == (7, 1, 32)
    # the actual arrays agree with compute_output_shape
    x = np.random.default_rng(0).standard_normal((2, 288, 1)).astype(np.float32)
    for layer in layers:
        x, _ = layer.forward(x)
    assert x.shape == (2, 288, 1)


def test_vae_decoder_and_denoiser_shapes():
    t1 = built(Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu"), (None, 7, 7, 64))
    assert t1.compute_output_shape((None, 7, 7, 64)) == (None, 14, 14, 64)
    t2 = built(Conv2DTranspose(32, 3, strides=2, padding="same"), (None, 14, 14, 64))
    assert t2.compute_output_shape((None, 14, 14, 64)) == (None, 28, 28, 32)
    t3 = built(Conv2DTranspose(1, 3, padding="same", activation="sigmoid"), (None, 28, 28, 32))
    assert t3.compute_output_shape((None, 28, 28, 32)) == (None, 28, 28, 1)
    assert (t1.count_params(), t2.count_params(), t3.count_params()) == (36928, 18464, 289)
    assert t1.kernel.shape == (3, 3, 64, 64) and t2.kernel.shape == (3, 3, 32, 64)
    c = built(Conv2D(16, 3, padding="same", activation="relu"), (None, 28, 28, 1))
    assert c.count_params() == 160 and c.kernel.shape == (3, 3, 1, 16)
    assert built(Conv2D(16, 3, padding="same"), (None, 14, 14, 16)).count_params() == 2320
    enc = built(Conv2D(32, 3, strides=2, padding="same"), (None, 28, 28, 1))
    assert enc.compute_output_shape((None, 28, 28, 1)) == (None, 14, 14, 32)
    valid = built(Conv2D(16, 3), (None, 16, 16, 8))
    assert valid.compute_output_shape((None, 16, 16, 8)) == (None, 14, 14, 16)


def test_output_padding_none_vs_zero():
    a = Conv2DTranspose(4, 3, strides=2, padding="same")
    b = Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=0)
    c = Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1)
    assert a.compute_output_shape((None, 7, 7, 2)) == (None, 14, 14, 4)
    assert b.compute_output_shape((None, 7, 7, 2)) == (None, 13, 13, 4)
    assert c.compute_output_shape((None, 7, 7, 2)) == (None, 14, 14, 4)
    for layer, n in [(a, 14), (b, 13), (c, 14)]:
        built(layer, (None, 7, 7, 2))
        y, _ = layer.forward(np.ones((1, 7, 7, 2), np.float32))
        assert y.shape == (1, n, n, 4)
    v = built(Conv2DTranspose(3, 2, strides=3), (None, 4, 4, 1))  # s > k: appended zeros
    assert v.compute_output_shape((None, 4, 4, 1)) == (None, 12, 12, 3)


# ---- hyper-parameter and input validation ----------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    (dict(strides=0), "Invalid value for argument `strides`"),
    (dict(strides=(1, 0)), "Invalid value for argument `strides`"),
    (dict(kernel_size=0), "Invalid value for argument `kernel_size`"),
    (dict(filters=0), "Invalid value for argument `filters`"),
    (dict(padding="full"), "Invalid value for argument `padding`"),
    (dict(padding="causal"), "Invalid value for argument `padding`"),
    (dict(data_format="channels_first"), "channels_last"),
    (dict(groups=2), "groups"),
    (dict(strides=2, dilation_rate=2), "dilation_rate > 1"),
    (dict(dilation_rate=0), "dilation_rate"),
])
def test_conv2d_bad_hyperparameters(kwargs, match):
    args = dict(filters=4, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match) as info:
        Conv2D(**args, name="bad_conv")
    assert "Conv2D 'bad_conv'" in str(info.value)


def test_transpose_bad_hyperparameters():
    with pytest.raises(ValueError, match="output_padding"):
        Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="output_padding"):
        Conv2DTranspose(4, 3, strides=(2, 1), output_padding=1)
    with pytest.raises(ValueError, match="dilation_rate > 1"):
        Conv1DTranspose(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding"):
        Conv1DTranspose(4, 3, padding="causal")
    with pytest.raises(ValueError, match="groups"):
        Conv2DTranspose(4, 3, groups=2)


def test_input_validation_in_build():
    with pytest.raises(ValueError, match="rank 3"):
        Conv1D(4, 3).build((None, 10, 10, 1))
    with pytest.raises(ValueError, match="rank 4"):
        Conv2D(4, 3).build((None, 10, 1))
    with pytest.raises(ValueError, match=r"kernel_size=\(5, 5\).*\(None, 3, 3, 1\)") as info:
        Conv2D(4, 5, name="big").build((None, 3, 3, 1))
    assert "'big'" in str(info.value)
    Conv2D(4, 5, padding="same").build((None, 3, 3, 1))  # padded input is large enough
    with pytest.raises(ValueError, match="kernel"):
        Conv1D(4, 3, dilation_rate=3).build((None, 6, 1))
    with pytest.raises(ValueError, match="channel"):
        Conv2D(4, 3).build((None, 5, 5, None))
    layer = built(Conv2D(4, 3), (None, 5, 5, 2))
    with pytest.raises(ValueError, match="received shape"):
        layer.forward(np.ones((1, 5, 5, 3), np.float32))


# ---- numerics vs the NumPy twin ---------------------------------------------------------------

def _check_layer(layer, x, ref_fwd, ref_bwd):
    rng = np.random.default_rng(7)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape).astype(np.float32))
    y, cache = layer.forward(x)
    kernel, bias = (w.value.astype(np.float64) for w in layer.weights)
    want = ref_fwd(x.astype(np.float64), kernel, bias)
    np.testing.assert_allclose(y, want.reshape(y.shape), rtol=1e-5, atol=1e-5)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dx, grads = layer.backward(dout, cache)
    wdx, wdk, wdb = ref_bwd(dout.astype(np.float64), x.astype(np.float64), kernel)
    np.testing.assert_allclose(dx, wdx.reshape(dx.shape), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads[0], wdk.reshape(grads[0].shape), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads[1], wdb, rtol=1e-5, atol=1e-5)
    dx2, grads2 = layer.backward(dout, cache, need_dinputs=False)
    assert dx2 is None and np.array_equal(grads2[0], grads[0])


def test_conv2d_layer_same_stride2():
    layer = built(Conv2D(3, 3, strides=2, padding="same"), (None, 8, 7, 2))
    x = np.random.default_rng(0).standard_normal((2, 8, 7, 2)).astype(np.float32)
    g = (2, 2, 1, 1, 0, 1, 1, 1)  # 8: P=1 -> 0/1 ; 7: P=2 -> 1/1
    _check_layer(layer, x, lambda x, k, b: ref.conv2d_forward(x, k, b, *g),
                 lambda d, x, k: ref.conv2d_backward(d, x, k, *g))


def test_conv1d_layer_causal_dilated():
    layer = built(Conv1D(3, 3, padding="causal", dilation_rate=2), (None, 9, 2))
    x = np.random.default_rng(0).standard_normal((2, 9, 2)).astype(np.float32)
    g = (1, 1, 1, 2, 0, 0, 4, 0)
    x4 = lambda x: x[:, None]
    _check_layer(layer, x, lambda x, k, b: ref.conv2d_forward(x4(x), k[None], b, *g),
                 lambda d, x, k: ref.conv2d_backward(d[:, None], x4(x), k[None], *g))
    # causal: output t depends only on inputs <= t
    y0, _ = layer.forward(x)
    x2 = x.copy()
    x2[:, 5:] += 1.0
    y1, _ = layer.forward(x2)
    np.testing.assert_array_equal(y0[:, :5], y1[:, :5])


def test_conv1d_transpose_layer_same():
    layer = built(Conv1DTranspose(2, 7, strides=2, padding="same"), (None, 9, 3))
    x = np.random.default_rng(0).standard_normal((1, 9, 3)).astype(np.float32)
    crop = shapes.deconv_crop(9, 7, 2, 18)[0]
    assert crop == 2
    g = (1, 2, 1, 1, 0, crop)
    _check_layer(layer, x,
                 lambda x, k, b: ref.conv2d_transpose_forward(x[:, None], k[None], b, *g, 1, 18),
                 lambda d, x, k: ref.conv2d_transpose_backward(d[:, None], x[:, None], k[None], *g))


def test_conv2d_transpose_layer_valid_output_padding():
    layer = built(Conv2DTranspose(3, (2, 3), strides=(3, 2), output_padding=(2, 1)), (None, 3, 4, 2))
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2)).astype(np.float32)
    oh, ow = 2 * 3 + 2 + 2, 3 * 2 + 3 + 1
    assert layer.compute_output_shape((None, 3, 4, 2)) == (None, oh, ow, 3)
    g = (3, 2, 1, 1, 0, 0)
    _check_layer(layer, x, lambda x, k, b: ref.conv2d_transpose_forward(x, k, b, *g, oh, ow),
                 lambda d, x, k: ref.conv2d_transpose_backward(d, x, k, *g))


def test_activation_and_logits():
    layer = built(Conv2D(2, 3, padding="same", activation="sigmoid"), (None, 5, 5, 1))
    x = np.random.default_rng(0).standard_normal((1, 5, 5, 1)).astype(np.float32)
    y, cache = layer.forward(x)
    logits = layer.logits_of(cache)
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-logits)), rtol=1e-5)
    dlogits = np.ones_like(y)
    dx_logits, g_logits = layer.backward(dlogits, cache, from_logits=True)
    lin = built(Conv2D(2, 3, padding="same"), (None, 5, 5, 1))
    lin.set_weights(layer.get_weights())
    _, lcache = lin.forward(x)
    dx_lin, g_lin = lin.backward(dlogits, lcache)
    np.testing.assert_array_equal(dx_logits, dx_lin)
    assert lin.logits_of(lcache) is None
    relu = built(Conv2D(2, 3, activation="relu"), (None, 5, 5, 1))
    _, rcache = relu.forward(x)
    assert relu.logits_of(rcache) is None


def test_no_bias_and_config_roundtrip():
    layer = built(Conv2D(4, (3, 2), strides=(1, 2), padding="same", use_bias=False, name="c0"),
                  (None, 6, 6, 3))
    assert len(layer.weights) == 1 and layer.count_params() == 3 * 2 * 3 * 4
    y, cache = layer.forward(np.ones((1, 6, 6, 3), np.float32))
    dx, grads = layer.backward(np.ones_like(y), cache)
    assert len(grads) == 1 and dx.shape == (1, 6, 6, 3)
    config = layer.get_config()
    assert config["kernel_size"] == (3, 2) and config["strides"] == (1, 2)
    assert config["padding"] == "same" and config["use_bias"] is False and config["groups"] == 1
    clone = Conv2D.from_config(config)
    assert clone.get_config() == config
    t = Conv2DTranspose(2, 3, strides=2, output_padding=1, name="t0")
    tc = t.get_config()
    assert tc["output_padding"] == (1, 1) and "groups" not in tc
    assert Conv2DTranspose.from_config(tc).get_config() == tc
