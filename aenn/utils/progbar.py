"""Keras 3 style progress bar.

    469/469 ━━━━━━━━━━━━━━━━━━━━ 3s 6ms/step - accuracy: 0.9712 - loss: 0.0950

On an interactive terminal or in Jupyter the line is redrawn in place (``\\r``) at most every
`interval` seconds, with the ETA while running and the elapsed time at the end. In
non-interactive output (pipes, CI logs, files) only the final line of each bar is written, so
logs stay readable. ``verbose=2`` writes one line at the end: ``469/469 - 3s - 6ms/step - ...``.
"""

from __future__ import annotations

import os
import sys
import time

_BAR_WIDTH = 20


def _is_interactive():
    if os.environ.get("AENN_PROGBAR_INTERACTIVE") is not None:
        return os.environ["AENN_PROGBAR_INTERACTIVE"] not in ("", "0", "false")
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def format_value(v):
    """`%.4f` when |v| > 1e-3, else `%.4e` (Keras)."""
    v = float(v)
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def format_eta(seconds):
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{(seconds % 3600) // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def format_per_unit(t, unit_name="step"):
    if t >= 1 or t == 0:
        return f"{t:.0f}s/{unit_name}"
    if t >= 1e-3:
        return f"{t * 1e3:.0f}ms/{unit_name}"
    return f"{t * 1e6:.0f}us/{unit_name}"


class Progbar:
    """Displays a progress bar.

    Args:
        target: total number of steps (None if unknown).
        width: bar width in characters (20).
        verbose: 0 silent, 1 bar, 2 one line at the end.
        interval: minimum seconds between redraws.
        stateful_metrics: names of values shown as given; other values are averaged over the
            steps seen (Keras). `True` means every value is shown as given.
        unit_name: "step" or "sample".
    """

    def __init__(self, target, width=_BAR_WIDTH, verbose=1, interval=0.05,
                 stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._all_stateful = stateful_metrics is True
        self.stateful_metrics = set() if stateful_metrics in (None, True) else set(
            stateful_metrics)
        self.interactive = _is_interactive()
        self._values = {}
        self._order = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first = None
        self._prev_width = 0
        self.current = 0
        self._seen = 0
        self._finalized = False

    @staticmethod
    def write(text):
        sys.stdout.write(text)
        sys.stdout.flush()

    def _record(self, current, values):
        for k, v in values or []:
            if k not in self._order:
                self._order.append(k)
            if self._all_stateful or k in self.stateful_metrics:
                self._values[k] = [float(v), 1]
            else:
                base = max(current - self._seen, 1)
                total, count = self._values.get(k, [0.0, 0])
                self._values[k] = [total + float(v) * base, count + base]
        self._seen = current

    def _metrics_text(self, sep=" - "):
        out = ""
        for k in self._order:
            total, count = self._values[k]
            out += f"{sep}{k}: {format_value(total / max(count, 1))}"
        return out

    def _per_unit(self, now, current):
        if current <= 0:
            return 0.0
        if self._time_after_first is not None and current > 1:
            return (now - self._time_after_first) / (current - 1)
        return (now - self._start) / current

    def render(self, current, now=None, finalize=False):
        """The bar line (without colours or carriage return) for step `current`."""
        now = time.time() if now is None else now
        elapsed = now - self._start
        target = self.target
        if target is not None:
            digits = len(str(target))
            done = int(self.width * min(current, target) / target) if target else self.width
            bar = "━" * self.width
            if self.interactive:
                bar = "\x1b[32m" + "━" * done + "\x1b[37m" + "━" * (self.width - done) + "\x1b[0m"
            counter = f"{current:>{digits}}/{target}"
            if self.interactive:
                counter = f"\x1b[1m{counter}\x1b[0m"
            line = f"{counter} {bar} "
        else:
            line = f"{current} "
        per_unit = self._per_unit(now, current)
        if finalize or target is None:
            line += f"{elapsed:.0f}s"
        else:
            line += format_eta(per_unit * (target - current))
        line += " " + format_per_unit(per_unit, self.unit_name)
        return line + self._metrics_text()

    def update(self, current, values=None, finalize=None):
        """Updates the bar to step `current` with `values` = [(name, value), ...]."""
        if current is None:
            current = self.current
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.time()
        if self._time_after_first is None and current >= 1:
            self._time_after_first = now
        self._record(current, values)
        self.current = current
        if self.verbose == 0 or self._finalized:
            return
        if self.verbose == 1:
            if not finalize and (not self.interactive
                                 or now - self._last_update < self.interval):
                return
            line = self.render(current, now, finalize)
            if self.interactive:
                visible = len(line)
                pad = " " * max(self._prev_width - visible, 0)
                self._prev_width = visible
                text = "\r" + line + pad
            else:
                text = line
            if finalize:
                text += "\n"
                self._finalized = True
            self.write(text)
            self._last_update = now
        elif self.verbose == 2 and finalize:
            elapsed = now - self._start
            count = f"{current}/{self.target}" if self.target is not None else f"{current}"
            line = (f"{count} - {elapsed:.0f}s - "
                    f"{format_per_unit(self._per_unit(now, current), self.unit_name)}"
                    f"{self._metrics_text()}")
            self.write(line + "\n")
            self._finalized = True

    def add(self, n, values=None):
        self.update(self.current + n, values)
