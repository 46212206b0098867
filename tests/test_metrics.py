"""Metrics: accuracy resolution from shapes (Keras), accumulation, names."""

import numpy as np
import pytest
from conftest import ToyDense

from aenn import metrics
from aenn.models import Input, Model


@pytest.mark.parametrize("yt_shape, yp_shape, cls", [
    ((4, 1), (4, 1), metrics.BinaryAccuracy),
    ((4, 28, 28, 1), (4, 28, 28, 1), metrics.BinaryAccuracy),
    ((4,), (4, 10), metrics.SparseCategoricalAccuracy),
    ((4, 1), (4, 10), metrics.SparseCategoricalAccuracy),
    ((4, 10), (4, 10), metrics.CategoricalAccuracy),
    ((4, 784), (4, 784), metrics.CategoricalAccuracy),
])
def test_accuracy_resolution(yt_shape, yp_shape, cls):
    m = metrics.get("accuracy", np.zeros(yt_shape), np.zeros(yp_shape))
    assert type(m) is cls and m.name == "accuracy"
    assert metrics.get("acc", np.zeros(yt_shape), np.zeros(yp_shape)).name == "acc"


def test_values():
    yt = np.array([[1.0], [0.0], [1.0], [0.0]])
    yp = np.array([[0.9], [0.6], [0.2], [0.1]])
    b = metrics.BinaryAccuracy()
    b.update_state(yt, yp)
    assert b.result() == pytest.approx(0.5)
    c = metrics.CategoricalAccuracy()
    c.update_state(np.eye(3), np.array([[0.8, 0.1, 0.1], [0.5, 0.3, 0.2], [0, 0, 1.0]]))
    assert c.result() == pytest.approx(2 / 3)
    s = metrics.SparseCategoricalAccuracy()
    s.update_state(np.array([0, 2]), np.array([[0.9, 0.1, 0], [0.9, 0, 0.1]]))
    assert s.result() == pytest.approx(0.5)
    mse = metrics.get("mse")
    mse.update_state(np.zeros((2, 2)), np.array([[1.0, 1.0], [2.0, 0.0]]))
    assert mse.name == "mse" and mse.result() == pytest.approx((1 + 2) / 2)


def test_batch_size_weighted_accumulation_and_reset():
    m = metrics.MeanAbsoluteError()
    m.update_state(np.zeros((3, 1)), np.ones((3, 1)))  # 3 samples of 1
    m.update_state(np.zeros((1, 1)), np.full((1, 1), 5.0))  # 1 sample of 5
    assert m.result() == pytest.approx(8 / 4)
    m.reset_state()
    assert m.result() == 0.0
    mean = metrics.Mean()
    mean.update_state(2.0, sample_weight=3)
    mean.update_state(6.0, sample_weight=1)
    assert mean.result() == pytest.approx(3.0)


def test_get_errors_and_callables():
    with pytest.raises(ValueError, match="Unknown metric"):
        metrics.get("nope")
    with pytest.raises(ValueError, match="accuracy"):
        metrics.get("accuracy")

    def my_metric(y_true, y_pred):
        return np.abs(y_true - y_pred)

    assert metrics.get(my_metric).name == "my_metric"
    assert metrics.is_max_better("val_accuracy") and not metrics.is_max_better("val_loss")


def test_metric_objects_in_compile_keep_their_names():
    inp = Input(shape=(3,))
    m = Model(inp, ToyDense(3)(inp))
    m.compile(optimizer="adam", loss="mse", metrics=[metrics.MeanAbsoluteError(), "acc"])
    x = np.random.default_rng(0).random((8, 3)).astype(np.float32)
    h = m.fit(x, x, epochs=1, verbose=0)
    assert list(h.history) == ["acc", "loss", "mean_absolute_error"]
