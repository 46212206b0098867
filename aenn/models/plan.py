"""The compiled training step of a Dense chain (DESIGN.md decision 6; C side: csrc/plan.c).

On the MLP benchmark (784 -> 64 -> 64 -> 10, batch 32) a step's kernels take ~0.1 ms and the
Python around them (the layer loop, the loss object, the optimizer's argument lists, the batch
gather, the metric update) about as much again. For the one model family where that matters --
a linear chain of Dense layers -- `fit` hands each step to one C call that gathers the batch,
runs forward, loss, backward and the fused optimizer update, and counts the accuracy hits. The
C step calls the same kernels with the same arguments in the same order as the Python path, so
weights, optimizer slots and History are bit-identical (tests/test_plan.py).

What is eligible (`DensePlan.for_fit` returns None otherwise and fit runs its usual path):
- a Sequential or functional model whose graph is a single chain of distinct `Dense` layers
  (built-in activation, 2-D input, no kernel/bias/activity regularizers or constraints, all
  trainable), no `add_loss`, one input and one output;
- loss: categorical / sparse categorical / binary crossentropy (from the softmax / sigmoid
  logits or not, as the Python path decides), mean squared error; default reduction, no label
  smoothing, loss weight 1;
- optimizer: SGD (with or without momentum, Nesterov), Adam (with amsgrad), RMSprop, Adagrad
  or Adadelta, a fixed learning rate or a schedule, no clipping or weight decay;
- metrics: none, or accuracy that resolves to categorical / sparse categorical accuracy;
- not `fit(profile=True)`, and the environment variable AENN_PLAN is not "0".

State stays Python's: the plan points into the model's weight arrays and the optimizer's slot
arrays, reads the learning rate and the iteration count each step, and the C step increments
`optimizer.iterations`, so callbacks, get/set_weights, saving and the Python path all see the
same objects. The plan checks every step that those arrays are still the same objects (a
`set_weights` that replaced one, a rebuilt optimizer, a frozen layer, a new compile) and
re-plans, or gives the step back to the Python path, when they are not. Until the optimizer
and the metrics are built (the first step of a model's first `fit`) steps run in Python, which
builds them exactly as before.
"""

from __future__ import annotations

import os

import numpy as np

from .. import _core, activations
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..layers.core import Dense

_SOFTMAX = -1        # AENN_PLAN_SOFTMAX
_LOSS_SPARSE = -1    # AENN_PLAN_LOSS_SPARSE
_METRIC_NONE, _METRIC_CATEGORICAL, _METRIC_SPARSE = 0, 1, 2

_FLOAT_LOSSES = (losses_module.CategoricalCrossentropy, losses_module.BinaryCrossentropy,
                 losses_module.MeanSquaredError)
# Optimizers whose step is `_hyper` + one fused update (Nadam also changes state in
# `_before_step`, so it stays on the Python path).
_OPTIMIZERS = (optimizers_module.SGD, optimizers_module.Adam, optimizers_module.RMSprop,
               optimizers_module.Adagrad, optimizers_module.Adadelta)

# Steps run by a plan since import (tests read it to tell the plan was, or was not, used).
steps_run = 0


def enabled():
    return os.environ.get("AENN_PLAN", "1") != "0"


def _dense_chain(model):
    """The model's Dense layers in order when its graph is a plain chain of eligible Dense
    layers, else None."""
    nodes = getattr(model, "_nodes", None)
    if not nodes or len(model._inputs) != 1 or len(model._outputs) != 1:
        return None
    if getattr(model, "_loss_tensors", None) or getattr(model, "_loss_nodes", None) \
            or model._callable_losses or model._consumers.get(id(model._outputs[0])):
        return None
    if not model.trainable:
        return None
    layers, prev = [], model._inputs[0]
    for node in nodes:
        layer = node.layer
        if type(layer) is not Dense or not node.single_input or not node.single_output:
            return None
        if node.inbound_tensors[0] is not prev or any(layer is l for l in layers):
            return None
        if (layer.kernel_regularizer is not None or layer.bias_regularizer is not None
                or layer.activity_regularizer is not None or layer.kernel_constraint is not None
                or layer.bias_constraint is not None or not layer.trainable
                or type(layer.activation) is not activations.Activation
                or len(layer.kernel.shape) != 2):
            return None
        layers.append(layer)
        prev = node.outbound_tensors[0]
    return layers if prev is model._outputs[0] else None


