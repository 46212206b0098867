"""CSVLogger: stream the epoch results to a CSV file."""

from __future__ import annotations

import csv
import os

from .monitor import Callback


class CSVLogger(Callback):
    """Writes one CSV row per epoch: ``epoch`` (0-based) then the log values.

    The columns are ``epoch`` followed by the first epoch's log keys in alphabetical order;
    when that epoch had no ``val_`` keys, ``val_<key>`` columns are added and filled with
    ``NA`` (Keras 3 behaviour, so validation every few epochs still fits the header).
    Python's ``csv`` excel dialect is used (``\\r\\n`` line ends), floats written with
    ``str(float)``.

    Args:
        filename: the CSV file path.
        separator: the field separator, default ``","``.
        append: append to an existing file (its header is not repeated) instead of
            overwriting it.

    Example:

    >>> model.fit(x, x, callbacks=[CSVLogger("training.log")])  # doctest: +SKIP
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        mode = "w"
        if self.append:
            if os.path.exists(self.filename) and os.path.getsize(self.filename) > 0:
                self.append_header = False
            mode = "a"
        else:
            self.append_header = True
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.csv_file is None:  # used without on_train_begin
            self.on_train_begin()

        def handle_value(k):
            if isinstance(k, str):
                return k
            if hasattr(k, "__len__") and not getattr(k, "ndim", 1) == 0:
                return f'"[{", ".join(map(str, k))}]"'
            try:
                return float(k)
            except (TypeError, ValueError):
                return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            if not any(k.startswith("val_") for k in self.keys):
                self.keys.extend(["val_" + k for k in self.keys])

        if self.writer is None:
            class CustomDialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=CustomDialect)
            if self.append_header:
                self.writer.writeheader()

        row = {"epoch": epoch}
        row.update((key, handle_value(logs[key]) if key in logs else "NA") for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None
