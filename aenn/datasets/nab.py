"""Numenta Anomaly Benchmark (NAB) series used by the time-series autoencoder notebooks."""

from __future__ import annotations

import csv
import json
import os

import numpy as np

from . import _cache

NAB_URL = "https://raw.githubusercontent.com/numenta/NAB/master/"

# name -> (folder in the NAB repository, SHA-256 of the CSV file)
SERIES = {
    "art_daily_small_noise": ("artificialNoAnomaly",
                              "c4b304229f69f108eaa024fb2406fcd4510c5c5d95cd0053e2da6989682e4e6d"),
    "art_daily_no_noise": ("artificialNoAnomaly",
                           "ccb7743ac2de8ca110db4af796d11ba31a23ad448a28e353a935c15f637756bc"),
    "art_daily_jumpsup": ("artificialWithAnomaly",
                          "f79f92b93ee4f9c10e2dc552505e8880b0c618639ed5e0f9816e044b75c26456"),
    "art_daily_jumpsdown": ("artificialWithAnomaly",
                            "4af31802e87dff4b4ba3ceb21714ba9d905f7888e1f53d47cc6dd4f856f9debc"),
    "art_daily_flatmiddle": ("artificialWithAnomaly",
                             "ea5df125947e9ee2b977ac3d341f3c2a029588862af97cae4a654fc56e838702"),
    "machine_temperature_system_failure": (
        "realKnownCause", "92bf5b87fc7f9bba8ca0b7ec63ccaac8cb4a1371a258e8c29a10ae9c018d82a4"),
}


def _path(name):
    folder = os.path.join(_cache.data_dir(), "nab")
    path = os.path.join(folder, name + ".csv")
    if os.path.isfile(path):
        return path
    if name not in SERIES:
        raise FileNotFoundError(
            f"NAB series {name!r} not found at {path}. Put the CSV file (columns "
            "timestamp,value) from the numenta/NAB repository's data/ folder there, or set "
            f"AENN_DATA_DIR. Known series that aenn can download: {sorted(SERIES)}."
        )
    sub, digest = SERIES[name]
    url = f"{NAB_URL}data/{sub}/{name}.csv"
    return _cache.download(
        url, path, lambda data: _cache.check_sha256(data, digest, url),
        instructions=(f"Download {url} on a machine with internet access and put it at {path}, "
                      "or set AENN_DATA_DIR to the folder that holds nab/."))


def load_series(name):
    """Loads one NAB series from ``<AENN_DATA_DIR>/nab/<name>.csv`` (downloaded when known).

    Args:
        name: the series name, e.g. ``"art_daily_small_noise"`` (a trailing ``.csv`` is
            accepted).

    Returns:
        ``(timestamps, values)``: a ``datetime64[s]`` array and a float32 array of the same
        length (5-minute steps for the ``art_daily_*`` series, 4,032 rows).

    Raises:
        FileNotFoundError: the file is missing and cannot be downloaded.
        ValueError: the file is not a ``timestamp,value`` CSV.
    """
    name = os.fspath(name)
    if name.endswith(".csv"):
        name = name[:-4]
    path = _path(name)
    stamps, values = [], []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["timestamp", "value"]:
            raise ValueError(f"{path} is not a NAB series: expected the header 'timestamp,value', "
                             f"found {header!r}.")
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                stamps.append(row[0].strip().replace(" ", "T"))
                values.append(float(row[1]))
            except (IndexError, ValueError):
                raise ValueError(f"{path}, line {line_no}: cannot parse {row!r} as "
                                 "timestamp,value.") from None
    try:
        times = np.array(stamps, dtype="datetime64[s]")
    except ValueError as e:
        raise ValueError(f"{path}: bad timestamp ({e}).") from None
    return times, np.asarray(values, dtype=np.float32)


def load_anomaly_windows(name):
    """The labelled anomaly windows of a series from ``<AENN_DATA_DIR>/nab/combined_windows.json``.

    Returns:
        A list of ``(start, end)`` pairs of ``datetime64[s]`` (empty for series without
        anomalies).
    """
    path = os.path.join(_cache.data_dir(), "nab", "combined_windows.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} not found. Download {NAB_URL}labels/combined_windows.json and put it there.")
    with open(path, encoding="utf-8") as f:
        windows = json.load(f)
    name = name[:-4] if name.endswith(".csv") else name
    for key, value in windows.items():
        if key.rsplit("/", 1)[-1] == name + ".csv":
            return [tuple(np.datetime64(s.replace(" ", "T")[:19], "s") for s in w) for w in value]
    raise ValueError(f"No NAB series named {name!r} in {path}.")
