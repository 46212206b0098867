"""Per-layer profile of training steps: `model.fit(..., profile=True)`.

While a `Profiler` is active, the engine times every layer's forward and backward pass and the
other parts of a step (batch gather, loss, optimizer, metrics, callbacks), and every function of
`aenn._core` is wrapped so that the time spent inside C kernels is counted for the part that
called it. A model that `fit` trains through the compiled C step (aenn/models/plan.py) is
profiled on that path: the C step times its own parts (gather, each layer's forward and
backward, loss, optimizer, metric) and the Python around it shows as "compiled step (Python)"
and the rest of the step. Times are *self* times: a nested model's row excludes its own layers'
rows. The report gives, per row, calls, milliseconds per step (total and inside C), the share of the step,
and for the whole step the share spent outside C (Python, NumPy glue, allocation).

The wrappers add about a microsecond per kernel call, so the profiled run is slightly slower
than an unprofiled one; the shares stay meaningful.
"""

from __future__ import annotations

import time

ACTIVE = None  # the running Profiler, read by the engine at every forward/backward pass

_SKIP = ("get_num_threads", "set_num_threads")


class Profiler:
    """Accumulates self time and C time per (layer, pass) and per step section."""

    def __init__(self):
        self.rows = {}  # key -> [name, class, pass, calls, self seconds, C seconds]
        self._stack = []  # frames: [key, start, child seconds, C seconds]
        self.c_outside = 0.0  # C time inside a step with no frame open
        self._step_start = None
        self.steps = 0
        self.step_seconds = 0.0
        self._saved = {}

    # ----- activation -------------------------------------------------------------------------
    def __enter__(self):
        global ACTIVE
        if ACTIVE is not None:
            raise RuntimeError("A profile is already running (profiles do not nest).")
        from .. import _core

        clock = time.perf_counter
        stack = self._stack
        for name in dir(_core):
            fn = getattr(_core, name)
            if name.startswith("_") or name in _SKIP or not callable(fn) or isinstance(fn, type):
                continue
            self._saved[name] = fn

            def timed(*args, _fn=fn, **kwargs):
                t0 = clock()
                try:
                    return _fn(*args, **kwargs)
                finally:
                    dt = clock() - t0
                    if stack:
                        stack[-1][3] += dt
                    elif self._step_start is not None:
                        self.c_outside += dt

            setattr(_core, name, timed)
        ACTIVE = self
        return self

    def __exit__(self, *exc):
        global ACTIVE
        from .. import _core

        for name, fn in self._saved.items():
            setattr(_core, name, fn)
        self._saved = {}
        ACTIVE = None
        return False

    # ----- frames ---------------------------------------------------------------------------
    def _key(self, layer, pass_name):
        """The row key of `layer` (a Layer, or a section name string) and `pass_name`, the row
        created if new."""
        if isinstance(layer, str):
            key = (layer, "", pass_name)
            if key not in self.rows:
                self.rows[key] = [layer, "", pass_name, 0, 0.0, 0.0]
        else:
            key = (id(layer), layer.name, pass_name)
            if key not in self.rows:
                self.rows[key] = [layer.name, type(layer).__name__, pass_name, 0, 0.0, 0.0]
        return key

    def push(self, layer, pass_name):
        """Opens a frame for `layer` (a Layer, or a section name string) and `pass_name`."""
        self._stack.append([self._key(layer, pass_name), time.perf_counter(), 0.0, 0.0])

    def row(self, layer, pass_name):
        """The row of `layer` and `pass_name` (created if new), for `add_c`."""
        return self.rows[self._key(layer, pass_name)]

    def add_c(self, rows, seconds):
        """One call of each of `rows` (from `row`), parts timed inside C (the compiled step's
        layers and sections): seconds[i] is self time and C time of rows[i], and all of it a
        child's time of the open frame."""
        total = 0.0
        for row, sec in zip(rows, seconds):
            row[3] += 1
            row[4] += sec
            row[5] += sec
            total += sec
        if self._stack:
            self._stack[-1][2] += total

    def raw(self, name):
        """The `aenn._core` function `name` without the profile's timing wrapper."""
        from .. import _core

        return self._saved.get(name) or getattr(_core, name)

    def pop(self):
        key, start, child, c_time = self._stack.pop()
        elapsed = time.perf_counter() - start
        row = self.rows[key]
        row[3] += 1
        row[4] += elapsed - child
        row[5] += c_time
        if self._stack:
            self._stack[-1][2] += elapsed

    def section(self, name):
        """Context manager timing one part of the step (e.g. "loss", "optimizer")."""
        return _Section(self, name)

    def begin_step(self):
        self._step_start = time.perf_counter()

    def end_step(self):
        self.steps += 1
        self.step_seconds += time.perf_counter() - self._step_start
        self._step_start = None

    # ----- report ---------------------------------------------------------------------------
    def report(self):
        """A dict: step count, ms per step, ms in C, share outside C, and the rows."""
        steps = max(self.steps, 1)
        c_total = self.c_outside + sum(r[5] for r in self.rows.values())
        step_ms = 1e3 * self.step_seconds / steps
        c_ms = 1e3 * c_total / steps
        rows = [{"name": r[0], "class": r[1], "pass": r[2], "calls": r[3],
                 "ms_per_step": 1e3 * r[4] / steps, "c_ms_per_step": 1e3 * r[5] / steps}
                for r in self.rows.values()]
        timed = sum(r["ms_per_step"] for r in rows)
        rows.append({"name": "(rest of the step)", "class": "", "pass": "python",
                     "calls": self.steps, "ms_per_step": max(step_ms - timed, 0.0),
                     "c_ms_per_step": 1e3 * self.c_outside / steps})
        return {"steps": self.steps, "ms_per_step": step_ms, "c_ms_per_step": c_ms,
                "outside_c_ms_per_step": step_ms - c_ms,
                "outside_c_share": (step_ms - c_ms) / step_ms if step_ms > 0 else 0.0,
                "rows": rows}

    def format(self):
        rep = self.report()
        step = rep["ms_per_step"] or 1.0
        lines = [(f"{'layer / section':<28} {'class':<20} {'pass':<9} {'ms/step':>8} "
                 f"{'in C':>8} {'outside C':>9} {'share':>6}")]
        for r in rep["rows"]:
            lines.append(f"{str(r['name'])[:28]:<28} {r['class'][:20]:<20} {r['pass']:<9} "
                         f"{r['ms_per_step']:8.3f} {r['c_ms_per_step']:8.3f} "
                         f"{r['ms_per_step'] - r['c_ms_per_step']:9.3f} "
                         f"{100 * r['ms_per_step'] / step:5.1f}%")
        lines.append(f"{rep['steps']} steps, {rep['ms_per_step']:.3f} ms/step: "
                     f"{rep['c_ms_per_step']:.3f} ms in C kernels, "
                     f"{rep['outside_c_ms_per_step']:.3f} ms outside C "
                     f"({100 * rep['outside_c_share']:.1f}% of the step)")
        return "\n".join(lines)


class _Section:
    __slots__ = ("name", "prof")

    def __init__(self, prof, name):
        self.prof, self.name = prof, name

    def __enter__(self):
        self.prof.push(self.name, "step")

    def __exit__(self, *exc):
        self.prof.pop()
        return False
