"""Data sets: real files from /work/shared/data (AENN_DATA_DIR), checksums, IDX parsing, offline."""

import gzip
import io
import os
import shutil
import urllib.error

import numpy as np
import pytest

from aenn.datasets import _cache, ecg5000, fashion_mnist, mnist, nab

SHARED = os.environ.get("AENN_TEST_DATA", "/work/shared/data")
needs_data = pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED, "mnist")),
                                reason="shared data folder not available")


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setenv("AENN_DATA_DIR", SHARED)


@pytest.fixture
def offline(monkeypatch):
    calls = []

    def fail(url, timeout):
        calls.append(url)
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(_cache, "_urlopen", fail)
    return calls


def idx_bytes(arr):
    arr = np.asarray(arr, np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes()
    return header + arr.tobytes()


def test_data_dir_default(monkeypatch):
    monkeypatch.delenv("AENN_DATA_DIR", raising=False)
    assert _cache.data_dir() == os.path.join(os.path.expanduser("~"), ".aenn", "datasets")
    monkeypatch.setenv("AENN_DATA_DIR", "/tmp/x")
    assert _cache.data_dir() == "/tmp/x"


@needs_data
def test_mnist_load_data(shared, offline):
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert x_train.max() == 255 and x_train.min() == 0
    assert np.bincount(y_train).tolist()[:2] == [5923, 6742]
    assert x_train.flags.writeable and x_train.flags.c_contiguous
    assert offline == []  # nothing downloaded


def test_parse_idx_roundtrip_and_errors():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    data = idx_bytes(arr)
    np.testing.assert_array_equal(_cache.parse_idx(data), arr)
    wide = np.array([1, -2, 70000], ">i4")
    got = _cache.parse_idx(bytes([0, 0, 0x0C, 1]) + np.array([3], ">u4").tobytes() + wide.tobytes())
    assert got.tolist() == [1, -2, 70000] and got.dtype == np.int32
    with pytest.raises(ValueError, match="truncated"):
        _cache.parse_idx(data[:-1])
    with pytest.raises(ValueError, match="truncated"):
        _cache.parse_idx(data[:6])
    with pytest.raises(ValueError, match="magic"):
        _cache.parse_idx(b"\x01\x02\x08\x03" + data[4:])
    with pytest.raises(ValueError, match="magic"):
        _cache.parse_idx(b"")


@needs_data
def test_mnist_tampered_idx(tmp_path, monkeypatch, offline):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in mnist.IDX_FILES:
        src = os.path.join(SHARED, "mnist", name + ".gz")
        if name == "train-labels-idx1-ubyte":
            raw = bytearray(gzip.decompress(open(src, "rb").read()))
            raw[100] = (raw[100] + 1) % 10  # one label changed
            (folder / name).write_bytes(bytes(raw))  # uncompressed copy
        else:
            shutil.copy(src, folder / (name + ".gz"))
    monkeypatch.setenv("AENN_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="Checksum mismatch.*train-labels"):
        mnist.load_data()
    # truncated gzip
    (folder / "train-labels-idx1-ubyte").unlink()
    data = open(os.path.join(SHARED, "mnist", "train-labels-idx1-ubyte.gz"), "rb").read()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        mnist.load_data()


def test_mnist_tampered_npz(tmp_path, monkeypatch, offline):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((1, 28, 28), np.uint8))
    monkeypatch.setenv("AENN_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="Checksum mismatch"):
        mnist.load_data()


def test_mnist_offline_message(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("AENN_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data()
    msg = str(info.value)
    assert mnist.NPZ_URL in msg and str(tmp_path / "mnist.npz") in msg
    assert offline == [mnist.NPZ_URL]
    assert os.listdir(tmp_path) == []  # no partial file left


def test_download_checks_hash_and_is_atomic(tmp_path, monkeypatch):
    payload = b"hello"

    class Response(io.BytesIO):
        pass

    monkeypatch.setattr(_cache, "_urlopen", lambda url, timeout: Response(payload))
    dest = tmp_path / "sub" / "f.bin"
    good = _cache.sha256_bytes(payload)
    _cache.download("http://x/f.bin", str(dest), lambda d: _cache.check_sha256(d, good, "f"))
    assert dest.read_bytes() == payload
    dest.write_bytes(b"old")
    with pytest.raises(ValueError, match="Checksum mismatch"):
        _cache.download("http://x/f.bin", str(dest), lambda d: _cache.check_sha256(d, "0" * 64, "f"))
    assert dest.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path / "sub")) == ["f.bin"]


@pytest.mark.skipif(not os.path.isdir(fashion_mnist.SYSTEM_FOLDER),
                    reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_system_folder(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("AENN_DATA_DIR", str(tmp_path))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_test.shape == (10000,) and x_test.shape == (10000, 28, 28)
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert offline == []


@pytest.mark.skipif(not os.path.isdir(fashion_mnist.SYSTEM_FOLDER),
                    reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_download_path(tmp_path, monkeypatch):
    # Serves the Debian files as if they came from the Keras mirror; the system folder is hidden.
    monkeypatch.setattr(fashion_mnist, "SYSTEM_FOLDER", str(tmp_path / "nowhere"))
    monkeypatch.setenv("AENN_DATA_DIR", str(tmp_path))
    served = []

    def fake(url, timeout):
        served.append(url)
        name = url.rsplit("/", 1)[-1]
        return io.BytesIO(open(os.path.join("/usr/share/datasets/fashion-mnist", name), "rb").read())

    monkeypatch.setattr(_cache, "_urlopen", fake)
    (x_train, _), (_, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and y_test.shape == (10000,)
    assert served[0] == _cache.KERAS_MIRROR + "train-images-idx3-ubyte.gz"
    assert sorted(os.listdir(tmp_path / "fashion-mnist")) == sorted(
        n + ".gz" for n in fashion_mnist.IDX_FILES)


def test_fashion_mnist_offline(tmp_path, monkeypatch, offline):
    monkeypatch.setattr(fashion_mnist, "SYSTEM_FOLDER", str(tmp_path / "nowhere"))
    monkeypatch.setenv("AENN_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz.*put it at"):
        fashion_mnist.load_data()


@needs_data
def test_nab_and_ecg(shared):
    t, v = nab.load_series("art_daily_small_noise")
    assert t.dtype == np.dtype("datetime64[s]") and v.dtype == np.float32
    assert len(t) == len(v) == 4032
    assert str(t[1]) == "2014-04-01T00:05:00"
    assert v[0] == np.float32(18.324918539200002)
    t2, _ = nab.load_series("art_daily_jumpsup.csv")
    assert len(t2) == 4032
    windows = nab.load_anomaly_windows("art_daily_jumpsup")
    assert len(windows) == 1 and t2[0] <= windows[0][0] < windows[0][1] <= t2[-1]
    labels, series = ecg5000.load_train()
    assert labels.shape == (500,) and series.shape == (500, 140) and series.dtype == np.float32
    assert set(labels.tolist()) <= {1, 2, 3, 4, 5} and labels[0] == 1


def test_nab_and_ecg_missing(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("AENN_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="not found"):
        nab.load_series("my_series")
    with pytest.raises(FileNotFoundError, match="raw.githubusercontent.com/numenta/NAB"):
        nab.load_series("art_daily_small_noise")
    with pytest.raises(FileNotFoundError, match="ECG5000_TRAIN.txt"):
        ecg5000.load_train()
    (tmp_path / "nab").mkdir()
    (tmp_path / "nab" / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="timestamp,value"):
        nab.load_series("bad")
