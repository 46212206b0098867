"""Callbacks with a fake minimal model (Keras 3 semantics, KERAS.md §11.8)."""

import csv
import json
import math
import os

import numpy as np
import pytest

from aenn.callbacks.csv_logger import CSVLogger
from aenn.callbacks.early_stopping import EarlyStopping
from aenn.callbacks.lambda_callback import LambdaCallback
from aenn.callbacks.learning_rate_scheduler import LearningRateScheduler
from aenn.callbacks.model_checkpoint import ModelCheckpoint
from aenn.callbacks.monitor import resolve_mode
from aenn.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from aenn.callbacks.tensorboard import TensorBoard
from aenn.callbacks.terminate_on_nan import TerminateOnNaN


class FakeOptimizer:
    def __init__(self, lr=0.01):
        self.learning_rate = lr


class FakeModel:
    def __init__(self):
        self.w = np.zeros(3, np.float32)
        self.stop_training = False
        self.optimizer = FakeOptimizer()
        self.saved = []

    def get_weights(self):
        return [self.w.copy()]

    def set_weights(self, weights):
        self.w = weights[0].copy()

    def save(self, path):
        self.saved.append(path)
        open(path, "w").close()

    def save_weights(self, path):
        self.saved.append(path)
        open(path, "w").close()


def run(callbacks, values, key="val_loss", model=None, extra=None):
    """Simulates fit: epoch e sets weights to e and logs values[e]; returns (model, epochs run, logs)."""
    model = model or FakeModel()
    for cb in callbacks:
        cb.set_model(model)
    for cb in callbacks:
        cb.on_train_begin({})
    ran, all_logs = 0, []
    for epoch, v in enumerate(values):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, {})
        model.w[:] = epoch
        logs = {key: v, "loss": v}
        if extra:
            logs.update(extra(epoch))
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        all_logs.append(logs)
        ran += 1
        if model.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end({})
    return model, ran, all_logs


def test_mode_auto():
    assert resolve_mode("val_loss", "auto") == "min"
    assert resolve_mode("loss", "auto") == "min"
    assert resolve_mode("val_accuracy", "auto") == "max"
    assert resolve_mode("acc", "auto") == "max"
    assert resolve_mode("val_mae", "auto") == "min"
    assert resolve_mode("val_mean_squared_error", "auto") == "min"
    assert resolve_mode("foo", "max") == "max"
    with pytest.raises(ValueError, match="mode"):
        resolve_mode("val_foo", "auto")


def test_early_stopping_patience():
    # best at epoch 1; patience=2 -> stops at epoch 3
    model, ran, _ = run([EarlyStopping(patience=2)], [1.0, 0.5, 0.6, 0.7, 0.8, 0.1])
    assert ran == 4 and model.stop_training


def test_early_stopping_patience0_min_delta():
    cb = EarlyStopping(patience=0, min_delta=0.1)
    model, ran, _ = run([cb], [1.0, 0.95, 0.5])  # 0.95 is not an improvement with min_delta=0.1
    assert ran == 2
    assert cb.stopped_epoch == 1


def test_early_stopping_max_mode_and_start_from_epoch():
    cb = EarlyStopping(monitor="val_accuracy", patience=1)
    _, ran, _ = run([cb], [0.5, 0.6, 0.55, 0.4, 0.9], key="val_accuracy")
    assert ran == 3
    cb = EarlyStopping(patience=1, start_from_epoch=3)
    _, ran, _ = run([cb], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert ran == 5  # monitoring starts at epoch 3 (first value = best), stops at epoch 4


def test_early_stopping_restores_at_train_end_always(capsys):
    # K3: restores best weights even when training ran all epochs
    cb = EarlyStopping(patience=10, restore_best_weights=True, verbose=1)
    model, ran, _ = run([cb], [1.0, 0.2, 0.5, 0.7])
    assert ran == 4 and not model.stop_training
    np.testing.assert_array_equal(model.w, np.full(3, 1.0))
    assert "best epoch: 2." in capsys.readouterr().out


def test_early_stopping_restore_on_stop_message(capsys):
    cb = EarlyStopping(patience=1, restore_best_weights=True, verbose=1)
    model, ran, _ = run([cb], [0.3, 0.5, 0.6, 0.1])
    out = capsys.readouterr().out
    assert "Epoch 2: early stopping" in out
    np.testing.assert_array_equal(model.w, np.zeros(3))


def test_early_stopping_baseline():
    # improvements that do not beat the baseline still count towards patience
    cb = EarlyStopping(patience=2, baseline=0.1)
    _, ran, _ = run([cb], [1.0, 0.9, 0.95, 0.7, 0.6])
    assert ran == 3


def test_early_stopping_missing_key_warns():
    cb = EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(UserWarning, match="Available keys"):
        _, ran, _ = run([cb], [1.0, 2.0, 3.0], key="loss_only")
    assert ran == 3


def test_early_stopping_bad_args():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.warns(UserWarning, match="fallback to auto"):
        EarlyStopping(mode="sideways")


def test_model_checkpoint_format_and_best_only(tmp_path, capsys):
    path = str(tmp_path / "sub" / "ae-{epoch:02d}-{val_loss:.2f}.aenn")
    cb = ModelCheckpoint(path, save_best_only=True, verbose=1)
    model, _, _ = run([cb], [0.5, 0.7, 0.25])
    assert [os.path.basename(p) for p in model.saved] == ["ae-01-0.50.aenn", "ae-03-0.25.aenn"]
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from None to 0.50000, saving model to" in out
    assert "Epoch 2: val_loss did not improve from 0.50000" in out


def test_model_checkpoint_weights_only_and_every_epoch(tmp_path):
    cb = ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True)
    model, _, _ = run([cb], [0.5, 0.7])
    assert len(model.saved) == 2
    with pytest.raises(ValueError, match="weights"):
        ModelCheckpoint(str(tmp_path / "w.aenn"), save_weights_only=True)
    with pytest.raises(ValueError, match=".aenn"):
        ModelCheckpoint(str(tmp_path / "model"))
    cb = ModelCheckpoint(str(tmp_path / "m.keras"), initial_value_threshold=0.6, save_best_only=True)
    model, _, _ = run([cb], [0.7, 0.5])
    assert len(model.saved) == 1


