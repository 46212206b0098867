"""The compiled training step of a layer chain (DESIGN.md decision 6; C side: csrc/plan.c).

On the MLP benchmark (784 -> 64 -> 64 -> 10, batch 32) a step's kernels take ~0.1 ms and the
Python around them (the layer loop, the loss object, the optimizer's argument lists, the batch
gather, the metric update) about as much again; on the dense DAE (Dense -> BatchNormalization
-> Dropout -> LeakyReLU blocks, batch 256) the Python is ~2 ms of a ~18 ms step. For these
model families -- a linear chain of Dense, BatchNormalization, Dropout and activation layers --
`fit` hands each step to one C call that gathers the batch, runs forward, loss, backward and
the fused optimizer update, and counts the accuracy hits. The C step calls the same kernels
with the same arguments in the same order as the Python path, draws the same Dropout masks
(each Dropout layer's seed generator is advanced here, one draw per step, as
`aenn.random.bernoulli_mask` does), and updates the BatchNormalization moving statistics with
the same float32 arithmetic, so weights, moving statistics, optimizer slots and History are
bit-identical (tests/test_plan.py).

What is eligible (`DensePlan.for_fit` returns None otherwise and fit runs its usual path):
- a Sequential or functional model whose graph is a single chain of distinct layers, one input
  and one output, no `add_loss`, with at least one Dense layer; each layer one of
  - `Dense` (built-in activation, no kernel/bias regularizers or constraints, trainable),
  - `BatchNormalization` (trainable, so in training mode; no gamma/beta regularizers),
  - `Dropout` (no `noise_shape`; rate 0 is the identity and is left out of the C chain),
  - `Activation` (built-in activation), `LeakyReLU`, `ELU`, `Softmax`, `ReLU`,
  none with an activity regularizer, none called with `training=False`; the input 2-D;
- loss: categorical / sparse categorical / binary crossentropy (from the softmax / sigmoid
  logits or not, as the Python path decides), mean squared error; default reduction, no label
  smoothing, loss weight 1;
- optimizer: SGD (with or without momentum, Nesterov), Adam (with amsgrad), RMSprop, Adagrad
  or Adadelta, a fixed learning rate or a schedule, no clipping or weight decay;
- metrics: none, or accuracy that resolves to categorical / sparse categorical accuracy;
- not `fit(profile=True)` nor inside a running `Profiler` (the profile times layers), and the
  environment variable AENN_PLAN is not "0".

State stays Python's: the plan points into the model's weight arrays (the moving statistics
included) and the optimizer's slot arrays, reads the learning rate, the iteration count and the
Dropout layers' generators each step, and the C step increments `optimizer.iterations`, so
callbacks, get/set_weights, saving and the Python path all see the same objects. The plan
checks every step that those arrays are still the same objects and that the layers'
hyper-parameters (rates, momentum, epsilon, activations, trainable) are unchanged, and
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
from .. import random as random_module
from ..layers.activation import ELU, Activation, LeakyReLU, ReLU, Softmax
from ..layers.core import Dense
from ..layers.normalization import BatchNormalization
from ..layers.regularization import Dropout

_SOFTMAX = -1        # AENN_PLAN_SOFTMAX
_LOSS_SPARSE = -1    # AENN_PLAN_LOSS_SPARSE
_METRIC_NONE, _METRIC_CATEGORICAL, _METRIC_SPARSE = 0, 1, 2
# Layer kinds (csrc/plan.h)
_DENSE, _BATCHNORM, _DROPOUT, _ACTIVATION, _RELU = 0, 1, 2, 3, 4

_FLOAT_LOSSES = (losses_module.CategoricalCrossentropy, losses_module.BinaryCrossentropy,
                 losses_module.MeanSquaredError)
# Optimizers whose step is `_hyper` + one fused update (Nadam also changes state in
# `_before_step`, so it stays on the Python path).
_OPTIMIZERS = (optimizers_module.SGD, optimizers_module.Adam, optimizers_module.RMSprop,
               optimizers_module.Adagrad, optimizers_module.Adadelta)
_ACT_LAYERS = (Activation, LeakyReLU, ELU, Softmax)

# Steps run by a plan since import (tests read it to tell the plan was, or was not, used).
steps_run = 0


def enabled():
    return os.environ.get("AENN_PLAN", "1") != "0"


def _layer_act(layer):
    """The `activations.Activation` an eligible activation layer applies, else None."""
    act = layer.activation if type(layer) is Activation else layer._act()
    return act if type(act) is activations.Activation else None


def _eligible_layer(layer):
    kind = type(layer)
    if kind is Dense:
        return (layer.built and layer.kernel_regularizer is None and layer.bias_regularizer is None
                and layer.kernel_constraint is None and layer.bias_constraint is None
                and layer.trainable and type(layer.activation) is activations.Activation
                and len(layer.kernel.shape) == 2)
    if kind is BatchNormalization:
        # Not trainable: inference mode inside fit, which the plan does not run.
        return (layer.built and layer.trainable and layer.gamma_regularizer is None
                and layer.beta_regularizer is None)
    if kind is Dropout:
        return layer.noise_shape is None and 0.0 <= layer.rate <= 1.0
    if kind in _ACT_LAYERS:
        return _layer_act(layer) is not None
    return kind is ReLU


def _dense_chain(model):
    """The model's layers in order when its graph is a plain chain of eligible layers with at
    least one Dense layer, else None."""
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
        if not node.single_input or not node.single_output:
            return None
        if node.inbound_tensors[0] is not prev or any(layer is l for l in layers):
            return None
        if layer.activity_regularizer is not None or not _eligible_layer(layer):
            return None
        kw = node.call_kwargs
        if "training" in kw and kw["training"] is not None and not kw["training"]:
            return None
        layers.append(layer)
        prev = node.outbound_tensors[0]
    if prev is not model._outputs[0] or not any(type(l) is Dense for l in layers):
        return None
    return layers


def _watched(layers):
    """(layer, attribute) pairs whose values the plan was built from: a change re-plans.
    Dense layers are left out (their `trainable` is in the step plan's key, and the Dense-only
    chains, the MLP, keep their per-step cost)."""
    names = {BatchNormalization: ("momentum", "epsilon"),
             Dropout: ("rate", "noise_shape", "seed_generator"),
             Activation: ("activation",), LeakyReLU: ("_activation",), ELU: ("_activation",),
             Softmax: ("_activation",),
             ReLU: ("negative_slope", "max_value", "threshold")}
    return [(layer, a) for layer in layers if type(layer) is not Dense
            for a in names[type(layer)] + ("trainable",)]


def _on_logits(last, loss):
    """Whether Trainer._compute_loss gives the loss the logits of the last layer
    (Functional._output_logits, then `loss.supports_logits`)."""
    if type(last) is Dense:
        has_logits = last.activation.name in ("sigmoid", "softmax")
    elif type(last) in _ACT_LAYERS:
        has_logits = last._act().name in ("sigmoid", "softmax")
    else:
        has_logits = False  # Layer.logits_of
    if not has_logits:
        return False
    act = getattr(last, "activation", None)
    name = getattr(act, "name", act if isinstance(act, str) else None)
    supports = getattr(loss, "supports_logits", None)
    return supports is not None and bool(supports(name))


def _trainable_weights(layer):
    """The layer's trainable weights in the optimizer's order, as the C plan lists them."""
    if type(layer) is Dense:
        return [layer.kernel, layer.bias] if layer.use_bias else [layer.kernel]
    if type(layer) is BatchNormalization:
        return [w for w in (layer.gamma, layer.beta) if w is not None]
    return []


def _widths(layers):
    """(input features, output features of each layer) of an eligible chain."""
    outs, width = [], None
    for layer in layers:
        if type(layer) is Dense:
            if width is None:
                width = layer.kernel.shape[0]
            width_out = layer.units
        elif type(layer) is BatchNormalization:
            if width is None:
                width = layer.moving_mean.shape[0]
            width_out = layer.moving_mean.shape[0]
        else:
            width_out = None  # elementwise: as its input
        outs.append(width_out)
    cur, widths = width, []
    for w in outs:
        cur = cur if w is None else w
        widths.append(cur)
    return width, widths


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
        if layers is None or x.ndim != 2 or x.dtype != np.float32 or not x.flags.c_contiguous:
            return None
        in_features, widths = _widths(layers)
        if x.shape[1] != in_features:
            return None
        loss, opt = model.loss, model.optimizer
        n, cols = x.shape[0], widths[-1]
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
        if step_plan.regularized:
            return False
        expected = [w for l in layers for w in _trainable_weights(l)]
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
        on_logits = _on_logits(layers[-1], loss)
        if sparse:
            kind, from_logits, param = _LOSS_SPARSE, int(on_logits or loss.from_logits), 0.0
        else:
            kind = loss._logits_kind if (on_logits or loss.from_logits) else loss._prob_kind
            from_logits, param = 0, loss._param
            if kind is None:
                self.dead = True
                return False
        cap = min(self.batch_size, self.x_all.shape[0])  # rows of every buffer
        specs, drops = self._layer_specs(layers, cap, on_logits)
        in_features, widths = _widths(layers)
        x = np.empty((cap, in_features), np.float32)
        yt = None if sparse else np.empty((cap, widths[-1]), np.float32)
        labels = np.empty(cap, np.int32) if sparse else None
        chunks = (cap + _core.CHUNK - 1) // _core.CHUNK
        loss_spec = (kind, param, from_logits, int(on_logits), np.empty(cap, np.float32),
                     np.empty(chunks, np.float64))
        bn_width = max([w for l, w in zip(layers, widths) if type(l) is BatchNormalization],
                       default=0)
        bn_scratch = np.empty(2 * chunks * bn_width + 2 * bn_width, np.float64) \
            if bn_width else None  # aenn_batchnorm_scratch_size(cap, bn_width)
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
                                         metric, bn_scratch)
        self.drops = drops
        self.sparse = sparse
        self.metrics = list(mets or [])
        self.metrics_list = mets
        self.step_plan = step_plan
        self.opt, self.loss = opt, loss
        self.opt_slots = opt._slots
        moving = [w for l in layers if type(l) is BatchNormalization
                  for w in (l.moving_mean, l.moving_variance)]
        self.arrays = [(v, v.value) for v in list(variables) + slot_vars + moving
                       + [opt._iterations]]
        self.watched = _watched(layers)
        self.watched_values = [getattr(l, a) for l, a in self.watched]
        return True

    @staticmethod
    def _layer_specs(layers, cap, on_logits):
        """The plan_create tuple of each layer (csrc/py/bind_plan.c) and the Dropout layers
        that draw a mask each step, in order. A layer runs backward, as in
        Functional._backward_by_id, when it has trainable weights or an earlier layer has
        (need_dx: its input needs a gradient)."""
        f32 = np.float32
        specs, drops = [], []
        _, widths = _widths(layers)
        trained_before = False
        last = len(layers) - 1
        for i, (layer, units) in enumerate(zip(layers, widths)):
            kind = type(layer)
            need_dx = trained_before
            has_weights = bool(layer.trainable_weights)
            trained_before = trained_before or has_weights
            backward = int(need_dx or has_weights)
            if kind is Dropout and layer.rate == 0.0:
                continue  # the identity, forward and backward: nothing to run
            y, dy = np.empty((cap, units), f32), np.empty((cap, units), f32)
            if kind is Dense:
                act = layer.activation
                skip_act = act.is_linear or (i == last and on_logits)
                z = y if act.is_linear else np.empty((cap, units), f32)
                kernel = layer.kernel.value
                bias = layer.bias.value if layer.use_bias else None
                fields = (kernel, bias, _SOFTMAX if act.name == "softmax" else act._kind,
                          act.alpha, z, None if skip_act else np.empty((cap, units), f32),
                          np.empty_like(kernel), None if bias is None else np.empty_like(bias))
            elif kind is BatchNormalization:
                gamma = layer.gamma.value if layer.gamma is not None else None
                beta = layer.beta.value if layer.beta is not None else None
                fields = (gamma, beta, layer.moving_mean.value, layer.moving_variance.value,
                          np.empty(units, f32), np.empty(units, f32), np.empty(units, f32),
                          None if gamma is None else np.empty(units, f32),
                          None if beta is None else np.empty(units, f32),
                          layer.momentum, layer.epsilon)
            elif kind is Dropout:
                keep = 1.0 - layer.rate
                fields = (np.empty((cap, units), f32), keep, 1.0 / keep if keep else 0.0)
                if keep:
                    drops.append(layer)
            elif kind is ReLU:
                fields = layer._args()
            else:
                act = _layer_act(layer)
                fields = (_SOFTMAX if act.name == "softmax" else act._kind, act.alpha)
                if i == last and on_logits:
                    # The loss's gradient is the previous layer's: backward returns dout.
                    dy, backward, need_dx = specs[-1][4], 0, False
            specs.append((kind_of(kind), backward, int(need_dx), y, dy) + fields)
        return specs, drops

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
        return not self.watched or [getattr(l, a) for l, a in self.watched] == self.watched_values

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
        # Dropout.forward: each drawing layer takes one draw of its generator, in layer order,
        # as aenn.random.bernoulli_mask does (draw_key advances the generator).
        draws = []
        saved = None
        if self.drops:
            if self.sparse:  # a bad label gives the step back: undo the draws then
                saved = [(g, g.counter) for g in (l.seed_generator for l in self.drops)
                         if isinstance(g, random_module.SeedGenerator)]
            draw_key = random_module.draw_key
            for layer in self.drops:
                draws.extend(draw_key(layer.seed_generator))
        try:
            loss, hits = _core.plan_step(self.capsule, self.x_all, self.y_all, idx, h, draws)
        except ValueError:
            for g, counter in reversed(saved or []):
                g.counter = counter
            return None  # a bad label: the Python step raises its usual error
        count = float(idx.shape[0])
        for m in self.metrics:  # what the accuracies' update_state adds
            m.total += float(hits)
            m.count += count
        steps_run += 1
        return loss


def kind_of(layer_type):
    """The C layer kind (csrc/plan.h) of an eligible layer type."""
    if layer_type is Dense:
        return _DENSE
    if layer_type is BatchNormalization:
        return _BATCHNORM
    if layer_type is Dropout:
        return _DROPOUT
    if layer_type is ReLU:
        return _RELU
    return _ACTIVATION


def _plain_optimizer(opt):
    return (opt.clipnorm is None and opt.clipvalue is None and opt.global_clipnorm is None
            and not opt.weight_decay)
