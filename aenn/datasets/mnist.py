"""MNIST handwritten digits, exactly as ``keras.datasets.mnist.load_data()`` returns them."""

from __future__ import annotations

import os

import numpy as np

from . import _cache

NPZ_URL = _cache.KERAS_MIRROR + "mnist.npz"
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

# SHA-256 of the decompressed IDX files (gzip bytes differ between mirrors, the content does not).
IDX_FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def _load_npz(path):
    _cache.check_sha256(path, NPZ_SHA256, path)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_data(path="mnist.npz"):
    """Loads the MNIST data set (60,000 training and 10,000 test images of digits 0-9).

    Looks in the cache folder ``AENN_DATA_DIR`` (default ``~/.aenn/datasets``) for, in order:
    Keras's ``mnist.npz`` (SHA-256 checked), then the four IDX files (``.gz`` or uncompressed)
    in its ``mnist/`` sub-folder (SHA-256 of the decompressed content checked); otherwise
    downloads ``mnist.npz`` from the Keras mirror into the cache.

    Args:
        path: the npz file name, relative to the cache folder (an absolute path is used as is).

    Returns:
        Tuple of NumPy arrays ``(x_train, y_train), (x_test, y_test)``: ``x_train`` uint8
        ``(60000, 28, 28)`` with values 0-255, ``y_train`` uint8 ``(60000,)`` with values 0-9,
        ``x_test`` uint8 ``(10000, 28, 28)``, ``y_test`` uint8 ``(10000,)``.

    Raises:
        FileNotFoundError: no local copy and the download failed (the message says what to
            download and where to put it).
        ValueError: a local file is corrupted, truncated or fails its checksum.
    """
    folder = _cache.data_dir()
    npz_path = os.path.join(folder, os.fspath(path))
    if os.path.isfile(npz_path):
        return _load_npz(npz_path)
    idx_folder = os.path.join(folder, "mnist")
    if all(_cache.find_file(name, [idx_folder]) for name in IDX_FILES):
        return _cache.load_idx_set("MNIST", IDX_FILES, [idx_folder], idx_folder, "")

    def verify(data):
        _cache.check_sha256(data, NPZ_SHA256, NPZ_URL)

    _cache.download(NPZ_URL, npz_path, verify, instructions=(
        f"MNIST was not found in {npz_path} nor as IDX files in {idx_folder}. Download "
        f"{NPZ_URL} on a machine with internet access and put it at {npz_path}, or set "
        "AENN_DATA_DIR to the folder that holds it."))
    return _load_npz(npz_path)
