"""aenn.saving: zip format, checksums, atomic writes, weights files (fake models, real Variables)."""

import json
import os
import sys
import types
import zipfile

import numpy as np
import pytest

from aenn import saving
from aenn.layers.layer import Variable


class FakeLayer:
    def __init__(self, name):
        self.name = name
        self.trainable = True


class FakeOptimizer:
    def __init__(self):
        self.built = False
        self.variables = []

    def build(self, variables):
        self.variables = [np.zeros((), np.float32), np.zeros((), np.float32)] + [
            np.zeros(v.shape, np.float32) for v in variables]
        self.built = True

    @classmethod
    def from_config(cls, config):
        return cls()


class FakeModel:
    """Dense-like stack: units per layer; weights kernel/bias per layer."""

    def __init__(self, units=(3, 4, 2), seed=0):
        rng = np.random.default_rng(seed)
        self.name = "fake"
        self.units = list(units)
        self.weights = []
        for i, (a, b) in enumerate(zip(units[:-1], units[1:])):
            layer = FakeLayer(f"dense_{i}" if i else "dense")
            self.weights.append(Variable(rng.normal(size=(a, b)), "kernel", layer=layer))
            self.weights.append(Variable(rng.normal(size=(b,)), "bias", layer=layer))
        self.optimizer = None
        self.compile_config = None

    @property
    def trainable_weights(self):
        return self.weights

    def get_config(self):
        return {"name": self.name, "units": tuple(self.units), "dtype": np.dtype("float32"),
                "n": np.int64(3)}

    def compile(self, optimizer=None, loss=None):
        self.optimizer = optimizer
        self.loss = loss
        self.compile_config = {"optimizer": {"class_name": "FakeOptimizer", "config": {}},
                               "loss": loss}


@pytest.fixture
def fake_models(monkeypatch):
    mod = types.ModuleType("aenn.models")

    def model_from_config(config, custom_objects=None):
        assert config["class_name"] == "FakeModel"
        return FakeModel(tuple(config["config"]["units"]), seed=99)

    mod.model_from_config = model_from_config
    import aenn

    monkeypatch.setitem(sys.modules, "aenn.models", mod)
    monkeypatch.setattr(aenn, "models", mod, raising=False)
    return mod


