"""The functional Model: a DAG of layer calls, run forward and backward in topological order.

A Model is itself a Layer (``forward`` / ``backward`` with a cache), so models nest: calling
an encoder model on a KerasTensor adds one node to the outer graph, and the outer backward pass
calls the encoder's backward.
"""

from __future__ import annotations

import numpy as np

from .. import naming
from ..layers.layer import Layer, get_layer_class
from . import engine
from . import fusion as _fusion
from . import profiler as _profiler
from .engine import InputLayer, KerasTensor
from .training import Trainer

GRAPH_VERSION = [0]  # bumped whenever any model's graph changes (training step plans check it)


class _Entry:
    """What the forward pass keeps per node: the layer's cache, its outputs, losses it added."""

    __slots__ = ("act_reg", "added_loss", "cache", "outputs")

    def __init__(self, cache, outputs, added_loss, act_reg):
        self.cache = cache
        self.outputs = outputs
        self.added_loss = added_loss
        self.act_reg = act_reg  # the engine applied the layer's activity regularizer


def _accumulate(store, key, value):
    # Out of place: a layer may hand back an array it does not own (e.g. dout itself).
    prev = store.get(key)
    store[key] = value if prev is None else prev + value


class Model(Trainer, Layer):
    """A model grouping layers into a graph with training and inference features.

    Built functionally from symbolic tensors:

    ```python
    inputs = aenn.Input(shape=(784,))
    encoded = Dense(32, activation="relu")(inputs)
    decoded = Dense(784, activation="sigmoid")(encoded)
    autoencoder = aenn.Model(inputs, decoded)
    ```

    Args:
        inputs: a KerasTensor from `Input` (or a list of them); intermediate tensors work too.
        outputs: the output KerasTensor (or a list of them).
        name: the model's name (default "functional", made unique).
    """

    _default_name = "functional"

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if inputs is None or outputs is None:
            raise ValueError(
                "Invalid arguments for `Model`: pass symbolic `inputs` and `outputs`, e.g. "
                "`Model(inputs, outputs)` (subclassed models are not supported by aenn); "
                f"received inputs={inputs!r}, outputs={outputs!r}"
            )
        Layer.__init__(self, name=name or naming.unique_name(self._default_name),
                       trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self._init_graph(inputs, outputs)

    # ----- graph ------------------------------------------------------------------------------
    def _init_graph(self, inputs, outputs):
        flat_in, self._single_input = engine._flatten(inputs)
        flat_out, self._single_output = engine._flatten(outputs)
        for argname, tensors in (("inputs", flat_in), ("outputs", flat_out)):
            if not tensors:
                raise ValueError(f"Invalid value for argument `{argname}`: received an empty list.")
            for t in tensors:
                if not isinstance(t, KerasTensor):
                    raise TypeError(
                        f"Invalid value for argument `{argname}`: expected KerasTensors (from "
                        f"`aenn.Input` or a layer call), received {type(t).__name__}: {t!r}"
                    )
        GRAPH_VERSION[0] += 1
        self._inputs = flat_in
        self._outputs = flat_out
        input_ids = {id(t) for t in flat_in}
        nodes, seen = [], set()

        def visit(tensor):
            if id(tensor) in input_ids:
                return
            node = tensor.node
            if id(node) in seen:
                return
            if node.is_input:
                raise ValueError(
                    f"Graph disconnected: cannot obtain the value of tensor {tensor} (input "
                    f"{node.layer.name!r}) which is not among the model's `inputs`."
                )
            for t in node.inbound_tensors:
                visit(t)
            seen.add(id(node))
            nodes.append(node)

        for t in flat_out:
            visit(t)
        # Tensors given to `model.add_loss(tensor)`: their nodes run in every forward pass.
        loss_nodes = {}
        for t in getattr(self, "_loss_tensors", ()):
            visit(t)
            loss_nodes.setdefault(id(t.node), []).append(t.tensor_index)
        self._loss_nodes = loss_nodes
        self._nodes = nodes
        self._forward_plan = None  # (nodes list, per node: node, layer, in ids, out ids)
        self._node_ids = {id(n) for n in nodes}
        layers = []
        for t in flat_in:
            if t.node.is_input and t.node.layer not in layers:
                layers.append(t.node.layer)
        for n in nodes:
            if not any(n.layer is l for l in layers):
                layers.append(n.layer)
        self._graph_layers = layers
        consumers = {}
        for n in nodes:
            for t in n.inbound_tensors:
                consumers[id(t)] = consumers.get(id(t), 0) + 1
        self._consumers = consumers
        self.built = True

    @property
    def _graph_ready(self):
        return getattr(self, "_nodes", None) is not None

    @property
    def layers(self):
        return list(self._graph_layers)

    def _sublayers(self):
        return self.layers

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        self._require_graph("input")
        return self._inputs[0] if self._single_input else list(self._inputs)

    @property
    def output(self):
        self._require_graph("output")
        return self._outputs[0] if self._single_output else list(self._outputs)

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if self._single_input else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if self._single_output else shapes

    def _require_graph(self, what):
        if not self._graph_ready:
            raise ValueError(
                f"Model {self.name!r} has no `{what}` yet: it is not built. Call it on data or "
                "give it an Input first."
            )

    def _model_nodes_of(self, layer):
        """The nodes of `layer` that belong to this model's graph, in call order."""
        if isinstance(layer, InputLayer):
            return list(layer._inbound_nodes[:1])
        return [n for n in layer._inbound_nodes if id(n) in self._node_ids]

    def get_layer(self, name=None, index=None):
        """A layer of the model by `name` or by `index` into `model.layers`."""
        if (name is None) == (index is None):
            raise ValueError("Provide exactly one of `name` or `index` to `get_layer`; received "
                             f"name={name!r}, index={index!r}")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model "
                                 f"{self.name!r} only has {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[l.name for l in layers]}.")

    # ----- Layer API --------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def compute_output_shape(self, input_shape):
        given = [tuple(input_shape)] if engine._is_shape(input_shape) else [
            tuple(s) for s in input_shape]
        if len(given) != len(self._inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self._inputs)} input(s), "
                             f"received {len(given)}: {given}")
        for t, shape in zip(self._inputs, given):
            if len(shape) != len(t.shape) or any(
                    a is not None and b is not None and a != b
                    for a, b in zip(t.shape[1:], shape[1:])):
                raise ValueError(
                    f"Input {t.name!r} of model {self.name!r} is incompatible with the layer: "
                    f"expected shape {t.shape}, found shape {shape}")
        shapes = [(None,) + tuple(t.shape[1:]) for t in self._outputs]
        return shapes[0] if self._single_output else shapes

    @property
    def weights(self):
        out, seen = [], set()
        for layer in self.layers:
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on model {self.name!r}, but the model isn't "
                "built. Build it by calling it on data or starting it with an `Input`."
            )
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"Model {self.name!r}: you called `set_weights(weights)` with a list of "
                f"{len(weights)} arrays, but the model has {len(own)} weights "
                f"({[w.path for w in own]})."
            )
        for var, value in zip(own, weights):
            if np.shape(value) != var.shape:
                raise ValueError(
                    f"Model {self.name!r}: weight `{var.path}` of layer {var.layer.name!r} has "
                    f"shape {var.shape}, but the provided array has shape {np.shape(value)}."
                )
        for var, value in zip(own, weights):
            var.assign(value)

    @property
    def losses(self):
        """Losses of the last forward pass (add_loss, activity penalties) plus current weight
        penalties and the values of `model.add_loss(callable)` losses."""
        out = []
        for layer in self._unique_leaf_layers():
            out.extend(layer.losses)
        out.extend(self._weight_penalties()[0])
        out.extend(float(fn()) for fn in self._callable_losses)
        return out

    def _add_loss_tensor(self, tensor):
        """`model.add_loss(tensor)`: `tensor` must be computed in this model's graph from its
        inputs; its mean is added to the loss in every forward pass and trained."""
        self._require_graph("add_loss")
        if any(tensor is t for t in self._inputs):
            raise ValueError(
                f"Model {self.name!r}: `add_loss` received the model input {tensor.name!r}; "
                "pass a tensor computed from the inputs by layers or `aenn.ops`.")
        if isinstance(tensor.node.layer, (Model, InputLayer)):
            # The value is stored on the producing leaf layer: route it through an op node.
            from .. import ops

            tensor = ops.add(tensor, 0.0)
        self._loss_tensors.append(tensor)
        try:
            self._init_graph(self.input, self.output)
        except ValueError as e:
            self._loss_tensors.pop()
            self._init_graph(self.input, self.output)
            raise ValueError(f"Model {self.name!r}: `add_loss` needs a tensor computed from the "
                             f"model's inputs: {e}") from None

    def _unique_leaf_layers(self):
        out, seen = [], set()

        def walk(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            if isinstance(layer, Model):
                for sub in layer.layers:
                    walk(sub)
            else:
                out.append(layer)

        for layer in self.layers:
            walk(layer)
        return out

    # ----- forward / backward -----------------------------------------------------------------
    def _forward_steps(self):
        """Per node in graph order, what `forward` reads at every call: (node, layer, inbound
        tensor ids, outbound tensor ids, single input, single output, the `training` value the
        node was called with (or None), whether the layer is a Model). Rebuilt when the graph
        changes (a new `_nodes` list), plus the fusion role of the node (models/fusion.py):
        None; `fusion.SKIPPED` for an upsample folded into its Conv2D, or the id of the
        upsample's input tensor for that Conv2D; `fusion.POOLED` for a max pool folded into
        its Conv2D, or a `fusion.ConvPoolRole` for that Conv2D. Rebuilt when AENN_FUSE changes
        too."""
        fuse = _fusion.enabled()
        fplan = self._forward_plan
        if fplan is None or fplan[0] is not self._nodes or fplan[2] != fuse:
            pairs = _fusion.find_pairs(self) if fuse else {}
            convpools = _fusion.find_convpools(self) if fuse else {}
            roles = {}
            for up_id, conv in pairs.items():
                up = next(n for n in self._nodes if id(n) == up_id)
                roles[up_id] = _fusion.SKIPPED
                roles[id(conv)] = id(up.inbound_tensors[0])
            for conv_id, (pool, mode) in convpools.items():
                if conv_id in roles or id(pool) in roles:
                    continue
                roles[id(pool)] = _fusion.POOLED
                roles[conv_id] = _fusion.ConvPoolRole(pool.layer, id(pool.outbound_tensors[0]),
                                                      mode)
            steps = []
            for n in self._nodes:
                kw = n.call_kwargs
                steps.append((n, n.layer, [id(t) for t in n.inbound_tensors],
                               [id(t) for t in n.outbound_tensors], n.single_input,
                               n.single_output, kw["training"] if "training" in kw else None,
                               isinstance(n.layer, Model), roles.get(id(n))))
            fplan = self._forward_plan = (self._nodes, steps, fuse)
        return fplan[1]

    def forward(self, inputs, training=False):
        self._require_graph("forward")
        flat, _ = engine._flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self._inputs)} input(s), but it "
                             f"received {len(flat)} input arrays.")
        values = {id(t): x for t, x in zip(self._inputs, flat)}
        entries = []
        append = entries.append
        prof = _profiler.ACTIVE
        loss_nodes = getattr(self, "_loss_nodes", None)
        training = bool(training)
        for node, layer, in_ids, out_ids, single_in, single_out, node_training, is_model, \
                role in self._forward_steps():
            if role is not None:
                # A fused UpSampling2D -> Conv2D pair (models/fusion.py): the upsample node
                # keeps a placeholder entry, its Conv2D runs on the upsample's input.
                if role is _fusion.SKIPPED or role is _fusion.POOLED:
                    if prof is not None:  # a row for it, with ~0 time
                        prof.push(layer, "forward")
                        prof.pop()
                    # a pooled node's output was written by its Conv2D (just before it)
                    out = values[out_ids[0]] if role is _fusion.POOLED else None
                    append(_Entry(role, [out], False, False))
                    continue
                if type(role) is _fusion.ConvPoolRole:
                    if prof is not None:
                        prof.push(layer, "forward")
                    try:
                        y, cache = _fusion.convpool_forward(layer, values[in_ids[0]], role)
                    finally:
                        if prof is not None:
                            prof.pop()
                    append(_Entry(cache, [None], False, False))
                    values[role.out_id] = y
                    continue
                if prof is not None:
                    prof.push(layer, "forward")
                try:
                    y, cache = _fusion.forward(layer, values[role], role)
                finally:
                    if prof is not None:
                        prof.pop()
                entry = _Entry(cache, [y], False, False)
                if layer.activity_regularizer is not None:
                    entry = self._fused_activity(layer, entry)
                if loss_nodes and id(node) in loss_nodes:
                    layer._losses = list(layer._losses) + [float(np.mean(y, dtype=np.float64))]
                    entry.added_loss = True
                append(entry)
                values[out_ids[0]] = y
                continue
            x = values[in_ids[0]] if single_in else [values[i] for i in in_ids]
            node_training = training if node_training is None else bool(node_training)
            # Collect this call's losses apart, so a layer that resets `_losses` in forward
            # does not drop the losses of its earlier calls in the same pass.
            earlier, layer._losses = layer._losses, []
            if prof is not None:
                prof.push(layer, "forward")
            try:
                y, cache = layer.forward(x, training=node_training)
            finally:
                node_losses, layer._losses = layer._losses, earlier
                if prof is not None:
                    prof.pop()
            ys = [y] if single_out else list(y)
            act_reg = False
            if layer.activity_regularizer is not None and not layer.handles_activity_regularizer:
                pens = [float(layer.activity_regularizer(yy)) / yy.shape[0] for yy in ys]
                # A layer that already added exactly this penalty itself handles it (forward
                # and backward); do not count it twice.
                if not all(any(abs(p - q) <= 1e-6 * max(abs(p), 1e-30) for q in node_losses)
                           for p in pens):
                    node_losses = list(node_losses) + pens
                    act_reg = True
            if loss_nodes and id(node) in loss_nodes:
                # model.add_loss(tensor): the tensor's mean joins this (leaf) layer's losses;
                # backward seeds the tensor's gradient (see `_backward_by_id`).
                node_losses = list(node_losses) + [float(np.mean(ys[i], dtype=np.float64))
                                                   for i in loss_nodes[id(node)]]
            if node_losses:
                layer._losses = earlier + list(node_losses)
                added = True
            else:
                added = is_model and any(e.added_loss for e in cache)
            append(_Entry(cache, ys, added, act_reg))
            if single_out:
                values[out_ids[0]] = y
            else:
                for i, yy in zip(out_ids, ys):
                    values[i] = yy
        outs = [values[id(t)] for t in self._outputs]
        return (outs[0] if self._single_output else outs), entries

    @staticmethod
    def _fused_activity(layer, entry):
        """The Conv2D's own activity regularizer on a fused pair's output (as `forward` does
        for an unfused node)."""
        y = entry.outputs[0]
        layer._losses = list(layer._losses) + [float(layer.activity_regularizer(y)) / y.shape[0]]
        entry.added_loss = True
        entry.act_reg = True
        return entry

    def _needs_grad(self, need_dinputs):
        needs = {id(t) for t in self._inputs} if need_dinputs else set()
        for node in self._nodes:
            if node.layer.trainable_weights or any(id(t) in needs
                                                   for t in node.inbound_tensors):
                needs.update(id(t) for t in node.outbound_tensors)
        return needs

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        dinputs, wgrads = self._backward_by_id(dout, cache, need_dinputs, from_logits)
        return dinputs, [wgrads.get(id(w)) for w in self.weights]

    def _backward_plan(self, needs):
        """Per node in reverse graph order: (node, need_dx, has trainable weights, inbound
        tensor ids, outbound tensor ids, layer, the layer's weights). Valid while the graph,
        the `trainable` flags and the layers' weight lists are."""
        out = []
        for node in reversed(self._nodes):
            layer = node.layer
            out.append((node, any(id(t) in needs for t in node.inbound_tensors),
                        bool(layer.trainable_weights),
                        [id(t) for t in node.inbound_tensors],
                        [id(t) for t in node.outbound_tensors], layer, layer.weights))
        return out

    def _backward_by_id(self, dout, cache, need_dinputs=True, from_logits=False, needs=None,
                        plan=None):
        """`backward`, with the weight gradients as a dict id(variable) -> gradient (the
        training step uses this and skips building the aligned list). `needs` / `plan`: the
        training step's cached `_needs_grad(False)` and `_backward_plan(needs)`."""
        entries = cache
        prof = _profiler.ACTIVE
        douts, _ = engine._flatten(dout)
        grads = {}
        for t, d in zip(self._outputs, douts):
            if d is not None:
                _accumulate(grads, id(t), d)
        for t in getattr(self, "_loss_tensors", ()):
            # d(mean(t))/dt = 1 / t.size, added to whatever else flows into t.
            y = entries[self._nodes.index(t.node)].outputs[t.tensor_index]
            _accumulate(grads, id(t), np.full(y.shape, 1.0 / max(y.size, 1), dtype=y.dtype))
        if needs is None:
            needs = self._needs_grad(need_dinputs)
        if plan is None:
            plan = self._backward_plan(needs)
        wgrads = {}
        wget = wgrads.get
        logits_node = self._outputs[0].node if from_logits else None
        for (node, need_dx, trainable, in_ids, out_ids, layer, weights), entry \
                in zip(plan, reversed(entries)):
            if not need_dx and not trainable:
                continue
            cache = entry.cache
            if cache is _fusion.POOLED:
                continue  # a max pool run by its Conv2D, which takes its output's gradient
            if type(cache) is _fusion.ConvPoolCache:
                d = grads.pop(cache.out_id, None)
                if d is None:
                    continue
            elif node.single_output:
                d = grads.pop(out_ids[0], None)
                if d is None:
                    if not entry.added_loss:
                        continue
                    d = np.zeros_like(entry.outputs[0])
                if entry.act_reg:
                    y = entry.outputs[0]
                    d = d + layer.activity_regularizer.grad(y) / y.shape[0]
            else:
                node_douts = [grads.pop(i, None) for i in out_ids]
                if all(d is None for d in node_douts) and not entry.added_loss:
                    continue
                if any(d is None for d in node_douts):
                    node_douts = [np.zeros_like(y) if d is None else d
                                  for d, y in zip(node_douts, entry.outputs)]
                if entry.act_reg:
                    reg = layer.activity_regularizer
                    node_douts = [d + reg.grad(y) / y.shape[0]
                                  for d, y in zip(node_douts, entry.outputs)]
                d = node_douts
            if cache is _fusion.SKIPPED:
                continue  # its gradient went straight to its input with its Conv2D's
            if type(cache) is _fusion.ConvPoolCache:
                if prof is not None:
                    prof.push(layer, "backward")
                try:
                    dx, wg = _fusion.convpool_backward(layer, d, cache, need_dx)
                finally:
                    if prof is not None:
                        prof.pop()
            elif type(cache) is _fusion.FusedCache:
                in_ids = (cache.src_id,)
                if prof is not None:
                    prof.push(layer, "backward")
                try:
                    dx, wg = _fusion.backward(layer, d, cache, need_dinputs=need_dx,
                                              from_logits=node is logits_node)
                finally:
                    if prof is not None:
                        prof.pop()
            elif prof is None:
                dx, wg = layer.backward(d, entry.cache, need_dinputs=need_dx,
                                        from_logits=node is logits_node)
            else:
                prof.push(layer, "backward")
                try:
                    dx, wg = layer.backward(d, entry.cache, need_dinputs=need_dx,
                                            from_logits=node is logits_node)
                finally:
                    prof.pop()
            for var, g in zip(weights, wg):
                if g is not None:
                    # Out of place: a layer may hand back an array it does not own.
                    k = id(var)
                    prev = wget(k)
                    wgrads[k] = g if prev is None else prev + g
            if need_dx:
                if node.single_input:
                    i = in_ids[0]
                    if dx is not None and i in needs:
                        prev = grads.get(i)
                        grads[i] = dx if prev is None else prev + dx
                else:
                    for i, g in zip(in_ids, dx):
                        if g is not None and i in needs:
                            _accumulate(grads, i, g)
        dinputs = None
        if need_dinputs:
            dinputs = [grads.get(id(t)) for t in self._inputs]
            dinputs = dinputs[0] if self._single_input else dinputs
        return dinputs, wgrads

    def _output_logits(self, entries):
        """(logits, activation_name) of the single output when it ends in sigmoid/softmax and
        the output tensor is used nowhere else in the graph, else (None, None)."""
        if not self._single_output or self._consumers.get(id(self._outputs[0])):
            return None, None
        node = self._outputs[0].node
        if node not in self._nodes:
            return None, None
        entry = entries[self._nodes.index(node)]
        if entry.act_reg:
            return None, None
        layer = node.layer
        if isinstance(layer, Model):
            return layer._output_logits(entry.cache)
        if not node.single_output:
            return None, None
        if type(entry.cache) is _fusion.FusedCache:
            logits = layer.logits_of((None, entry.cache.pre))
        else:
            logits = layer.logits_of(entry.cache)
        if logits is None:
            return None, None
        act = getattr(layer, "activation", None)
        name = getattr(act, "name", act if isinstance(act, str) else None)
        return logits, name

    def logits_of(self, cache):
        return self._output_logits(cache)[0]

    # ----- config -----------------------------------------------------------------------------
    def _node_index(self, node):
        return self._model_nodes_of(node.layer).index(node)

    def get_config(self):
        self._require_graph("config")
        for t in self._inputs:
            if not t.node.is_input:
                raise NotImplementedError(
                    f"Model {self.name!r}: get_config() needs inputs created by `Input`.")

        def ref(t):
            return [t.node.layer.name, self._node_index(t.node), t.tensor_index]

        layer_configs = []
        for layer in self.layers:
            nodes = [] if isinstance(layer, InputLayer) else self._model_nodes_of(layer)
            layer_configs.append({
                "class_name": _class_name(layer),
                "name": layer.name,
                "config": layer.get_config(),
                "inbound_nodes": [
                    {"args": [ref(t) for t in n.inbound_tensors],
                     "single_input": n.single_input,
                     "training": n.call_kwargs.get("training")}
                    for n in nodes
                ],
            })
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layer_configs,
            "input_layers": [ref(t) for t in self._inputs],
            "output_layers": [ref(t) for t in self._outputs],
            "single_input": self._single_input,
            "single_output": self._single_output,
        }
        if self._loss_tensors:
            config["added_losses"] = [ref(t) for t in self._loss_tensors]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        created, produced, pending = {}, {}, {}
        order = []
        for lc in config["layers"]:
            layer = deserialize_layer(lc, custom_objects)
            created[lc["name"]] = layer
            order.append(lc["name"])
            pending[lc["name"]] = list(lc.get("inbound_nodes", []))
            if isinstance(layer, InputLayer):
                produced[(lc["name"], 0)] = [layer._output_tensor]
        counts = {name: 0 for name in order}
        while any(pending.values()):
            progress = False
            for name in order:
                layer = created[name]
                while pending[name]:
                    spec = pending[name][0]
                    refs = spec["args"]
                    if not all((r[0], r[1]) in produced for r in refs):
                        break
                    args = [produced[(r[0], r[1])][r[2]] for r in refs]
                    kwargs = {}
                    if spec.get("training") is not None:
                        kwargs["training"] = spec["training"]
                    out = layer(args[0] if spec.get("single_input", len(args) == 1) else args,
                                **kwargs)
                    produced[(name, counts[name])] = out if isinstance(out, list) else [out]
                    counts[name] += 1
                    pending[name].pop(0)
                    progress = True
            if not progress:
                raise ValueError("Model config is not a valid graph: some layer inputs can never "
                                 "be computed.")
        inputs = [produced[(r[0], r[1])][r[2]] for r in config["input_layers"]]
        outputs = [produced[(r[0], r[1])][r[2]] for r in config["output_layers"]]
        model = cls(inputs[0] if config.get("single_input", len(inputs) == 1) else inputs,
                    outputs[0] if config.get("single_output", len(outputs) == 1) else outputs,
                    name=config.get("name"), trainable=config.get("trainable", True))
        for r in config.get("added_losses", ()):
            model.add_loss(produced[(r[0], r[1])][r[2]])
        return model

    # ----- saving (implemented in aenn.saving) ------------------------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True, **kwargs):
        """Saves the architecture, compile settings, weights and optimizer state to one file."""
        from .. import saving

        return saving.save_model(self, filepath, overwrite=overwrite,
                                 include_optimizer=include_optimizer, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        from .. import saving

        return saving.save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        from .. import saving

        return saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs):
        """The model's architecture as a JSON string (`model_from_json` rebuilds it)."""
        import json

        return json.dumps({"class_name": _class_name(self), "config": self.get_config()},
                          **kwargs)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints a Keras 3 style table of the layers, their output shapes and parameters."""
        from .summary import print_summary

        print_summary(self, line_length=line_length, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable)

    def __repr__(self):
        return f"<{_class_name(self)} name={self.name}, built={self.built}>"


def _class_name(layer):
    if type(layer) is Model:
        return "Functional"
    return type(layer).__name__


def deserialize_layer(layer_config, custom_objects=None):
    """A layer (or nested model) from {"class_name": ..., "config": ...}."""
    class_name = layer_config["class_name"]
    config = layer_config["config"]
    custom_objects = custom_objects or {}
    from .sequential import Sequential

    if class_name in custom_objects:
        cls = custom_objects[class_name]
    elif class_name in ("Functional", "Model"):
        cls = Model
    elif class_name == "Sequential":
        cls = Sequential
    elif class_name == "InputLayer":
        cls = InputLayer
    else:
        cls = get_layer_class(class_name)
    if isinstance(cls, type) and issubclass(cls, Model):
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(dict(config))


def model_from_config(config, custom_objects=None):
    """Rebuilds a model from `{"class_name": "Sequential"|"Functional", "config": {...}}`."""
    if "class_name" not in config:
        raise ValueError("`model_from_config` expects a dict with 'class_name' and 'config' keys; "
                         f"received keys {sorted(config)}")
    return deserialize_layer(config, custom_objects)


def model_from_json(json_string, custom_objects=None):
    """Rebuilds a model from `model.to_json()` (weights are not included)."""
    import json

    return model_from_config(json.loads(json_string), custom_objects=custom_objects)
