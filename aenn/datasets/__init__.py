"""Data sets: MNIST and Fashion-MNIST as Keras returns them, plus the notebooks' NAB and ECG5000.

Files are read from the cache folder ``AENN_DATA_DIR`` (default ``~/.aenn/datasets``),
downloaded from public mirrors when missing, and SHA-256 checked. Sub-modules are imported on
first use so that ``import aenn`` stays fast.
"""

import importlib

__all__ = ["mnist", "fashion_mnist", "nab", "ecg5000", "data_dir"]


def data_dir():
    """The cache folder in use (``$AENN_DATA_DIR`` or ``~/.aenn/datasets``)."""
    from ._cache import data_dir as _data_dir

    return _data_dir()


def __getattr__(name):
    if name in ("mnist", "fashion_mnist", "nab", "ecg5000"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
