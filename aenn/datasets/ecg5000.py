"""ECG5000 heartbeats (UCR Time Series Classification Archive), training split."""

from __future__ import annotations

import os

import numpy as np

from . import _cache

TRAIN_SHA256 = "0d96aff193311a6dc6111bf0dbd2f7d2313987fbf7a1da4a383d92563876057b"
UCR_URL = "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/"


def load_train():
    """Loads ``<AENN_DATA_DIR>/ecg5000/ECG5000_TRAIN.txt``.

    Returns:
        ``(labels, series)``: int64 labels ``(500,)`` (1 = normal heartbeat, 2-5 anomalies) and
        float32 series ``(500, 140)``.

    Raises:
        FileNotFoundError: the file is missing (the UCR archive is distributed as a password
            protected zip, so aenn does not download it).
        ValueError: the file is corrupted (wrong checksum or shape).
    """
    path = os.path.join(_cache.data_dir(), "ecg5000", "ECG5000_TRAIN.txt")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"ECG5000 not found at {path}. Get ECG5000_TRAIN.txt from the UCR Time Series "
            f"Classification Archive ({UCR_URL}, data set ECG5000) and put it there, or set "
            "AENN_DATA_DIR to the folder that holds ecg5000/."
        )
    _cache.check_sha256(path, TRAIN_SHA256, path)
    table = np.loadtxt(path, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 141:
        raise ValueError(f"{path}: expected 141 columns (label + 140 samples), got shape "
                         f"{table.shape}.")
    return table[:, 0].astype(np.int64), np.ascontiguousarray(table[:, 1:], dtype=np.float32)
