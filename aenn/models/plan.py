"""The compiled training step of a layer chain (DESIGN.md decision 6; C side: csrc/plan.c).

On the MLP benchmark (784 -> 64 -> 64 -> 10, batch 32) a step's kernels take ~0.1 ms and the
Python around them (the layer loop, the loss object, the optimizer's argument lists, the batch
gather, the metric update) about as much again; on the dense DAE (Dense -> BatchNormalization
-> Dropout -> LeakyReLU blocks, batch 256) the Python is ~2 ms of a ~18 ms step; on the NAB
Conv1D autoencoder ~10% of a ~5 ms step, on the conv denoiser and the convnet 7-10%. For
these model families -- a linear chain of layers -- `fit` hands each step to one C call that
gathers the batch, runs forward, loss, backward and the fused optimizer update, and counts the
accuracy hits. The C step calls the same kernels with the same arguments in the same order as
the Python path (with the same graph fusions, models/fusion.py), draws the same Dropout masks
(each Dropout layer's seed generator is advanced here, one draw per step, as
`aenn.random.bernoulli_mask` does), and updates the BatchNormalization moving statistics with
the same float32 arithmetic, so weights, moving statistics, optimizer slots and History are
bit-identical (tests/test_plan.py, tests/test_plan_conv.py).

What is eligible (`ChainPlan.for_fit` returns None otherwise and fit runs its usual path):
- a Sequential or functional model whose graph is a single chain of distinct layers, one input
  and one output, no `add_loss`, with at least one Dense or conv layer; each layer one of
  - `Dense` (built-in activation, no kernel/bias regularizers or constraints, trainable; on a
    2-D input),
  - `Conv1D`, `Conv2D`, `Conv1DTranspose`, `Conv2DTranspose` (built-in activation other than
    softmax, no kernel/bias regularizers, trainable); a Conv2D(relu) + MaxPooling2D(2) or an
    UpSampling2D(2) + Conv2D(3x3 same) pair that the Python forward fuses runs fused here too,
  - `MaxPooling1D/2D`, `AveragePooling1D/2D`, `UpSampling1D/2D` (nearest or bilinear),
  - `BatchNormalization` (trainable, so in training mode; no gamma/beta regularizers; on a
    2-D input),
  - `Dropout` (no `noise_shape`; rate 0 is the identity and is left out of the C chain),
  - `Activation` (built-in activation; softmax on a 2-D input), `LeakyReLU`, `ELU`,
    `Softmax`, `ReLU`,
  - `Flatten` (channels_last) and `Reshape`: on a sample's values in C order they are the
    identity, so they are no part of the C chain,
  none with an activity regularizer, none called with `training=False`; every shape but the
  batch known, and the data of the model input's shape, float32;
- loss: categorical / sparse categorical / binary crossentropy (from the softmax / sigmoid
  logits or not, as the Python path decides), mean squared error; default reduction, no label
  smoothing, loss weight 1; targets of the output's shape (sparse labels: a 2-D output);
- optimizer: SGD (with or without momentum, Nesterov), Adam (with amsgrad), RMSprop, Adagrad
  or Adadelta, a fixed learning rate or a schedule, no clipping or weight decay;
- metrics: none, or accuracy that resolves to categorical / sparse categorical accuracy (on a
  2-D output);
- the environment variable AENN_PLAN is not "0". Under `fit(profile=True)` (or a running
  `Profiler`) the C step times its parts and the profile shows them per layer.

State stays Python's: the plan points into the model's weight arrays (the moving statistics
included) and the optimizer's slot arrays, reads the learning rate, the iteration count and the
Dropout layers' generators each step, and the C step increments `optimizer.iterations`, so
callbacks, get/set_weights, saving and the Python path all see the same objects. The plan
checks every step that those arrays are still the same objects, that the graph's fusions are
those it was built with, and that the layers' hyper-parameters (rates, momentum, epsilon,
activations, pool sizes, trainable) are unchanged, and
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
from . import fusion as _fusion
from ..layers.activation import ELU, Activation, LeakyReLU, ReLU, Softmax
from ..layers.conv import Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose
from ..layers.core import Dense, Flatten, Reshape
from ..layers.pooling import AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D
from ..layers.upsampling import UpSampling1D, UpSampling2D
from ..layers.normalization import BatchNormalization
from ..layers.regularization import Dropout

_SOFTMAX = -1        # AENN_PLAN_SOFTMAX
_LOSS_SPARSE = -1    # AENN_PLAN_LOSS_SPARSE
_METRIC_NONE, _METRIC_CATEGORICAL, _METRIC_SPARSE = 0, 1, 2
# Layer kinds (csrc/plan.h)
_DENSE, _BATCHNORM, _DROPOUT, _ACTIVATION, _RELU, _CONV, _CONVPOOL, _UPCONV, _POOL, _UPSAMPLE = \
    range(10)

_FLOAT_LOSSES = (losses_module.CategoricalCrossentropy, losses_module.BinaryCrossentropy,
                 losses_module.MeanSquaredError)
# Optimizers whose step is `_hyper` + one fused update (Nadam also changes state in
# `_before_step`, so it stays on the Python path).
_OPTIMIZERS = (optimizers_module.SGD, optimizers_module.Adam, optimizers_module.RMSprop,
               optimizers_module.Adagrad, optimizers_module.Adadelta)
_ACT_LAYERS = (Activation, LeakyReLU, ELU, Softmax)
_CONV_TYPES = (Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose)
_POOL_TYPES = (MaxPooling2D, AveragePooling2D, MaxPooling1D, AveragePooling1D)
_UPSAMPLE_TYPES = (UpSampling2D, UpSampling1D)

# Steps run by a plan since import (tests read it to tell the plan was, or was not, used).
steps_run = 0


def enabled():
    return os.environ.get("AENN_PLAN", "1") != "0"


def _layer_act(layer):
    """The `activations.Activation` an eligible activation layer applies, else None."""
    act = layer.activation if type(layer) is Activation else layer._act()
    return act if type(act) is activations.Activation else None


def _eligible_layer(layer, in_ndim):
    """Whether a layer can be a (non-fused) layer of the C chain, on an input of in_ndim axes
    (batch included)."""
    kind = type(layer)
    if kind is Dense:
        return (layer.built and layer.kernel_regularizer is None and layer.bias_regularizer is None
                and layer.kernel_constraint is None and layer.bias_constraint is None
                and layer.trainable and type(layer.activation) is activations.Activation
                and len(layer.kernel.shape) == 2 and in_ndim == 2)
    if kind is BatchNormalization:
        # Not trainable: inference mode inside fit, which the plan does not run.
        return (layer.built and layer.trainable and layer.gamma_regularizer is None
                and layer.beta_regularizer is None and in_ndim == 2)
    if kind is Dropout:
        return layer.noise_shape is None and 0.0 <= layer.rate <= 1.0
    if kind in _ACT_LAYERS:
        act = _layer_act(layer)
        return act is not None and (act.name != "softmax" or in_ndim == 2)
    if kind in _CONV_TYPES:
        return (layer.built and layer.kernel_regularizer is None and layer.bias_regularizer is None
                and layer.trainable and type(layer.activation) is activations.Activation
                and layer.activation.name != "softmax" and layer.data_format == "channels_last")
    if kind in _POOL_TYPES or kind in _UPSAMPLE_TYPES:
        return getattr(layer, "data_format", "channels_last") == "channels_last"
    if kind is Flatten:
        return layer.data_format == "channels_last" or in_ndim <= 2
    return kind is ReLU or kind is Reshape


def _static(shape):
    """The per-sample shape of a graph tensor when every axis is known, else None."""
    rest = tuple(shape[1:])
    return rest if all(isinstance(d, int) for d in rest) else None


class _Unit:
    """One layer of the C chain: `layer` (a conv fused with its pool or upsample included),
    its per-sample input and output shapes, and for a conv the fusion: None, ("pool", mode)
    or ("upsample",)."""

    __slots__ = ("fusion", "in_shape", "layer", "out_shape")

    def __init__(self, layer, in_shape, out_shape, fusion=None):
        self.layer, self.in_shape, self.out_shape, self.fusion = layer, in_shape, out_shape, fusion

    @property
    def out(self):
        return int(np.prod(self.out_shape))


def _chain(model):
    """The model's layers as C chain units when its graph is a plain chain of eligible layers
    (with the fusions the Python forward pass makes, models/fusion.py) and at least one layer
    has weights, else None. Flatten and Reshape are no units: on a sample's values in C order
    they are the identity."""
    nodes = getattr(model, "_nodes", None)
    if not nodes or len(model._inputs) != 1 or len(model._outputs) != 1:
        return None
    if getattr(model, "_loss_tensors", None) or getattr(model, "_loss_nodes", None) \
            or model._callable_losses or model._consumers.get(id(model._outputs[0])):
        return None
    if not model.trainable:
        return None
    prev = model._inputs[0]
    if _static(prev.shape) is None:
        return None
    units, seen, pending = [], [], None
    for node, layer, _, _, _, _, _, _, role in model._forward_steps():
        if not node.single_input or not node.single_output:
            return None
        if node.inbound_tensors[0] is not prev or any(layer is l for l in seen):
            return None
        if layer.activity_regularizer is not None:
            return None
        kw = node.call_kwargs
        if "training" in kw and kw["training"] is not None and not kw["training"]:
            return None
        in_shape = _static(node.inbound_tensors[0].shape)
        out_shape = _static(node.outbound_tensors[0].shape)
        if in_shape is None or out_shape is None:
            return None
        seen.append(layer)
        prev = node.outbound_tensors[0]
        if role is _fusion.SKIPPED:        # an upsample run by the next Conv2D
            pending = in_shape
            continue
        if role is _fusion.POOLED:         # the pool of the Conv2D just before
            if not units or units[-1].fusion is None or units[-1].fusion[0] != "pool" \
                    or units[-1].layer is not seen[-2]:
                return None
            units[-1].out_shape = out_shape
            continue
        if not _eligible_layer(layer, 1 + len(in_shape)):
            return None
        if type(role) is _fusion.ConvPoolRole:
            units.append(_Unit(layer, in_shape, out_shape, ("pool", role.mode)))
        elif role is not None:             # the Conv2D of an upsample + conv pair
            if pending is None:
                return None
            units.append(_Unit(layer, pending, out_shape, ("upsample",)))
        elif type(layer) not in (Flatten, Reshape):
            units.append(_Unit(layer, in_shape, out_shape))
        pending = None
    if prev is not model._outputs[0] or pending is not None:
        return None
    if not any(type(u.layer) is Dense or type(u.layer) in _CONV_TYPES for u in units):
        return None
    return units


def _watched(units):
    """(layer, attribute) pairs whose values the plan was built from: a change re-plans.
    Dense layers are left out (their `trainable` is in the step plan's key, and the Dense-only
    chains, the MLP, keep their per-step cost)."""
    names = {BatchNormalization: ("momentum", "epsilon"),
             Dropout: ("rate", "noise_shape", "seed_generator"),
             Activation: ("activation",), LeakyReLU: ("_activation",), ELU: ("_activation",),
             Softmax: ("_activation",),
             ReLU: ("negative_slope", "max_value", "threshold")}
    for kind in _CONV_TYPES:
        names[kind] = ("activation",)
    for kind in _POOL_TYPES:
        names[kind] = ("pool_size", "strides", "padding")
    names[UpSampling2D] = names[UpSampling1D] = ("size", "interpolation")
    return [(u.layer, a) for u in units if type(u.layer) is not Dense
            for a in names[type(u.layer)] + ("trainable",)]


def _on_logits(model, last, loss):
    """Whether Trainer._compute_loss gives the loss the logits of the last unit
    (Functional._output_logits, then `loss.supports_logits`): only when that unit's layer makes
    the model's output (not a Flatten or Reshape after it); a conv + pool unit ends in the pool,
    which has none."""
    layer = last.layer
    if model._outputs[0].node.layer is not layer:
        return False
    if type(layer) is Dense or type(layer) in _CONV_TYPES:
        has_logits = layer.activation.name in ("sigmoid", "softmax") and (
            last.fusion is None or last.fusion[0] != "pool")
    elif type(layer) in _ACT_LAYERS:
        has_logits = layer._act().name in ("sigmoid", "softmax")
    else:
        has_logits = False  # Layer.logits_of
    if not has_logits:
        return False
    act = getattr(layer, "activation", None)
    name = getattr(act, "name", act if isinstance(act, str) else None)
    supports = getattr(loss, "supports_logits", None)
    return supports is not None and bool(supports(name))


def _trainable_weights(layer):
    """The layer's trainable weights in the optimizer's order, as the C plan lists them."""
    if type(layer) is Dense or type(layer) in _CONV_TYPES:
        return [layer.kernel, layer.bias] if layer.use_bias else [layer.kernel]
    if type(layer) is BatchNormalization:
        return [w for w in (layer.gamma, layer.beta) if w is not None]
    return []


def _conv_geometry(unit):
    """The plan's 16 geometry ints of a conv unit (csrc/py/bind_plan.c): the 2-D kernels'
    shapes, strides, dilations and padding (a transpose: its crops), from the layer's own
    `_geometry` (the Python forward's arguments)."""
    layer = unit.layer
    in3 = (1,) * (3 - len(unit.in_shape)) + unit.in_shape  # (H, W, C); Conv1D: (1, L, C)
    conv_out = _static(layer.compute_output_shape((None,) + unit.in_shape))
    out3 = (1,) * (3 - len(conv_out)) + conv_out  # the conv's own output (before a pool)
    kh, kw = (1,) * (2 - layer.rank) + layer.kernel_size
    geom = layer._geometry(np.empty((0,) + in3, np.float32), list(out3[:2]))
    sh, sw, dh, dw = geom[:4]
    pads = (geom[4], 0, geom[5], 0) if layer.transpose else geom[4:8]
    return in3 + out3 + (kh, kw, sh, sw, dh, dw) + tuple(pads)


class ChainPlan:
    """Runs the training steps of one `fit` call through `_core.plan_step` (see the module
    docstring). `step(idx)` returns the batch loss, or None: then the caller runs the Python
    step for this batch."""

    def __init__(self, model, units, x_all, y_all, batch_size):
        self.model = model
        self.units = units
        self.x_all = x_all
        self.y_all = y_all
        self.batch_size = batch_size
        self.capsule = None
        self.dead = False
        self.prof_rows = None  # (profiler, its rows, the `times` slot of each) while profiling

    @classmethod
    def for_fit(cls, model, xs, ya, batch_size, prof):
        """A plan for this fit, or None when the model/loss/optimizer/data are not eligible
        (checked again when the plan is built after the first step)."""
        if ya is None or len(xs) != 1 or not enabled():
            return None
        x = xs[0]
        units = _chain(model)
        if units is None or x.ndim < 2 or x.dtype != np.float32 or not x.flags.c_contiguous:
            return None
        out_shape = _static(model._outputs[0].shape)  # = the last unit's values, maybe reshaped
        if x.shape[1:] != _static(model._inputs[0].shape) or not out_shape:
            return None
        loss, opt = model.loss, model.optimizer
        n = x.shape[0]
        if type(loss) is losses_module.SparseCategoricalCrossentropy:
            if ya.shape not in ((n,), (n, 1)) or len(out_shape) != 1:
                return None
        elif type(loss) in _FLOAT_LOSSES:
            if ya.shape != (n,) + out_shape and not (out_shape == (1,) and ya.shape == (n,)):
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
        return cls(model, units, x.reshape(n, -1), ya, batch_size)

    # ----- building ---------------------------------------------------------------------------
    def _build(self):
        """Allocates the buffers and creates the C plan; False if the model is not (or no
        longer) eligible or not ready (optimizer or metrics not built yet)."""
        model, units = self.model, self.units
        self.capsule = None
        chain = _chain(model)
        if chain is None or len(chain) != len(units) or any(
                a.layer is not b.layer or a.fusion != b.fusion for a, b in zip(chain, units)) \
                or not model._optimizer_is_built():
            return False
        opt, loss = model.optimizer, model.loss
        if not _plain_optimizer(opt):
            return False
        step_plan = model._step_plan()
        if step_plan.regularized:
            return False
        expected = [w for u in units for w in _trainable_weights(u.layer)]
        if len(step_plan.trainable) != len(expected) or any(
                a is not b for a, b in zip(step_plan.trainable, expected)):
            return False
        # Metrics: built by the first (Python) step; only the accuracies are counted in C.
        sparse = type(loss) is losses_module.SparseCategoricalCrossentropy
        metric = _METRIC_NONE
        mets = model._metrics
        if mets is None and model._metric_ids:
            return False
        out_shape = _static(model._outputs[0].shape)
        for m in mets or []:
            if type(m) is metrics_module.CategoricalAccuracy and not sparse \
                    and self.y_all.ndim == 2 and len(out_shape) == 1:
                kind = _METRIC_CATEGORICAL
            elif type(m) is metrics_module.SparseCategoricalAccuracy and sparse:
                kind = _METRIC_SPARSE
            else:
                self.dead = True
                return False
            metric = kind
        # Loss: what Trainer._compute_loss does (logits when the loss supports them).
        on_logits = _on_logits(model, units[-1], loss)
        if sparse:
            kind, from_logits, param = _LOSS_SPARSE, int(on_logits or loss.from_logits), 0.0
        else:
            kind = loss._logits_kind if (on_logits or loss.from_logits) else loss._prob_kind
            from_logits, param = 0, loss._param
            if kind is None:
                self.dead = True
                return False
        cap = min(self.batch_size, self.x_all.shape[0])  # rows of every buffer
        specs, drops, spec_layers = self._layer_specs(units, cap, on_logits)
        x = np.empty((cap, self.x_all.shape[1]), np.float32)
        cols = units[-1].out
        yt = None if sparse else np.empty((cap, cols), np.float32)
        labels = np.empty(cap, np.int32) if sparse else None
        # Loss._run works on (-1, last axis) rows of the prediction.
        loss_cols = out_shape[-1]
        rows = cap * (cols // loss_cols)
        chunks = (rows + _core.CHUNK - 1) // _core.CHUNK
        loss_spec = (kind, param, from_logits, int(on_logits), np.empty(rows, np.float32),
                     np.empty(chunks, np.float64), loss_cols)
        bn_width = max([u.out for u in units if type(u.layer) is BatchNormalization], default=0)
        bn_chunks = (cap + _core.CHUNK - 1) // _core.CHUNK
        bn_scratch = np.empty(2 * bn_chunks * bn_width + 2 * bn_width, np.float64) \
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
        self.spec_layers = spec_layers
        self.spec_backward = [bool(spec[1]) for spec in specs]
        self.sparse = sparse
        self.metrics = list(mets or [])
        self.metrics_list = mets
        self.step_plan = step_plan
        self.forward_steps = model._forward_steps()
        self.opt, self.loss = opt, loss
        self.opt_slots = opt._slots
        moving = [w for u in units if type(u.layer) is BatchNormalization
                  for w in (u.layer.moving_mean, u.layer.moving_variance)]
        self.arrays = [(v, v.value) for v in list(variables) + slot_vars + moving
                       + [opt._iterations]]
        self.watched = _watched(units)
        self.watched_values = [getattr(l, a) for l, a in self.watched]
        return True

    @staticmethod
    def _layer_specs(units, cap, on_logits):
        """The plan_create tuple of each unit (csrc/py/bind_plan.c), the Dropout layers that
        draw a mask each step, in order, and the layer of each tuple. A unit runs backward, as in
        Functional._backward_by_id, when it has trainable weights or an earlier unit has
        (need_dx: its input needs a gradient)."""
        f32 = np.float32
        specs, drops, spec_layers = [], [], []
        trained_before = False
        last = len(units) - 1
        for i, unit in enumerate(units):
            layer, units_out = unit.layer, unit.out
            kind = type(layer)
            need_dx = trained_before
            has_weights = bool(layer.trainable_weights)
            trained_before = trained_before or has_weights
            backward = int(need_dx or has_weights)
            if kind is Dropout and layer.rate == 0.0:
                continue  # the identity, forward and backward: nothing to run
            y, dy = np.empty((cap, units_out), f32), np.empty((cap, units_out), f32)
            if kind is Dense or kind in _CONV_TYPES:
                act = layer.activation
                kernel = layer.kernel.value
                bias = layer.bias.value if layer.use_bias else None
                dkernel, dbias = np.empty_like(kernel), None if bias is None else np.empty_like(bias)
            if kind is Dense or (kind in _CONV_TYPES and
                                 (unit.fusion is None or unit.fusion[0] == "upsample")):
                skip_act = act.is_linear or (i == last and on_logits)
                z = y if act.is_linear else np.empty((cap, units_out), f32)
                dz = None if skip_act else np.empty((cap, units_out), f32)
                if kind is Dense:
                    ckind = _DENSE
                    fields = (kernel, bias, _SOFTMAX if act.name == "softmax" else act._kind,
                              act.alpha, z, dz, dkernel, dbias)
                elif unit.fusion is None:
                    ckind = _CONV
                    fields = (kernel, bias, act._kind, act.alpha, z, dz, dkernel, dbias,
                              int(layer.transpose), _conv_geometry(unit))
                else:
                    ckind = _UPCONV
                    h, w, c = unit.in_shape
                    fields = (kernel, bias, act._kind, act.alpha, z, dz, dkernel, dbias,
                              (h, w, c, layer.filters))
            elif kind in _CONV_TYPES:  # Conv2D(relu) + its max pool
                ckind = _CONVPOOL
                geom = _conv_geometry(unit)
                pre = geom[3] * geom[4] * geom[5]
                m1 = unit.fusion[1] == "m1"
                z = None if m1 else np.empty((cap, pre), f32)
                dz = None if m1 and not need_dx else np.empty((cap, pre), f32)
                fields = (kernel, bias, z, dz, dkernel, dbias,
                          np.empty((cap, units_out), np.int32), int(m1), geom)
            elif kind in _POOL_TYPES:
                ckind = _POOL
                x4, (kh, kw, sh, sw, pt, pl), (oh, ow) = layer._geometry(
                    np.empty((0,) + unit.in_shape, f32))
                argmax = np.empty((cap, units_out), np.int32) if layer.mode == "max" else None
                fields = (argmax, x4.shape[1:] + (oh, ow, kh, kw, sh, sw, pt, pl))
            elif kind in _UPSAMPLE_TYPES:
                ckind = _UPSAMPLE
                if kind is UpSampling1D:
                    (t, c), size = unit.in_shape, (1, layer.size[0])
                    hwc = (1, t, c)
                else:
                    hwc, size = unit.in_shape, tuple(layer.size)
                fields = (int(layer.interpolation == "bilinear"), hwc + size)
            elif kind is BatchNormalization:
                ckind = _BATCHNORM
                gamma = layer.gamma.value if layer.gamma is not None else None
                beta = layer.beta.value if layer.beta is not None else None
                fields = (gamma, beta, layer.moving_mean.value, layer.moving_variance.value,
                          np.empty(units_out, f32), np.empty(units_out, f32),
                          np.empty(units_out, f32),
                          None if gamma is None else np.empty(units_out, f32),
                          None if beta is None else np.empty(units_out, f32),
                          layer.momentum, layer.epsilon)
            elif kind is Dropout:
                ckind = _DROPOUT
                keep = 1.0 - layer.rate
                fields = (np.empty((cap, units_out), f32), keep, 1.0 / keep if keep else 0.0)
                if keep:
                    drops.append(layer)
            elif kind is ReLU:
                ckind = _RELU
                fields = layer._args()
            else:
                ckind = _ACTIVATION
                act = _layer_act(layer)
                fields = (_SOFTMAX if act.name == "softmax" else act._kind, act.alpha)
                if i == last and on_logits:
                    # The loss's gradient is the previous layer's: backward returns dout.
                    dy, backward, need_dx = specs[-1][4], 0, False
            specs.append((ckind, backward, int(need_dx), y, dy) + fields)
            spec_layers.append(layer)
        return specs, drops, spec_layers

    def _valid(self):
        """Whether the plan still points at the model's current objects."""
        m = self.model
        if m._step_plan() is not self.step_plan or m.optimizer is not self.opt \
                or m._forward_steps() is not self.forward_steps \
                or m.loss is not self.loss or m._metrics is not self.metrics_list \
                or self.opt._slots is not self.opt_slots \
                or not _plain_optimizer(self.opt):
            return False
        for v, a in self.arrays:
            if v.value is not a:
                return False
        return not self.watched or [getattr(l, a) for l, a in self.watched] == self.watched_values

    # ----- one step ---------------------------------------------------------------------------
    def step(self, idx, prof=None):
        """Trains on the rows `idx` of the data; returns the batch loss, or None when the
        caller must run this step in Python. prof: the running Profiler, to which the C step's
        parts are added."""
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
            if prof is None:
                loss, hits = _core.plan_step(self.capsule, self.x_all, self.y_all, idx, h, draws)
            else:
                times = np.zeros(4 + 2 * len(self.spec_layers))
                loss, hits = prof.raw("plan_step")(self.capsule, self.x_all, self.y_all, idx, h,
                                                   draws, times)
                self._profile(prof, times)
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

    def _profile(self, prof, times):
        """Adds the C step's parts (plan_step's `times`, csrc/plan.h) to the profile: gather,
        each layer's forward, loss, the backward of each layer that ran (in the order they
        ran), optimizer, and the accuracy count when there is one."""
        cache = self.prof_rows
        if cache is None or cache[0] is not prof:
            layers, L = self.spec_layers, len(self.spec_layers)
            parts = [("batch gather", "step", 0)]
            parts += [(layer, "forward", 1 + i) for i, layer in enumerate(layers)]
            parts.append(("loss", "step", 1 + L))
            parts += [(layers[i], "backward", 2 + L + i) for i in range(L - 1, -1, -1)
                      if self.spec_backward[i]]
            parts.append(("optimizer", "step", 2 + 2 * L))
            if self.metrics:
                parts.append(("metrics + logs", "step", 3 + 2 * L))
            cache = self.prof_rows = (prof, [prof.row(a, b) for a, b, _ in parts],
                                      [i for _, _, i in parts])
        prof.add_c(cache[1], times[cache[2]].tolist())


def _plain_optimizer(opt):
    return (opt.clipnorm is None and opt.clipvalue is None and opt.global_clipnorm is None
            and not opt.weight_decay)