class DensePlan:
    """Runs the training steps of one `fit` call through `_core.plan_step` (see the module
    docstring). `step(idx)` returns the batch loss, or None: then the caller runs the Python
    step for this batch."""

    def __init__(self, model, layers, x_all, y_all, batch_size):
        self.model = model
        self.layers = layers
        self.x_all = x_all
        self.y_all = y_all
        self.batch_size = batch_size
        self.capsule = None
        self.dead = False

    @classmethod
    def for_fit(cls, model, xs, ya, batch_size, prof):
        """A plan for this fit, or None when the model/loss/optimizer/data are not eligible
        (checked again when the plan is built after the first step)."""
        if prof is not None or ya is None or len(xs) != 1 or not enabled():
            return None
        x = xs[0]
        layers = _dense_chain(model)
        if layers is None or x.ndim != 2 or x.dtype != np.float32 or not x.flags.c_contiguous \
                or x.shape[1] != layers[0].kernel.shape[0]:
            return None
        loss, opt = model.loss, model.optimizer
        n, cols = x.shape[0], layers[-1].units
        if type(loss) is losses_module.SparseCategoricalCrossentropy:
            if ya.shape not in ((n,), (n, 1)):
                return None
        elif type(loss) in _FLOAT_LOSSES:
            if ya.shape != (n, cols) and not (cols == 1 and ya.shape == (n,)):
                return None
            if getattr(loss, "label_smoothing", 0.0):
                return None
        else:
            return None
        if loss.reduction != "sum_over_batch_size" or model._loss_weight != 1.0:
            return None
        if type(opt) not in _OPTIMIZERS or not _plain_optimizer(opt):
            return None
        if ya.dtype != np.float32 or not ya.flags.c_contiguous:
            return None
        return cls(model, layers, x, ya, batch_size)

    # ----- building ---------------------------------------------------------------------------
    def _build(self):
        """Allocates the buffers and creates the C plan; False if the model is not (or no
        longer) eligible or not ready (optimizer or metrics not built yet)."""
        model, layers = self.model, self.layers
        self.capsule = None
        chain = _dense_chain(model)
        if chain is None or len(chain) != len(layers) or any(
                a is not b for a, b in zip(chain, layers)) or not model._optimizer_is_built():
            return False
        opt, loss = model.optimizer, model.loss
        if not _plain_optimizer(opt):
            return False
        step_plan = model._step_plan()
        expected = [w for l in layers for w in ([l.kernel, l.bias] if l.use_bias else [l.kernel])]
        if len(step_plan.trainable) != len(expected) or any(
                a is not b for a, b in zip(step_plan.trainable, expected)):
            return False
        # Metrics: built by the first (Python) step; only the accuracies are counted in C.
        sparse = type(loss) is losses_module.SparseCategoricalCrossentropy
        metric = _METRIC_NONE
        mets = model._metrics
        if mets is None and model._metric_ids:
            return False
        for m in mets or []:
            if type(m) is metrics_module.CategoricalAccuracy and not sparse \
                    and self.y_all.ndim == 2:
                kind = _METRIC_CATEGORICAL
            elif type(m) is metrics_module.SparseCategoricalAccuracy and sparse:
                kind = _METRIC_SPARSE
            else:
                self.dead = True
                return False
            metric = kind
        # Loss: what Trainer._compute_loss does (logits when the loss supports them).
        last = layers[-1].activation.name
        on_logits = last in ("sigmoid", "softmax") and loss.supports_logits(last)
        if sparse:
            kind, from_logits, param = _LOSS_SPARSE, int(on_logits or loss.from_logits), 0.0
        else:
            kind = loss._logits_kind if (on_logits or loss.from_logits) else loss._prob_kind
            from_logits, param = 0, loss._param
            if kind is None:
                self.dead = True
                return False
        cap = min(self.batch_size, self.x_all.shape[0])  # rows of every buffer
        f32 = np.float32
        specs = []
        for i, layer in enumerate(layers):
            act = layer.activation
            units = layer.units
            z = np.empty((cap, units), f32)
            y = z if act.is_linear else np.empty((cap, units), f32)
            skip_act = act.is_linear or (i == len(layers) - 1 and on_logits)
            dz = None if skip_act else np.empty((cap, units), f32)
            kernel = layer.kernel.value
            bias = layer.bias.value if layer.use_bias else None
            specs.append((kernel, bias, _SOFTMAX if act.name == "softmax" else act._kind,
                          act.alpha, z, y, np.empty((cap, units), f32), dz,
                          np.empty_like(kernel), None if bias is None else np.empty_like(bias)))
        x = np.empty((cap, layers[0].kernel.shape[0]), f32)
        yt = None if sparse else np.empty((cap, layers[-1].units), f32)
        labels = np.empty(cap, np.int32) if sparse else None
        chunks = (cap + _core.CHUNK - 1) // _core.CHUNK
        loss_spec = (kind, param, from_logits, int(on_logits), np.empty(cap, f32),
                     np.empty(chunks, np.float64))
        variables = step_plan.trainable
        slot_vars = []
        nslots = opt._num_slots()
        for var in variables:
            pos = opt._index.get(id(var))
            if pos is None or len(opt._slots[pos]) != nslots:
                return False
            slot_vars.extend(opt._slots[pos])
        params = [v.value for v in variables]
        slots = [s.value for s in slot_vars]
        self.capsule = _core.plan_create(specs, x, yt, labels, loss_spec,
                                         (opt._kind, params, slots, nslots, opt._iterations.value),
                                         metric)
        self.metrics = list(mets or [])
        self.metrics_list = mets
        self.step_plan = step_plan
        self.opt, self.loss = opt, loss
        self.opt_slots = opt._slots
        self.arrays = [(v, v.value) for v in list(variables) + slot_vars + [opt._iterations]]
        return True

    def _valid(self):
        """Whether the plan still points at the model's current objects."""
        m = self.model
        if m._step_plan() is not self.step_plan or m.optimizer is not self.opt \
                or m.loss is not self.loss or m._metrics is not self.metrics_list \
                or self.opt._slots is not self.opt_slots \
                or not _plain_optimizer(self.opt):
            return False
        for v, a in self.arrays:
            if v.value is not a:
                return False
        return True

    # ----- one step ---------------------------------------------------------------------------
    def step(self, idx):
        """Trains on the rows `idx` of the data; returns the batch loss, or None when the
        caller must run this step in Python."""
        global steps_run
        if self.dead:
            return None
        if self.capsule is None or not self._valid():
            if not self._build():
                return None
        opt = self.opt
        # Optimizer.apply: the learning rate in force, then the step's hyper-parameters.
        lr = opt.learning_rate
        h = opt._hyper(opt.iterations + 1, lr)
        if idx.dtype != np.int64:
            idx = idx.astype(np.int64)
        try:
            loss, hits = _core.plan_step(self.capsule, self.x_all, self.y_all, idx, h)
        except ValueError:
            return None  # a bad label: the Python step raises its usual error
        count = float(idx.shape[0])
        for m in self.metrics:  # what the accuracies' update_state adds
            m.total += float(hits)
            m.count += count
        steps_run += 1
        return loss


def _plain_optimizer(opt):
    return (opt.clipnorm is None and opt.clipvalue is None and opt.global_clipnorm is None
            and not opt.weight_decay)
