"""Acceptance: the coursework MNIST classifiers reach their reference accuracy (T002 in TASKS.md).

Both tests train on the full MNIST set (60,000 images) and take minutes: they are marked
``slow``. The data comes from ``aenn.datasets.mnist`` with ``AENN_DATA_DIR``; when no local copy
exists the tests are skipped (they never download).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import aenn as keras
from aenn.datasets import _cache, mnist

pytestmark = pytest.mark.slow


def _mnist_available():
    folder = _cache.data_dir()
    if os.path.isfile(os.path.join(folder, "mnist.npz")):
        return True
    idx = os.path.join(folder, "mnist")
    return all(_cache.find_file(name, [idx]) for name in mnist.IDX_FILES)


@pytest.fixture(scope="module")
def mnist_flat():
    if not _mnist_available():
        pytest.skip(f"MNIST not found in {_cache.data_dir()} (mnist.npz or mnist/*-ubyte[.gz]); "
                    "set AENN_DATA_DIR to the folder that holds it")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    return (x_train, y_train), (x_test, y_test)


def test_course_mlp_sgd_reaches_097(mnist_flat):
    """DIT406 template: 784-64-64-10 (55,050 params), SGD(0.1), batch 128, 10 epochs -> >= 0.97."""
    (x_train, y_train), (x_test, y_test) = mnist_flat
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    lines = []
    model.summary(print_fn=lambda line, **kw: lines.append(line))
    text = "\n".join(lines)
    assert "Total params: 55,050" in text, text
    assert model.count_params() == 55_050

    y_train_1h = keras.utils.to_categorical(y_train, 10)
    y_test_1h = keras.utils.to_categorical(y_test, 10)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train_1h, batch_size=128, epochs=10, verbose=0,
                        validation_data=(x_test, y_test_1h))
    elapsed = time.perf_counter() - t0
    loss, acc = model.evaluate(x_test, y_test_1h, verbose=0)
    # The accuracy metric agrees with an argmax computed here from predict().
    pred = model.predict(x_test, verbose=0).argmax(axis=1)
    assert abs(float(np.mean(pred == y_test)) - acc) < 1e-6
    print(f"\ncourse MLP: test accuracy {acc:.4f}, loss {loss:.4f}, fit time {elapsed:.1f} s, "
          f"val_accuracy per epoch {[round(a, 4) for a in history.history['val_accuracy']]}")
    assert len(history.history["loss"]) == 10
    assert acc >= 0.97, f"test accuracy {acc:.4f} < 0.97"


def test_hinton_net_adam_l2_reaches_098(mnist_flat):
    """784-500-300-10 (545,810 params), l2(1e-4) on hidden kernels, Adam, 20 epochs -> >= 0.98.

    The reference is Hinton's 98.47 % (LeCun's MNIST table). Adam's learning rate decays
    exponentially from 1e-3 to 5e-5 over the 20 epochs: with a constant 1e-3 the test accuracy
    jumps between about 0.975 and 0.984 from one epoch to the next, in aenn and in PyTorch alike
    (measured: aenn 0.9793 at batch 128 and at batch 32, torch 0.9806 at batch 128), so the
    final epoch would decide the outcome by chance. With the decay it stays above 0.983 from
    epoch 8 on.
    """
    (x_train, y_train), (x_test, y_test) = mnist_flat
    keras.utils.set_random_seed(2)
    l2 = keras.regularizers.l2
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(500, activation="relu", kernel_regularizer=l2(1e-4)),
        keras.layers.Dense(300, activation="relu", kernel_regularizer=l2(1e-4)),
        keras.layers.Dense(10, activation="softmax"),
    ])
    assert model.count_params() == 545_810
    batch_size, epochs = 128, 20
    steps = epochs * -(-len(x_train) // batch_size)
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=steps,
                                                           decay_rate=0.05)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
    elapsed = time.perf_counter() - t0
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    pred = model.predict(x_test, verbose=0).argmax(axis=1)
    assert abs(float(np.mean(pred == y_test)) - acc) < 1e-6
    print(f"\nHinton net: test accuracy {acc:.4f}, loss {loss:.4f}, fit time {elapsed:.1f} s, "
          f"final train loss {history.history['loss'][-1]:.4f}")
    assert acc >= 0.98, f"test accuracy {acc:.4f} < 0.98 (Hinton's reference 0.9847)"
