"""compile / fit / evaluate / predict and the *_on_batch methods (Keras 3 semantics).

Every training step: forward with ``training=True``; loss = compiled loss (from the cached logits
when the output layer ends in sigmoid/softmax and the loss supports it, as TensorFlow does)
+ Σ layer losses of the pass (``add_loss``, activity penalties / batch size) + penalties of
the trainable regularized weights + ``model.add_loss(callable)`` values; backward in reverse
graph order; one ``optimizer.apply(grads, trainable_variables)`` call.

Reported numbers (KERAS.md §10.3): running batch-size-weighted means over the epoch, with the
loss of each batch computed before that batch's update; ``val_*`` from one ``evaluate`` pass
at the epoch end in inference mode; log keys sorted alphabetically.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import metrics as metrics_module
from ..callbacks.callback import CallbackList
from ..utils.heap import keep_heap
from . import engine
from . import plan as _plan
from . import profiler as _profiler


class NotCompiledError(RuntimeError, ValueError):
    """Raised when training/evaluating a model that was never compiled."""


_NO_GRADS = {}
_F32 = np.dtype(np.float32)
_GRAPH_VERSION = None  # functional.GRAPH_VERSION, bound on first use (import cycle)


class _StepPlan:
    __slots__ = ("backward", "clear", "key", "leaf", "needs", "regularized", "trainable", "version",
                 "weights", "wkey")


def _layers_with_losses(model):
    """`model` and every layer under it, each once (what `engine._clear_losses` walks)."""
    out, seen, todo = [], set(), [model]
    while todo:
        layer = todo.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        todo.extend(layer._sublayers())
    return out


def _sorted_logs(logs):
    return {k: logs[k] for k in sorted(logs)}


def _serialize(obj, user_value):
    if isinstance(user_value, str) or user_value is None:
        return user_value
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return getattr(obj, "name", getattr(obj, "__name__", repr(obj)))


class Trainer:
    """Mixin holding the training loop; `Model` inherits it."""

    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.compile_config = None
        self.stop_training = False
        self.history = None
        self._callable_losses = []
        self._loss_tensors = []  # model.add_loss(KerasTensor), functional models only
        self._metric_ids = []
        self._metrics = None
        self._loss_weight = 1.0
        self._optimizer_built = False
        self._opt_var_ids = None
        self._opt_var_count = 0
        self._opt_last_vars = None  # the list `_apply_gradients` last checked against the ids
        self._shuffle_seed = None
        self._plan_cache = None

    # ----- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=None,
                jit_compile=None, auto_scale_loss=None, **kwargs):
        """Configures the model for training.

        Args:
            optimizer: name ("adam", "rmsprop", ...) or optimizer instance.
            loss: name ("mse", "binary_crossentropy", ...), Loss instance or fn(y_true, y_pred).
            metrics: list of names ("accuracy", "mse", ...), Metric instances or callables.
            loss_weights: a scalar (or a one-element list/dict) scaling the loss.
            Other Keras arguments (run_eagerly, jit_compile, ...) are accepted and ignored.
        """
        from .. import losses, optimizers

        if weighted_metrics:
            raise NotImplementedError("compile(weighted_metrics=...) is not supported by aenn.")
        for key in ("sample_weight_mode", "target_tensors", "distribute"):
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments {sorted(kwargs)}")
        self.optimizer = optimizers.get(optimizer)
        if loss is not None and self._graph_ready and len(self._outputs) > 1:
            raise NotImplementedError(
                f"Model {self.name!r} has {len(self._outputs)} outputs; aenn trains single-output "
                "models only.")
        self.loss = losses.get(loss) if loss is not None else None
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        elif isinstance(metrics, dict):
            raise NotImplementedError("compile(metrics=dict) is not supported; pass a list.")
        self._metric_ids = list(metrics)
        self._metrics = None
        w = loss_weights
        if isinstance(w, dict):
            w = list(w.values())
        if isinstance(w, (list, tuple)):
            if len(w) != 1:
                raise ValueError(f"Invalid value for argument `loss_weights`: expected one "
                                 f"weight for the single output, received loss_weights={w}")
            w = w[0]
        self._loss_weight = 1.0 if w is None else float(w)
        self._optimizer_built = False
        self._opt_var_ids = None
        self.compiled = True
        self.compile_config = {
            "optimizer": _serialize(self.optimizer, optimizer),
            "loss": _serialize(self.loss, loss),
            "metrics": [_serialize(m, m) if not isinstance(m, str) else m for m in metrics]
            or None,
            "loss_weights": loss_weights,
        }

    def add_loss(self, loss):
        """Adds a model-level loss.

        - A KerasTensor computed in this (functional) model's graph from its inputs, e.g. with
          `aenn.ops` (the Keras-2 VAE: ``vae.add_loss(ops.mean(kl))``): its mean is added to
          the loss of every batch (train and test) and its gradient flows into the graph.
        - A zero-argument callable returning a float: the value is added to the reported loss
          (train and test) but contributes no gradient (aenn has no autodiff).
        """
        if isinstance(loss, engine.KerasTensor):
            from .sequential import Sequential

            if isinstance(self, Sequential):
                raise NotImplementedError(
                    f"Model {self.name!r}: `add_loss(tensor)` needs a functional Model; a "
                    "Sequential model rebuilds its graph. Build the model functionally.")
            self._add_loss_tensor(loss)
            return
        if not callable(loss):
            raise TypeError(
                f"Model {self.name!r}: `add_loss` expects a KerasTensor of the model's graph or a "
                f"zero-argument callable returning a float (e.g. `lambda: 1e-3 * float(np.sum(layer.kernel.value ** 2))`), "
                f"received {type(loss).__name__}.")
        self._callable_losses.append(loss)

    # ----- helpers ----------------------------------------------------------------------------
    def _optimizer_is_built(self):
        """Whether the optimizer holds its slots (its own `built` flag when it has one, e.g.
        after `load_model` restored its state; else whether this model built it)."""
        if self.optimizer is None:
            return False
        built = getattr(self.optimizer, "built", None)
        return bool(built) if built is not None else self._optimizer_built

    def _assert_compiled(self, what):
        if not self.compiled:
            raise NotCompiledError(
                f"You must call `compile()` before using `{what}()` on model {self.name!r}.")

    def _step_plan(self):
        """What every step needs about the model's structure, computed once and reused
        while the graph (`functional.GRAPH_VERSION`), the layers' `trainable` flags and
        their weight lists are unchanged: the unique leaf layers, every layer whose
        `_losses` a pass resets, the weights in `model.weights` order, the trainable ones,
        the regularized trainable ones and the tensors that need a gradient."""
        global _GRAPH_VERSION
        if _GRAPH_VERSION is None:
            from .functional import GRAPH_VERSION as _GRAPH_VERSION
        plan = self._plan_cache
        version = _GRAPH_VERSION[0]
        if plan is not None and plan.version == version:
            key = tuple([(l._trainable, len(l.weights_list)) for l in plan.leaf])
            if key == plan.key and tuple([w._trainable for w in plan.weights]) == plan.wkey:
                return plan
        plan = _StepPlan()
        plan.version = version
        plan.leaf = self._unique_leaf_layers()
        plan.key = tuple([(l._trainable, len(l.weights_list)) for l in plan.leaf])
        plan.weights = self.weights
        plan.wkey = tuple([w._trainable for w in plan.weights])
        plan.trainable = [w for w in plan.weights if w.trainable]
        plan.regularized = [w for w in plan.trainable if w.regularizer is not None]
        plan.clear = _layers_with_losses(self)
        plan.needs = self._needs_grad(False)
        plan.backward = self._backward_plan(plan.needs)
        self._plan_cache = plan
        return plan

    def _weight_penalties(self, plan=None):
        values, grads = [], {}
        if plan is not None:
            variables = plan.regularized
        else:
            variables = self.trainable_weights if self._graph_ready else []
        for var in variables:
            reg = var.regularizer
            if reg is not None:
                values.append(float(reg(var.value)))
                grads[id(var)] = np.asarray(reg.grad(var.value), dtype=np.float32)
        return values, grads

    def _prepare_x(self, x, argname="x", build=True):
        if x is None:
            raise ValueError(f"Invalid value for argument `{argname}`: expected an array, "
                             "received None.")
        if isinstance(x, dict):
            raise NotImplementedError(f"Dict inputs for `{argname}` are not supported.")
        multi = isinstance(x, (list, tuple)) and len(x) > 0 and all(
            isinstance(a, np.ndarray) for a in x) and (
            not self._graph_ready or len(self._inputs) > 1)
        arrays = [self._to_array(a, argname) for a in (x if multi else [x])]
        n = arrays[0].shape[0]
        for a in arrays[1:]:
            if a.shape[0] != n:
                raise ValueError(f"All input arrays of `{argname}` must have the same number of "
                                 f"samples; received shapes {[a.shape for a in arrays]}.")
        if not self._graph_ready:
            if not build:
                raise ValueError(f"Model {self.name!r} is not built.")
            if len(arrays) != 1:
                raise ValueError("An unbuilt Sequential model takes a single input array.")
            self.build((None,) + arrays[0].shape[1:])
        if len(arrays) != len(self._inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self._inputs)} input(s), "
                             f"received {len(arrays)} array(s) for `{argname}`.")
        for a, t in zip(arrays, self._inputs):
            expected = t.shape
            if a.ndim != len(expected) or any(
                    e is not None and e != s for e, s in zip(expected[1:], a.shape[1:])):
                raise ValueError(
                    f"Invalid input shape for input {t.name!r} of model {self.name!r}: expected "
                    f"shape {expected}, received `{argname}` with shape {a.shape}."
                )
        return arrays

    @staticmethod
    def _to_array(a, argname):
        if isinstance(a, engine.KerasTensor):
            raise TypeError(f"Invalid value for argument `{argname}`: expected a NumPy array, "
                            "received a symbolic KerasTensor.")
        arr = np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"Invalid dtype for argument `{argname}`: expected a real numeric array, "
                f"received dtype {arr.dtype} (shape {arr.shape}).")
        if arr.ndim == 0:
            raise ValueError(f"Invalid value for argument `{argname}`: expected an array with a "
                             f"batch axis, received a scalar {arr!r}.")
        if arr.shape[0] == 0 or arr.size == 0:
            raise ValueError(f"Invalid value for argument `{argname}`: received an empty array "
                             f"of shape {arr.shape}.")
        if arr.dtype == np.float32 and arr.flags.c_contiguous:
            # No copy of the caller's data (a second copy of a training set doubles the
            # memory): a read-only view, so that nothing in aenn can write into it (the C
            # bindings refuse read-only outputs).
            out = arr.view(np.ndarray)
            out.flags.writeable = False
        else:
            out = np.array(arr, dtype=np.float32, order="C", copy=True)
        if arr.dtype.kind == "f":
            # min/max propagate NaN and see ±inf; unlike np.isfinite(out).all() they need no
            # array-sized temporary.
            lo, hi = out.min(), out.max()
            if not (math.isfinite(lo) and math.isfinite(hi)):
                bad = "NaN" if math.isnan(lo) or math.isnan(hi) else "inf"
                raise ValueError(f"Invalid value for argument `{argname}`: the array (shape "
                                 f"{arr.shape}) contains {bad} values.")
        return out

    def _prepare_xy(self, x, y, require_y=True, xname="x", yname="y"):
        xs = self._prepare_x(x, xname)
        if y is None:
            if require_y and self.loss is not None:
                raise ValueError(f"Invalid value for argument `{yname}`: the model was compiled "
                                 f"with loss {getattr(self.loss, 'name', self.loss)!r} and needs "
                                 "targets; received y=None.")
            return xs, None
        if isinstance(y, (list, tuple)) and not isinstance(y, np.ndarray) and len(self._outputs) == 1 \
                and len(y) == 1:
            y = y[0]
        ya = self._to_array(y, yname)
        if ya.shape[0] != xs[0].shape[0]:
            raise ValueError(
                f"Arguments `{xname}` and `{yname}` must have the same number of samples; "
                f"received {xname} with shape {xs[0].shape} and {yname} with shape {ya.shape}.")
        return xs, ya

    @staticmethod
    def _check_batch_size(batch_size, argname="batch_size"):
        if batch_size is None:
            return 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size <= 0:
            raise ValueError(f"Invalid value for argument `{argname}`: expected a positive "
                             f"integer, received {argname}={batch_size!r}")
        return int(batch_size)

    @staticmethod
    def _verbose(verbose):
        if verbose == "auto":
            return 1
        if verbose not in (0, 1, 2):
            raise ValueError(f"Invalid value for argument `verbose`: expected 'auto', 0, 1 or 2, "
                             f"received verbose={verbose!r}")
        return int(verbose)

    def _x_input(self, xs):
        return xs[0] if self._single_input else xs

    def _build_metrics(self, y, y_pred):
        if self._metrics is None:
            self._metrics = [metrics_module.get(m, y, y_pred) for m in self._metric_ids]
        return self._metrics

    def _reset_metrics(self):
        for m in self._metrics or []:
            m.reset_state()

    def _compute_loss(self, y, y_pred, entries, plan=None):
        """(total loss, dloss/d(output or logits), from_logits, penalty grads) for one batch."""
        value, grad, from_logits = 0.0, None, False
        if self.loss is not None:
            logits, act = self._output_logits(entries)
            supports = getattr(self.loss, "supports_logits", None)
            if logits is not None and supports is not None and supports(act):
                value, grad = self.loss.value_and_grad(y, y_pred, logits=logits)
                from_logits = True
            else:
                value, grad = self.loss.value_and_grad(y, y_pred)
            value = float(value) * self._loss_weight
            if self._loss_weight != 1.0:
                grad = grad * np.float32(self._loss_weight)
        if plan is None:
            plan = self._step_plan()
        for layer in plan.leaf:
            if layer._losses:
                value += float(sum(layer._losses))
        if plan.regularized:
            penalties, pgrads = self._weight_penalties(plan)
            value += float(sum(penalties))
        else:
            pgrads = _NO_GRADS
        if self._callable_losses:
            value += float(sum(float(fn()) for fn in self._callable_losses))
        return value, grad, from_logits, pgrads

    def _train_batch(self, xs, y):
        prof = _profiler.ACTIVE
        loss, y_pred, grads, variables = self._compute_gradients(xs, y)
        if prof is not None:
            prof.push("optimizer", "step")
        try:
            self._apply_gradients(grads, variables)
        finally:
            if prof is not None:
                prof.pop()
        return loss, y_pred

    def _apply_gradients(self, grads, variables):
        if variables:
            ids = self._opt_var_ids
            if variables is self._opt_last_vars and ids is not None \
                    and self._opt_var_count == len(ids):
                # The step plan's (unchanged) list, checked against these ids last step.
                if self._optimizer_is_built():
                    self.optimizer.apply(grads, variables)
                    return
            if ids is None or len(variables) != self._opt_var_count or not all(
                    id(v) in ids for v in variables):
                ids = {id(v) for v in variables}
            if not self._optimizer_is_built():
                self.optimizer.build(variables)
                self._opt_var_ids = ids
            elif self._opt_var_ids is None:
                self._opt_var_ids = ids  # built elsewhere (e.g. restored by load_model)
            elif ids is not self._opt_var_ids and not ids <= self._opt_var_ids:
                # Weights were unfrozen since the optimizer was built: it has no slots for
                # them. Keras needs a new compile(); aenn rebuilds the optimizer state.
                warnings.warn(
                    f"Model {self.name!r}: the set of trainable weights changed since the "
                    "optimizer was built; its state (slots) is reset for the new set.",
                    stacklevel=3)
                self.optimizer.build(variables)
                self._opt_var_ids = ids
            self._opt_var_count = len(self._opt_var_ids)
            self._optimizer_built = True
            self._opt_last_vars = variables
            self.optimizer.apply(grads, variables)

    def _compute_gradients(self, xs, y):
        """(loss, y_pred, grads, trainable variables) of one batch in training mode."""
        prof = _profiler.ACTIVE
        plan = self._step_plan()
        for layer in plan.clear:
            layer._losses = []
        y_pred, entries = self.forward(self._x_input(xs), training=True)
        if prof is not None:
            prof.push("loss", "step")
        try:
            loss, dpred, from_logits, pgrads = self._compute_loss(y, y_pred, entries, plan)
        finally:
            if prof is not None:
                prof.pop()
        variables = plan.trainable
        if dpred is None:
            dpred = np.zeros_like(y_pred)
        _, by_id = self._backward_by_id(dpred, entries, need_dinputs=False,
                                        from_logits=from_logits, needs=plan.needs,
                                        plan=plan.backward)
        grads = []
        get = by_id.get
        for var in variables:
            g = get(id(var))
            if pgrads and id(var) in pgrads:
                g = pgrads[id(var)] if g is None else g + pgrads[id(var)]
            # None: the loss does not depend on this weight; the optimizer skips it (Keras).
            if g is not None and (type(g) is not np.ndarray or g.dtype is not _F32
                                  or not g.flags.c_contiguous):
                g = np.ascontiguousarray(g, dtype=np.float32)
            grads.append(g)
        return loss, y_pred, grads, variables

    def _test_batch(self, xs, y):
        engine._clear_losses(self)
        y_pred, entries = self.forward(self._x_input(xs), training=False)
        loss = None
        if y is not None or self.loss is None:
            loss = self._compute_loss(y, y_pred, entries)[0]
        return loss, y_pred

    def _update_metrics(self, y, y_pred):
        if y is None:
            return
        for m in self._build_metrics(y, y_pred):
            m.update_state(y, y_pred)

    def _logs(self, loss_tracker):
        logs = {"loss": float(loss_tracker.result())}
        for m in self._metrics or []:
            logs[m.name] = float(m.result())
        return _sorted_logs(logs)

    # ----- fit --------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, profile=False):
        """Trains the model for a fixed number of epochs (Keras 3 semantics).

        `validation_split` takes the *last* fraction of the samples (before shuffling);
        `shuffle=True` draws a fresh permutation every epoch from a seeded generator, so
        `aenn.utils.set_random_seed(s)` makes runs repeatable. Returns a `History`.

        Data checks (ValueError / TypeError naming the argument and the shapes): x/y sample
        count mismatch, rank or feature shape different from the model input, non-numeric
        dtypes (object, complex, strings, datetimes), empty arrays, NaN or inf values in float
        inputs (an error, not a warning), `batch_size <= 0`, `validation_split` outside [0, 1).
        float32 C-contiguous inputs are used in place (read-only views, no copy: a second copy
        of the training set would double its memory); others are converted once to float32
        C-contiguous copies. aenn never writes into the caller's arrays; values the caller
        changes in them during `fit` (e.g. from a callback) are used by the later batches.
        `class_weight` / `sample_weight` raise NotImplementedError.

        Differences from Keras: the model reads `layer.trainable` at every step (no recompile
        needed after freezing); a Sequential model built from data shows batch `None`.

        `profile=True` (an aenn extension) times every layer's forward and backward pass and
        the other parts of each training step (time inside C kernels and outside), prints the
        table at the end and stores it as a dict in `history.profile` (see
        `aenn.models.profiler`). Validation passes are not included. A model trained through the
        compiled C step (aenn/models/plan.py) is profiled on that path, its parts timed in C.
        """
        self._assert_compiled("fit")
        if class_weight is not None:
            raise NotImplementedError("fit(class_weight=...) is not supported by aenn.")
        if sample_weight is not None:
            raise NotImplementedError("fit(sample_weight=...) is not supported by aenn.")
        batch_size = self._check_batch_size(batch_size)
        verbose = self._verbose(verbose)
        for argname, v in (("epochs", epochs), ("initial_epoch", initial_epoch)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
                raise ValueError(f"Invalid value for argument `{argname}`: expected a "
                                 f"non-negative integer, received {argname}={v!r}")
        if not isinstance(validation_freq, numbers.Integral) or validation_freq < 1:
            raise ValueError("Invalid value for argument `validation_freq`: expected a positive "
                             f"integer, received validation_freq={validation_freq!r}")
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"Invalid value for argument `shuffle`: expected True, False or "
                             f"'batch', received shuffle={shuffle!r}")
        if not isinstance(validation_split, numbers.Real) or not 0.0 <= validation_split < 1.0:
            raise ValueError("Invalid value for argument `validation_split`: expected a float "
                             f"in [0, 1), received validation_split={validation_split!r}")
        xs, ya = self._prepare_xy(x, y)
        n = xs[0].shape[0]
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError(
                    "Invalid value for argument `validation_data`: expected a tuple (x_val, "
                    f"y_val), received {type(validation_data).__name__}")
            if len(validation_data) == 3 and validation_data[2] is not None:
                raise NotImplementedError("Validation sample weights are not supported.")
            val = self._prepare_xy(validation_data[0], validation_data[1], xname="x_val",
                                   yname="y_val")
        elif validation_split:
            split_at = math.floor(n * (1.0 - validation_split))
            if split_at == 0 or split_at == n:
                raise ValueError(
                    f"Training data contains {n} samples, which is not sufficient to split it "
                    f"into a validation and training set as specified by "
                    f"`validation_split={validation_split}`. Either provide more data, or a "
                    "different value for the `validation_split` argument.")
            val = ([a[split_at:] for a in xs], None if ya is None else ya[split_at:])
            xs = [a[:split_at] for a in xs]
            ya = None if ya is None else ya[:split_at]
            n = split_at
        val_batch_size = self._check_batch_size(validation_batch_size or batch_size,
                                                "validation_batch_size")
        full_steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            if not isinstance(steps_per_epoch, numbers.Integral) or steps_per_epoch <= 0:
                raise ValueError("Invalid value for argument `steps_per_epoch`: expected a "
                                 f"positive integer, received {steps_per_epoch!r}")
            steps = int(steps_per_epoch)
        else:
            steps = full_steps

        if shuffle and self._shuffle_seed is None:
            from .. import random as aenn_random

            self._shuffle_seed = aenn_random.SeedGenerator()
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=steps)
        if _profiler.ACTIVE is not None:  # inside a running `Profiler`: add to it
            self._fit_loop(cbs, xs, ya, n, val, epochs, initial_epoch, steps, steps_per_epoch,
                           batch_size, val_batch_size, validation_freq, shuffle,
                           _profiler.ACTIVE)
            return self.history
        if profile:
            prof = _profiler.Profiler()
            with prof:
                self._fit_loop(cbs, xs, ya, n, val, epochs, initial_epoch, steps, steps_per_epoch,
                               batch_size, val_batch_size, validation_freq, shuffle, prof)
            self.history.profile = prof.report()
            print(prof.format())
            return self.history
        self._fit_loop(cbs, xs, ya, n, val, epochs, initial_epoch, steps, steps_per_epoch,
                       batch_size, val_batch_size, validation_freq, shuffle, None)
        return self.history

    def _fit_loop(self, *args):
        with keep_heap():  # the step buffers' memory stays mapped between steps
            self._fit_epochs(*args)

    def _fit_epochs(self, cbs, xs, ya, n, val, epochs, initial_epoch, steps, steps_per_epoch,
                    batch_size, val_batch_size, validation_freq, shuffle, prof):
        self.stop_training = False
        loss_tracker = metrics_module.Mean(name="loss")
        cbs.on_train_begin()
        epoch_logs = {}
        order = np.arange(n)
        cursor = 0
        runner = _plan.ChainPlan.for_fit(self, xs, ya, batch_size, prof)  # None: Python steps
        for epoch in range(initial_epoch, epochs):
            loss_tracker.reset_state()
            self._reset_metrics()
            cbs.on_epoch_begin(epoch)
            if steps_per_epoch is None or cursor == 0:
                order = self._epoch_order(n, batch_size, shuffle)
            logs = {}
            # Per-batch hooks that do something (most fits have none): the batch logs are
            # only built when a callback takes them, else once at the end of the epoch.
            begin_hooks = cbs.active("on_train_batch_begin")
            end_hooks = cbs.active("on_train_batch_end")
            take = np.take
            train_batch = self._train_batch
            update_loss = loss_tracker.update_state
            for step in range(steps):
                if steps_per_epoch is not None:
                    if cursor >= n:
                        order = self._epoch_order(n, batch_size, shuffle)
                        cursor = 0
                    idx = order[cursor:cursor + batch_size]
                    cursor += len(idx)
                else:
                    idx = order[step * batch_size:(step + 1) * batch_size]
                if prof is not None:
                    prof.begin_step()
                    prof.push("callbacks", "step")
                for fn in begin_hooks:
                    fn(step, {})
                if prof is not None:
                    prof.pop()
                    prof.push("batch gather" if runner is None else "compiled step (Python)",
                              "step")
                loss = None if runner is None else runner.step(idx, prof)  # counts the metrics
                if loss is None:
                    if prof is not None and runner is not None:  # the plan gave the step back
                        prof.pop()
                        prof.push("batch gather", "step")
                    # np.take along the batch axis: a copy of the batch's rows, as a[idx]
                    # gives, without fancy indexing's overhead.
                    xb = [take(a, idx, axis=0) for a in xs]
                    yb = None if ya is None else take(ya, idx, axis=0)
                    if prof is not None:
                        prof.pop()
                    loss, y_pred = train_batch(xb, yb)
                else:
                    if prof is not None:
                        prof.pop()
                    yb = y_pred = None  # the plan counted the metrics
                if prof is not None:
                    prof.push("metrics + logs", "step")
                update_loss(loss, sample_weight=len(idx))
                self._update_metrics(yb, y_pred)
                if end_hooks:
                    logs = self._logs(loss_tracker)
                if prof is not None:
                    prof.pop()
                    prof.push("callbacks", "step")
                for fn in end_hooks:
                    fn(step, logs)
                if prof is not None:
                    prof.pop()
                    prof.end_step()
                if self.stop_training:
                    break
            if not end_hooks:
                logs = self._logs(loss_tracker)
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                if prof is not None:  # validation is not part of the profiled steps
                    _profiler.ACTIVE = None
                try:
                    val_logs = self._evaluate_arrays(val[0], val[1], val_batch_size, cbs)
                finally:
                    if prof is not None:
                        _profiler.ACTIVE = prof
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            epoch_logs = _sorted_logs(epoch_logs)
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)

    def _epoch_order(self, n, batch_size, shuffle):
        if not shuffle:
            return np.arange(n)
        from .. import random as aenn_random

        perm = np.asarray(aenn_random.permutation(n, seed=self._shuffle_seed), dtype=np.int64)
        if shuffle == "batch":
            # Keep the batches, shuffle the samples inside each one.
            out = np.arange(n)
            for start in range(0, n, batch_size):
                block = out[start:start + batch_size]
                sub = np.asarray(aenn_random.permutation(len(block), seed=self._shuffle_seed))
                out[start:start + batch_size] = block[sub]
            return out
        return perm

    # ----- evaluate / predict -----------------------------------------------------------------
    def _evaluate_arrays(self, xs, ya, batch_size, cbs):
        with keep_heap():
            return self._evaluate_batches(xs, ya, batch_size, cbs)

    def _evaluate_batches(self, xs, ya, batch_size, cbs):
        loss_tracker = metrics_module.Mean(name="loss")
        self._reset_metrics()
        n = xs[0].shape[0]
        steps = math.ceil(n / batch_size)
        cbs.on_test_begin()
        logs = {}
        for step in range(steps):
            cbs.on_test_batch_begin(step)
            sl = slice(step * batch_size, (step + 1) * batch_size)
            xb = [a[sl] for a in xs]
            yb = None if ya is None else ya[sl]
            loss, y_pred = self._test_batch(xb, yb)
            loss_tracker.update_state(loss, sample_weight=xb[0].shape[0])
            self._update_metrics(yb, y_pred)
            logs = self._logs(loss_tracker)
            cbs.on_test_batch_end(step, logs)
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss (and metrics) over the data in inference mode, batch-size weighted.

        Returns the loss, or `[loss, *metrics]` in compile order, or a dict when `return_dict`.
        """
        self._assert_compiled("evaluate")
        if sample_weight is not None:
            raise NotImplementedError("evaluate(sample_weight=...) is not supported by aenn.")
        batch_size = self._check_batch_size(batch_size)
        verbose = self._verbose(verbose)
        xs, ya = self._prepare_xy(x, y)
        n = xs[0].shape[0]
        if steps is not None:
            n = min(n, int(steps) * batch_size)
            xs = [a[:n] for a in xs]
            ya = None if ya is None else ya[:n]
        cbs = CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=1, steps=math.ceil(n / batch_size))
        logs = self._evaluate_arrays(xs, ya, batch_size, cbs)
        if return_dict:
            return dict(logs)
        ordered = [logs["loss"]] + [logs[m.name] for m in self._metrics or []]
        return ordered[0] if len(ordered) == 1 else ordered

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for `x`, computed in batches (32 by default) in inference mode."""
        batch_size = self._check_batch_size(batch_size)
        verbose = self._verbose(verbose)
        xs = self._prepare_x(x)
        n = xs[0].shape[0]
        if steps is not None:
            n = min(n, int(steps) * batch_size)
        n_steps = math.ceil(n / batch_size)
        cbs = CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=1, steps=n_steps)
        cbs.on_predict_begin()
        # Each batch's outputs are written into arrays for all n samples, allocated after the
        # first batch (a list of batches then a concatenate would hold the outputs twice).
        results = []
        with keep_heap():
            self._predict_batches(xs, n, batch_size, n_steps, cbs, results)
        cbs.on_predict_end()
        return results[0] if self._single_output else results

    def _predict_batches(self, xs, n, batch_size, n_steps, cbs, results):
        for step in range(n_steps):
            cbs.on_predict_batch_begin(step)
            sl = slice(step * batch_size, min((step + 1) * batch_size, n))
            engine._clear_losses(self)
            y, _ = self.forward(self._x_input([a[sl] for a in xs]), training=False)
            ys = [y] if self._single_output else y
            if not results:
                results.extend(np.empty((n,) + np.shape(o)[1:], dtype=np.result_type(o))
                               for o in ys)
            for out, o in zip(results, ys):
                out[sl] = o
            cbs.on_predict_batch_end(step, {"outputs": y})

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the batch's loss (and metrics)."""
        self._assert_compiled("train_on_batch")
        if sample_weight is not None or class_weight is not None:
            raise NotImplementedError("sample_weight/class_weight are not supported by aenn.")
        xs, ya = self._prepare_xy(x, y)
        self._reset_metrics()
        loss, y_pred = self._train_batch(xs, ya)
        return self._batch_result(loss, ya, y_pred, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) of one batch in inference mode."""
        self._assert_compiled("test_on_batch")
        if sample_weight is not None:
            raise NotImplementedError("sample_weight is not supported by aenn.")
        xs, ya = self._prepare_xy(x, y)
        self._reset_metrics()
        loss, y_pred = self._test_batch(xs, ya)
        return self._batch_result(loss, ya, y_pred, return_dict)

    def predict_on_batch(self, x):
        """Outputs for one batch in inference mode."""
        xs = self._prepare_x(x)
        engine._clear_losses(self)
        return self.forward(self._x_input(xs), training=False)[0]

    def _batch_result(self, loss, ya, y_pred, return_dict):
        self._update_metrics(ya, y_pred)
        tracker = metrics_module.Mean()
        tracker.update_state(loss)
        logs = self._logs(tracker)
        if return_dict:
            return logs
        ordered = [logs["loss"]] + [logs[m.name] for m in self._metrics or []]
        return ordered[0] if len(ordered) == 1 else ordered
