"""TensorBoard: per-epoch scalar logs under log_dir/train and log_dir/validation.

aenn does not depend on TensorFlow, so this callback does NOT write TensorFlow event files:
no TF event files, no graphs, no histograms, no images, no profiles, no embeddings. It writes
the per-epoch scalars as plain CSV and JSON-lines files that any tool (pandas, a spreadsheet,
``aenn`` plotting helpers) can read.
"""

from __future__ import annotations

import csv
import json
import os
import time
import warnings

from .monitor import Callback


class TensorBoard(Callback):
    """Logs per-epoch scalars in the TensorBoard folder layout, as CSV and JSON lines.

    **What it writes — and what it does not.** This callback writes NO TensorFlow event files,
    NO graphs and NO histograms (aenn has no TensorFlow dependency): the TensorBoard
    application itself cannot display its output. For each run it writes

    * ``log_dir/train/scalars.csv`` and ``log_dir/train/scalars.jsonl``: one row / one JSON
      object per epoch with ``epoch`` (0-based), ``wall_time`` (seconds since the epoch) and
      the training logs (``loss``, metrics, ``learning_rate`` of the optimizer);
    * ``log_dir/validation/scalars.csv`` and ``.jsonl``: the ``val_`` logs with the ``val_``
      prefix stripped (``loss``, metrics), as TensorBoard's ``validation`` run does.

    The CSV header is ``epoch,wall_time`` plus the first epoch's keys in alphabetical order;
    later keys that are missing are written as ``NA``. Files are overwritten when training
    starts.

    Args:
        log_dir: the folder for the logs, default ``"logs"``.
        histogram_freq, write_graph, write_images, write_steps_per_second, update_freq,
        profile_batch, embeddings_freq, embeddings_metadata: accepted for compatibility with
            Keras and **ignored** (a warning is issued when one asks for a histogram, image,
            profile or embedding that this callback cannot produce). ``update_freq`` other
            than ``"epoch"`` is ignored too: only per-epoch scalars are written.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        ignored = [name for name, value in (
            ("histogram_freq", histogram_freq), ("write_images", write_images),
            ("profile_batch", profile_batch), ("embeddings_freq", embeddings_freq),
        ) if value]
        if ignored:
            warnings.warn(
                "aenn's TensorBoard callback writes only per-epoch scalars (CSV and JSON "
                f"lines, no TF event files); ignoring {', '.join(ignored)}.",
                stacklevel=2,
            )
        self._writers = {}

    @property
    def train_dir(self):
        return os.path.join(self.log_dir, "train")

    @property
    def val_dir(self):
        return os.path.join(self.log_dir, "validation")

    def on_train_begin(self, logs=None):
        self._close()
        for run, folder in (("train", self.train_dir), ("validation", self.val_dir)):
            os.makedirs(folder, exist_ok=True)
            self._writers[run] = {
                "csv": open(os.path.join(folder, "scalars.csv"), "w", newline="",
                            encoding="utf-8"),
                "jsonl": open(os.path.join(folder, "scalars.jsonl"), "w", encoding="utf-8"),
                "keys": None,
                "writer": None,
            }

    def _write(self, run, epoch, scalars):
        if not scalars:
            return
        w = self._writers[run]
        now = time.time()
        if w["keys"] is None:
            w["keys"] = sorted(scalars)
            w["writer"] = csv.writer(w["csv"])
            w["writer"].writerow(["epoch", "wall_time"] + w["keys"])
        w["writer"].writerow([epoch, now] + [scalars.get(k, "NA") for k in w["keys"]])
        w["csv"].flush()
        record = {"epoch": epoch, "wall_time": now}
        record.update(scalars)
        w["jsonl"].write(json.dumps(record) + "\n")
        w["jsonl"].flush()

    def on_epoch_end(self, epoch, logs=None):
        if not self._writers:
            self.on_train_begin()
        logs = logs or {}
        train, val = {}, {}
        for key, value in logs.items():
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            if key.startswith("val_"):
                val[key[4:]] = value
            else:
                train[key] = value
        optimizer = getattr(self.model, "optimizer", None)
        if "learning_rate" not in train and optimizer is not None:
            try:
                train["learning_rate"] = float(optimizer.learning_rate)
            except (TypeError, ValueError, AttributeError):
                pass
        self._write("train", epoch, train)
        self._write("validation", epoch, val)

    def _close(self):
        for w in self._writers.values():
            w["csv"].close()
            w["jsonl"].close()
        self._writers = {}

    def on_train_end(self, logs=None):
        self._close()