def test_csv_logger(tmp_path):
    f = tmp_path / "log.csv"
    run([CSVLogger(str(f))], [0.5, 0.25], key="mae")
    raw = f.read_bytes()
    assert b"\r\n" in raw
    rows = list(csv.reader(open(f, newline="")))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert rows[1] == ["0", "0.5", "0.5", "NA", "NA"]
    # append: no second header
    run([CSVLogger(str(f), append=True, separator=",")], [0.1], key="mae")
    rows = list(csv.reader(open(f, newline="")))
    assert len(rows) == 4 and rows[3][0] == "0"
    f2 = tmp_path / "log2.csv"
    run([CSVLogger(str(f2), separator=";")], [0.5])
    assert open(f2).readline().strip() == "epoch;loss;val_loss"


def test_reduce_lr_on_plateau(capsys):
    cb = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, cooldown=1, min_lr=0.002,
                           verbose=1)
    model, _, logs = run([cb], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    lrs = [l["learning_rate"] for l in logs]
    # Keras order: the cooldown counter is decremented before the wait check, so cooldown=1
    # does not skip an epoch; the last reduction is clipped at min_lr.
    assert lrs == pytest.approx([0.01, 0.01, 0.005, 0.0025, 0.002, 0.002])
    assert model.optimizer.learning_rate == pytest.approx(0.002)
    assert "ReduceLROnPlateau reducing learning rate to 0.005." in capsys.readouterr().out
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_min_delta():
    cb = ReduceLROnPlateau(factor=0.1, patience=1, min_delta=0.1)
    model, _, _ = run([cb], [1.0, 0.95])
    assert model.optimizer.learning_rate == pytest.approx(0.001)


def test_learning_rate_scheduler(capsys):
    cb = LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr, verbose=1)
    model, _, logs = run([cb], [1.0, 1.0, 1.0])
    assert [l["learning_rate"] for l in logs] == pytest.approx([0.01, 0.005, 0.0025])
    assert "LearningRateScheduler setting learning rate to 0.005" in capsys.readouterr().out
    cb = LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    model, _, _ = run([cb], [1.0, 1.0])
    assert model.optimizer.learning_rate == pytest.approx(0.05)
    cb = LearningRateScheduler(lambda epoch, lr: "fast")
    with pytest.raises(ValueError, match="should be a float"):
        run([cb], [1.0])


def test_terminate_on_nan(capsys):
    model = FakeModel()
    cb = TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training
    cb.on_train_batch_end(3, {"loss": float("nan")})
    assert model.stop_training
    assert "Batch 3: Invalid loss, terminating training" in capsys.readouterr().out
    model.stop_training = False
    cb.on_train_batch_end(4, {"loss": np.float32(np.inf)})
    assert model.stop_training


def test_lambda_callback():
    seen = []
    cb = LambdaCallback(on_epoch_end=lambda e, logs: seen.append(("end", e)),
                        on_train_begin=lambda logs: seen.append("begin"),
                        on_batch_end=lambda b, logs: seen.append(("batch", b)))
    run([cb], [1.0, 2.0])
    cb.on_train_batch_end(7, {})
    assert seen == ["begin", ("end", 0), ("end", 1), ("batch", 7)]
    with pytest.raises(ValueError, match="callable"):
        LambdaCallback(on_epoch_end=3)


def test_tensorboard(tmp_path):
    with pytest.warns(UserWarning, match="histogram_freq"):
        cb = TensorBoard(log_dir=str(tmp_path / "logs"), histogram_freq=1)
    for phrase in ("NO TensorFlow event files", "NO graphs", "NO histograms"):
        assert phrase in TensorBoard.__doc__
    run([cb], [0.5, 0.25], extra=lambda e: {"val_mae": 0.1 * e, "mae": 0.2})
    train = [json.loads(l) for l in open(tmp_path / "logs" / "train" / "scalars.jsonl")]
    val = [json.loads(l) for l in open(tmp_path / "logs" / "validation" / "scalars.jsonl")]
    assert [t["loss"] for t in train] == [0.5, 0.25]
    assert train[0]["learning_rate"] == pytest.approx(0.01)
    assert [v["loss"] for v in val] == [0.5, 0.25] and val[1]["mae"] == pytest.approx(0.1)
    rows = list(csv.reader(open(tmp_path / "logs" / "validation" / "scalars.csv")))
    assert rows[0] == ["epoch", "wall_time", "loss", "mae"]
    assert len(rows) == 3
