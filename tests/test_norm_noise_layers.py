"""BatchNormalization, dropout/noise layers and ActivityRegularization."""

import numpy as np
import pytest

from aenn.layers.normalization import BatchNormalization
from aenn.layers.regularization import (
    ActivityRegularization,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
)
from aenn.reference import norm as ref


def built(layer, shape):
    layer.build((None,) + tuple(shape[1:]))
    layer.built = True
    return layer


# ---- BatchNormalization ------------------------------------------------------------------------

def test_bn_params_and_weight_order():
    bn = built(BatchNormalization(), (None, 512))
    assert bn.count_params() == 2048
    assert sum(w.value.size for w in bn.non_trainable_weights) == 1024
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.trainable for w in bn.weights] == [True, True, False, False]
    bn2 = built(BatchNormalization(center=False), (None, 4, 4, 8))
    assert [w.name for w in bn2.weights] == ["gamma", "moving_mean", "moving_variance"]
    bn3 = built(BatchNormalization(scale=False, center=False), (None, 8))
    assert bn3.count_params() == 16 and bn3.trainable_weights == []


def test_bn_training_forward_and_moving_update():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((6, 3, 5, 4)) * 2 + 3).astype(np.float32)
    bn = built(BatchNormalization(momentum=0.9), x.shape)
    bn.gamma.assign(rng.standard_normal(4))
    bn.beta.assign(rng.standard_normal(4))
    y, cache = bn.forward(x, training=True)
    x2 = x.reshape(-1, 4).astype(np.float64)
    want, mean, _, var = ref.batchnorm_forward_train(x2, bn.gamma.value, bn.beta.value, 1e-3)
    np.testing.assert_allclose(y.reshape(-1, 4), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.value, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.value, 0.9 + 0.1 * var, rtol=1e-5)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    dx, grads = bn.backward(dout, cache)
    rdx, rdg, rdb = ref.batchnorm_backward(dout.reshape(-1, 4).astype(np.float64), x2, mean,
                                           1 / np.sqrt(var + 1e-3), bn.gamma.value, True)
    np.testing.assert_allclose(dx.reshape(-1, 4), rdx, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(grads[0], rdg, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grads[1], rdb, rtol=1e-4, atol=1e-4)
    assert grads[2] is None and grads[3] is None


def test_bn_inference_and_frozen():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    bn = built(BatchNormalization(), x.shape)
    bn.moving_mean.assign([1.0, 2.0, 3.0])
    bn.moving_variance.assign([4.0, 1.0, 0.25])
    want = (x - [1, 2, 3]) / np.sqrt(np.array([4.0, 1.0, 0.25]) + 1e-3)
    y, _ = bn.forward(x, training=False)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    bn.trainable = False  # frozen: inference mode even in training, no update
    y, cache = bn.forward(x, training=True)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bn.moving_mean.value, [1, 2, 3])
    dx, grads = bn.backward(np.ones_like(x), cache)
    np.testing.assert_allclose(dx, np.broadcast_to(1 / np.sqrt([4.001, 1.001, 0.251]), x.shape),
                               rtol=1e-5)
    assert len(grads) == 4


def test_bn_config_and_errors():
    bn = BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, name="bn")
    clone = BatchNormalization.from_config(bn.get_config())
    assert (clone.momentum, clone.epsilon, clone.center, clone.name) == (0.9, 1e-5, False, "bn")
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="axis"):
        BatchNormalization(axis=0)
    with pytest.raises(ValueError, match="axis"):
        BatchNormalization(axis=1).build((None, 4, 4, 3))
    bn = built(BatchNormalization(), (None, 3))
    with pytest.raises(ValueError, match="last axis 3"):
        bn.forward(np.zeros((2, 4), np.float32))


# ---- dropout family ----------------------------------------------------------------------------

def test_dropout_scaling_and_identity():
    x = np.ones((64, 50), np.float32)
    d = Dropout(0.25, seed=1)
    y, _ = d.forward(x, training=False)
    np.testing.assert_array_equal(y, x)
    y, cache = d.forward(x, training=True)
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.03
    dx, _ = d.backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(dx, y)
    y2, _ = Dropout(0.25, seed=1).forward(x, training=True)
    np.testing.assert_array_equal(y, y2)  # same seed, same mask
    y3, _ = d.forward(x, training=True)
    assert not np.array_equal(y, y3)  # the generator advances
    np.testing.assert_array_equal(Dropout(1.0).forward(x, training=True)[0], 0 * x)
    dx, _ = d.backward(x, None)
    np.testing.assert_array_equal(dx, x)


def test_dropout_noise_shape_and_spatial():
    x = np.ones((4, 6, 5, 8), np.float32)
    y, _ = SpatialDropout2D(0.5, seed=3).forward(x, training=True)
    assert np.all(y == y[:, :1, :1, :])
    y, _ = SpatialDropout1D(0.5, seed=3).forward(x[:, 0], training=True)
    assert np.all(y == y[:, :1, :])
    y, cache = Dropout(0.5, noise_shape=(None, 1, 5, None), seed=4).forward(x, training=True)
    assert np.all(y == y[:, :1])
    dx, _ = Dropout(0.5).backward(x, cache)
    np.testing.assert_array_equal(dx, y)
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape=(None, 1)).forward(x, training=True)
    with pytest.raises(ValueError, match="rank 4"):
        SpatialDropout2D(0.5).forward(x[:, 0], training=True)


def test_gaussian_layers():
    x = np.full((200, 50), 2.0, np.float32)
    g = GaussianNoise(0.5, seed=0)
    np.testing.assert_array_equal(g.forward(x)[0], x)
    y, cache = g.forward(x, training=True)
    assert abs(float(np.std(y - x)) - 0.5) < 0.02
    np.testing.assert_array_equal(g.backward(x, cache)[0], x)
    gd = GaussianDropout(0.2, seed=0)
    np.testing.assert_array_equal(gd.forward(x)[0], x)
    y, cache = gd.forward(x, training=True)
    assert abs(float(np.mean(y)) - 2.0) < 0.02
    assert abs(float(np.std(y / x)) - np.sqrt(0.2 / 0.8)) < 0.02
    dx, _ = gd.backward(np.ones_like(x), cache)
    np.testing.assert_allclose(dx * 2.0, y, rtol=1e-6)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="stddev"):
            GaussianNoise(bad)
    with pytest.raises(ValueError, match="rate"):
        GaussianDropout(1.0)
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.2)
    assert Dropout.from_config(Dropout(0.3, seed=5, name="dr").get_config()).rate == 0.3
    assert GaussianNoise.from_config(GaussianNoise(0.1).get_config()).stddev == 0.1


def test_activity_regularization():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    layer = ActivityRegularization(l1=0.01, l2=0.1)
    y, cache = layer.forward(x, training=True)
    np.testing.assert_array_equal(y, x)
    want = (0.01 * np.abs(x).sum() + 0.1 * (x.astype(np.float64) ** 2).sum()) / 4
    assert layer.losses == [pytest.approx(want, rel=1e-6)]
    dx, _ = layer.backward(np.zeros_like(x), cache)
    np.testing.assert_allclose(dx, (0.01 * np.sign(x) + 0.2 * x) / 4, rtol=1e-5)
    with pytest.raises(ValueError, match="l1"):
        ActivityRegularization(l1=-1)
