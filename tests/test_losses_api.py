"""aenn.losses: lookup, Keras values/shapes/reduction, logits path, gradients, errors."""

import numpy as np
import pytest

from aenn import losses
from aenn.reference import loss as ref


def rand(shape, lo=0.05, hi=0.95, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


@pytest.mark.parametrize("name,cls", [
    ("mse", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError),
    ("mae", losses.MeanAbsoluteError), ("bce", losses.BinaryCrossentropy),
    ("binary_crossentropy", losses.BinaryCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("kld", losses.KLDivergence), ("kl_divergence", losses.KLDivergence), ("huber", losses.Huber),
    ("MeanSquaredError", losses.MeanSquaredError),
])
def test_get(name, cls):
    loss = losses.get(name)
    assert isinstance(loss, cls)
    assert losses.get(loss) is loss
    clone = losses.deserialize(losses.serialize(loss))
    assert type(clone) is cls and clone.get_config() == loss.get_config()


def test_get_functions_and_callables():
    assert isinstance(losses.get(losses.mse), losses.MeanSquaredError)
    assert isinstance(losses.get(losses.binary_crossentropy), losses.BinaryCrossentropy)
    wrapped = losses.get(lambda yt, yp: np.mean(np.abs(yt - yp), axis=-1))
    assert isinstance(wrapped, losses.LossFunctionWrapper)
    assert wrapped(np.zeros((2, 3)), np.ones((2, 3))) == pytest.approx(1.0)
    with pytest.raises(NotImplementedError, match="gradient"):
        wrapped.value_and_grad(np.zeros((2, 3)), np.ones((2, 3)))
    assert losses.get(None) is None


@pytest.mark.parametrize("bad", ["accuracy", "acc", "foo"])
def test_get_unknown(bad):
    with pytest.raises(ValueError, match=f"Unknown loss function: '{bad}'"):
        losses.get(bad)
    if bad != "foo":
        with pytest.raises(ValueError, match="metric"):
            losses.get(bad)


def test_functional_forms_are_per_sample():
    yt, yp = rand((4, 6), seed=1), rand((4, 6), seed=2)
    np.testing.assert_allclose(losses.mse(yt, yp), np.mean((yt - yp) ** 2, -1), rtol=1e-6)
    np.testing.assert_allclose(losses.mae(yt, yp), np.mean(np.abs(yt - yp), -1), rtol=1e-6)
    np.testing.assert_allclose(losses.MSE(yt, yp), losses.mean_squared_error(yt, yp))
    bce = losses.binary_crossentropy(yt, yp)
    expect = -np.mean(yt * np.log(yp) + (1 - yt) * np.log(1 - yp), -1)
    np.testing.assert_allclose(bce, expect, rtol=1e-5)
    # conv autoencoder output: the last axis is the channel
    img_t, img_p = rand((2, 5, 5, 1), seed=3), rand((2, 5, 5, 1), seed=4)
    assert losses.binary_crossentropy(img_t, img_p).shape == (2, 5, 5)
    assert losses.huber(yt, yp).shape == (4,)


def test_reduction_is_mean_over_all_values():
    img_t, img_p = rand((2, 5, 5, 1), seed=3), rand((2, 5, 5, 1), seed=4)
    bce = losses.BinaryCrossentropy()
    expect = -np.mean(img_t * np.log(img_p) + (1 - img_t) * np.log(1 - img_p))
    assert bce(img_t, img_p) == pytest.approx(float(expect), rel=1e-5)
    flat = bce(img_t.reshape(2, 25), img_p.reshape(2, 25))
    assert flat == pytest.approx(float(expect), rel=1e-5)
    s = losses.MeanSquaredError(reduction="sum")
    yt, yp = rand((4, 6), seed=1), rand((4, 6), seed=2)
    assert s(yt, yp) == pytest.approx(float(np.sum(np.mean((yt - yp) ** 2, -1))), rel=1e-5)
    none = losses.MeanSquaredError(reduction=None)(yt, yp)
    assert none.shape == (4,)
    w = np.array([1.0, 0.0, 2.0, 0.0])
    weighted = losses.MeanSquaredError()(yt, yp, sample_weight=w)
    assert weighted == pytest.approx(float(np.sum(np.mean((yt - yp) ** 2, -1) * w) / 4), rel=1e-5)


@pytest.mark.parametrize("cls,kind", [
    (losses.MeanSquaredError, "mean_squared_error"), (losses.MeanAbsoluteError, "mean_absolute_error"),
    (losses.BinaryCrossentropy, "binary_crossentropy"), (losses.KLDivergence, "kl_divergence"),
    (losses.CategoricalCrossentropy, "categorical_crossentropy"), (losses.Huber, "huber"),
])
def test_value_and_grad(cls, kind):
    yt, yp = rand((3, 2, 5), seed=5), rand((3, 2, 5), seed=6)
    loss = cls()
    value, grad = loss.value_and_grad(yt, yp)
    assert isinstance(value, float) and grad.shape == yp.shape and grad.dtype == np.float32
    y2, p2 = yt.reshape(6, 5).astype(np.float64), yp.reshape(6, 5).astype(np.float64)
    param = 1.0 if kind == "huber" else 0.0
    assert value == pytest.approx(ref.loss_forward(y2, p2, ref.KINDS[kind], param)[1], rel=1e-5)
    np.testing.assert_allclose(grad.reshape(6, 5), ref.loss_backward(y2, p2, ref.KINDS[kind], param),
                               rtol=1e-5, atol=1e-8)
    assert loss(yt, yp) == pytest.approx(value, rel=1e-7)


def test_logits_path():
    rng = np.random.default_rng(7)
    z = rng.normal(0, 2, (8, 3)).astype(np.float32)
    y = (rng.uniform(size=z.shape) > 0.5).astype(np.float32)
    sig = (1 / (1 + np.exp(-z.astype(np.float64)))).astype(np.float32)
    bce = losses.BinaryCrossentropy()
    assert bce.supports_logits("sigmoid") and not bce.supports_logits("softmax")
    assert not losses.BinaryCrossentropy(from_logits=True).supports_logits("sigmoid")
    assert not losses.MeanSquaredError().supports_logits("sigmoid")
    value, grad = bce.value_and_grad(y, sig, logits=z)
    assert value == pytest.approx(bce(y, sig), rel=1e-5)
    np.testing.assert_allclose(grad, (sig - y) / y.size, rtol=1e-5, atol=1e-8)
    v2, g2 = losses.BinaryCrossentropy(from_logits=True).value_and_grad(y, z)
    assert v2 == pytest.approx(value, rel=1e-6)
    np.testing.assert_array_equal(g2, grad)
    # saturated sigmoid: the clipped path has zero gradient, the logits path does not
    zs = np.array([[30.0]], np.float32)
    _, g_clip = bce.value_and_grad(np.zeros((1, 1)), np.ones((1, 1), np.float32))
    _, g_log = bce.value_and_grad(np.zeros((1, 1)), np.ones((1, 1), np.float32), logits=zs)
    assert g_clip[0, 0] == 0 and g_log[0, 0] == pytest.approx(1.0)
    # softmax + categorical / sparse
    labels = rng.integers(0, 3, 8)
    onehot = np.eye(3, dtype=np.float32)[labels]
    sm = np.exp(z - z.max(-1, keepdims=True))
    sm = (sm / sm.sum(-1, keepdims=True)).astype(np.float32)
    for loss, target in ((losses.CategoricalCrossentropy(), onehot),
                         (losses.SparseCategoricalCrossentropy(), labels)):
        assert loss.supports_logits("softmax")
        value, grad = loss.value_and_grad(target, sm, logits=z)
        assert value == pytest.approx(loss(target, sm), rel=1e-5)
        np.testing.assert_allclose(grad, (sm - onehot) / 8, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="logits"):
        losses.MeanSquaredError().value_and_grad(y, sig, logits=z)
    with pytest.raises(ValueError, match="shape"):
        bce.value_and_grad(y, sig, logits=z[:4])


def test_sparse_labels():
    p = rand((5, 4), seed=8)
    labels = np.array([0, 3, 1, 2, 0])
    loss = losses.SparseCategoricalCrossentropy()
    expect = np.mean(np.log(p.sum(-1)) - np.log(p[np.arange(5), labels]))
    assert loss(labels, p) == pytest.approx(float(expect), rel=1e-5)
    assert loss(labels.reshape(5, 1), p) == pytest.approx(float(expect), rel=1e-5)
    assert loss(labels.astype(np.float32), p) == pytest.approx(float(expect), rel=1e-5)
    assert losses.sparse_categorical_crossentropy(labels, p).shape == (5,)
    with pytest.raises(ValueError, match=r"label value of 4.*\[0, 4\).*4 classes"):
        loss(np.array([0, 4, 1, 2, 0]), p)
    with pytest.raises(ValueError, match=r"label value of -1"):
        loss(np.array([0, -1, 1, 2, 0]), p)
    with pytest.raises(ValueError, match="non-integer value 0.5"):
        loss(np.array([0, 0.5, 1, 2, 0]), p)
    with pytest.raises(ValueError, match="one-hot"):
        loss(np.eye(4)[labels], p)
    with pytest.raises(ValueError, match=r"\(5,\)"):
        loss(np.zeros(6), p)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 3\) and y_pred.shape=\(4, 5\)"):
        losses.MeanSquaredError()(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"one-hot width of `y_true` \(10\).*\(5\)"):
        losses.CategoricalCrossentropy()(np.zeros((4, 10)), np.full((4, 5), 0.2))
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(np.zeros((4, 1)), np.full((4, 5), 0.2))
    # a trailing axis of size 1 is squeezed / expanded like Keras
    assert losses.MeanSquaredError()(np.zeros((4, 1)), np.ones((4,), np.float32)) == 1.0
    assert losses.MeanSquaredError()(np.zeros((4,)), np.ones((4, 1), np.float32)) == 1.0
    with pytest.raises(ValueError, match="non-empty"):
        losses.MeanSquaredError()(np.zeros((0, 3)), np.zeros((0, 3)))


def test_hyper_parameter_errors():
    with pytest.raises(ValueError, match="delta"):
        losses.Huber(delta=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=2.0)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="axis"):
        losses.CategoricalCrossentropy(axis=1)


def test_label_smoothing():
    y = np.array([[1.0, 0.0]], np.float32)
    p = np.array([[0.7, 0.3]], np.float32)
    smoothed = losses.BinaryCrossentropy(label_smoothing=0.2)(y, p)
    ys = y * 0.8 + 0.1
    expect = -np.mean(ys * np.log(p) + (1 - ys) * np.log(1 - p))
    assert smoothed == pytest.approx(float(expect), rel=1e-5)
    cce = losses.CategoricalCrossentropy(label_smoothing=0.2)(y, p)
    yc = y * 0.8 + 0.1
    assert cce == pytest.approx(float(-np.sum(yc * np.log(p))), rel=1e-5)