def test_model_roundtrip(tmp_path, fake_models):
    m = FakeModel()
    m.compile(optimizer=FakeOptimizer(), loss="mse")
    m.optimizer.build(m.weights)
    m.optimizer.variables[0][...] = 7  # iterations
    m.optimizer.variables[3][...] = 0.5
    path = tmp_path / "m.aenn"
    saving.save_model(m, path)
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == ["metadata.json", "config.json", "weights.npz"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
        meta = json.loads(z.read("metadata.json"))
        cfg = json.loads(z.read("config.json"))
    assert meta["aenn_version"] and len(meta["date_saved"]) == 19
    assert cfg["config"]["units"] == [3, 4, 2] and cfg["compile_config"]["loss"] == "mse"
    assert cfg["weights"][0] == {"path": "dense/kernel", "shape": [3, 4]}
    loaded = saving.load_model(str(path), custom_objects={"FakeOptimizer": FakeOptimizer})
    for a, b in zip(m.weights, loaded.weights):
        np.testing.assert_array_equal(a.value, b.value)
    assert loaded.loss == "mse"
    assert float(loaded.optimizer.variables[0]) == 7
    np.testing.assert_array_equal(loaded.optimizer.variables[3], 0.5)
    loaded = saving.load_model(path, compile=False)
    assert loaded.optimizer is None
    saving.save_model(m, tmp_path / "m.keras")  # .keras accepted (our format)
    assert saving.load_model(tmp_path / "m.keras", compile=False).units == [3, 4, 2]


def test_bad_extension(tmp_path):
    with pytest.raises(ValueError, match=".aenn"):
        saving.save_model(FakeModel(), tmp_path / "model")
    with pytest.raises(ValueError, match=".weights.npz"):
        saving.save_weights(FakeModel(), tmp_path / "w.npz")


def test_tampered_and_truncated(tmp_path, fake_models):
    path = tmp_path / "m.aenn"
    saving.save_model(FakeModel(), path)
    data = path.read_bytes()
    # change one byte inside the stored weights
    tampered = bytearray(data)
    start = data.index(b"w0001.npy")
    tampered[start + 200] ^= 0xFF
    (tmp_path / "t.aenn").write_bytes(bytes(tampered))
    with pytest.raises(ValueError, match="checksum|corrupted|truncated"):
        saving.load_model(tmp_path / "t.aenn")
    # a JSON edit that keeps the zip valid is caught by the recorded SHA-256
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["config.json"] = members["config.json"].replace(b'"fake"', b'"evil"')
    with zipfile.ZipFile(tmp_path / "e.aenn", "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    with pytest.raises(ValueError, match="checksum of config.json"):
        saving.load_model(tmp_path / "e.aenn")
    (tmp_path / "h.aenn").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        saving.load_model(tmp_path / "h.aenn")
    (tmp_path / "z.aenn").write_bytes(b"")
    with pytest.raises(ValueError):
        saving.load_model(tmp_path / "z.aenn")
    with pytest.raises(FileNotFoundError):
        saving.load_model(tmp_path / "missing.aenn")


def test_atomic_save_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.aenn"
    saving.save_model(FakeModel(seed=1), path)
    before = path.read_bytes()

    real = zipfile.ZipFile.writestr

    def failing(self, name, data, *args, **kwargs):
        if name == "weights.npz":
            raise OSError("disk full")
        return real(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="disk full"):
        saving.save_model(FakeModel(seed=2), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.aenn"]  # no temp file left behind
    with pytest.raises(TypeError, match="lambda"):
        class Bad(FakeModel):
            def get_config(self):
                return {"fn": lambda x: x}
        saving.save_model(Bad(), path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", ["w.weights.npz", "w.weights.h5"])
def test_weights_roundtrip(tmp_path, name):
    src, dst = FakeModel(seed=1), FakeModel(seed=2)
    saving.save_weights(src, tmp_path / name)
    assert (tmp_path / name).read_bytes()[:2] == b"PK"  # npz content
    saving.load_weights(dst, tmp_path / name)
    for a, b in zip(src.weights, dst.weights):
        np.testing.assert_array_equal(a.value, b.value)


def test_load_weights_from_model_file(tmp_path):
    src, dst = FakeModel(seed=1), FakeModel(seed=2)
    saving.save_model(src, tmp_path / "m.aenn")
    saving.load_weights(dst, tmp_path / "m.aenn")
    np.testing.assert_array_equal(src.weights[2].value, dst.weights[2].value)


def test_load_weights_wrong_architecture(tmp_path):
    saving.save_weights(FakeModel((3, 4, 2)), tmp_path / "w.weights.npz")
    other = FakeModel((3, 5, 2), seed=3)
    before = [w.value.copy() for w in other.weights]
    with pytest.raises(ValueError, match=r"layer 'dense' weight `kernel` has shape \(3, 5\).*"
                                         r"dense/kernel.*\(3, 4\)"):
        saving.load_weights(other, tmp_path / "w.weights.npz")
    for b, w in zip(before, other.weights):  # nothing assigned
        np.testing.assert_array_equal(b, w.value)
    with pytest.raises(ValueError, match="has 4 weights but the model"):
        saving.load_weights(FakeModel((3, 4, 2, 2)), tmp_path / "w.weights.npz")


def test_load_weights_corrupted(tmp_path):
    saving.save_weights(FakeModel(), tmp_path / "w.weights.npz")
    data = (tmp_path / "w.weights.npz").read_bytes()
    (tmp_path / "t.weights.npz").write_bytes(data[:-40])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        saving.load_weights(FakeModel(), tmp_path / "t.weights.npz")
    (tmp_path / "k.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(ValueError, match="HDF5"):
        saving.load_weights(FakeModel(), tmp_path / "k.weights.h5")


def test_end_to_end_with_engine(tmp_path):
    """Real engine (test stand-in layers from conftest): fit with callbacks, save, load."""
    models = pytest.importorskip("aenn.models")
    from conftest import ToyDense

    from aenn.callbacks.csv_logger import CSVLogger
    from aenn.callbacks.early_stopping import EarlyStopping

    inp = models.Input(shape=(4,))
    out = ToyDense(3, activation="tanh")(inp)
    out = ToyDense(4)(out)
    model = models.Model(inp, out)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    stop = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    hist = model.fit(x, x, epochs=3, batch_size=8, verbose=0,
                     callbacks=[stop, CSVLogger(str(tmp_path / "log.csv"))])
    assert len(hist.history["loss"]) >= 1
    assert open(tmp_path / "log.csv").readline().strip() == "epoch,loss,val_loss"
    saving.save_model(model, tmp_path / "m.aenn")
    loaded = saving.load_model(tmp_path / "m.aenn",
                               custom_objects={"ToyDense": ToyDense}, compile=False)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    saving.save_weights(model, tmp_path / "w.weights.h5")
    saving.load_weights(loaded, tmp_path / "w.weights.h5")
    compiled = saving.load_model(tmp_path / "m.aenn", custom_objects={"ToyDense": ToyDense})
    assert compiled.compiled
    assert np.isfinite(compiled.evaluate(x, x, verbose=0))
