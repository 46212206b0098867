"""Symbolic graph building: KerasTensor, Node, InputLayer, Input and `call_layer`.

Calling a layer on KerasTensors builds it (from the input shapes), records a `Node` (layer,
inbound tensors, outbound tensors) in ``layer._inbound_nodes`` and returns new KerasTensors.
Calling it on NumPy arrays runs ``forward`` eagerly (inference mode unless ``training=True``)
and returns arrays.
"""

from __future__ import annotations

import numpy as np

from .. import naming
from ..layers.layer import Layer


def _standardize_shape(shape, argname="shape"):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(
            f"Invalid value for argument `{argname}`: expected a tuple of positive integers, "
            f"received {argname}={shape!r}"
        ) from None
    out = []
    for s in shape:
        if s is None:
            out.append(None)
            continue
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or int(s) <= 0:
            raise ValueError(
                f"Invalid value for argument `{argname}`: expected a tuple of positive integers "
                f"(or None), received {argname}={shape!r}"
            )
        out.append(int(s))
    return tuple(out)


class KerasTensor:
    """A symbolic tensor: a shape (batch axis first, usually None) and the node producing it."""

    def __init__(self, shape, node=None, tensor_index=0, name=None):
        self.shape = tuple(shape)
        self.node = node
        self.tensor_index = tensor_index
        self.name = name

    @property
    def dtype(self):
        return "float32"

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def _keras_history(self):
        layer = self.node.layer
        return layer, layer._inbound_nodes.index(self.node), self.tensor_index

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype=float32, name={self.name}>"

    # Arithmetic builds graph nodes through aenn.ops (each op is a small weightless layer).
    def __add__(self, other):
        from .. import ops
        return ops.add(self, other)

    def __radd__(self, other):
        from .. import ops
        return ops.add(other, self)

    def __sub__(self, other):
        from .. import ops
        return ops.subtract(self, other)

    def __rsub__(self, other):
        from .. import ops
        return ops.subtract(other, self)

    def __mul__(self, other):
        from .. import ops
        return ops.multiply(self, other)

    def __rmul__(self, other):
        from .. import ops
        return ops.multiply(other, self)

    def __truediv__(self, other):
        from .. import ops
        return ops.divide(self, other)

    def __rtruediv__(self, other):
        from .. import ops
        return ops.divide(other, self)

    def __neg__(self):
        from .. import ops
        return ops.negative(self)

    def __pow__(self, other):
        from .. import ops
        return ops.power(self, other)

    __array_ufunc__ = None  # `np_array + tensor` defers to __radd__


class Node:
    """One call of `layer` on `inbound_tensors` (a list) producing `outbound_tensors` (a list).

    `single_input` / `single_output` remember whether the layer was given / returned a
    single tensor rather than a list.
    """

    def __init__(self, layer, inbound_tensors, single_input, output_shapes, single_output,
                 call_kwargs=None):
        self.layer = layer
        self.inbound_tensors = list(inbound_tensors)
        self.single_input = single_input
        self.single_output = single_output
        self.call_kwargs = dict(call_kwargs or {})
        self.outbound_tensors = [
            KerasTensor(s, node=self, tensor_index=i,
                        name=layer.name if single_output else f"{layer.name}_{i}")
            for i, s in enumerate(output_shapes)
        ]
        layer._inbound_nodes.append(self)

    @property
    def parent_nodes(self):
        return [t.node for t in self.inbound_tensors]

    @property
    def is_input(self):
        return isinstance(self.layer, InputLayer)

    def __repr__(self):
        return f"<Node layer={self.layer.name}, inputs={len(self.inbound_tensors)}>"


class InputLayer(Layer):
    """The layer behind `Input`: holds the input shape and passes data through."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, **kwargs):
        batch_shape = kwargs.pop("batch_shape", None) or kwargs.pop("batch_input_shape", None)
        kwargs.pop("sparse", None)
        kwargs.pop("ragged", None)
        input_shape = kwargs.pop("input_shape", None)  # tf.keras spelling
        if shape is None and input_shape is not None:
            shape = input_shape
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise ValueError("InputLayer: Invalid value for argument `shape`: expected a tuple, "
                             "received shape=None")
        shape = _standardize_shape(shape)
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer))
                                       or batch_size <= 0):
            raise ValueError(
                f"Invalid value for argument `batch_size`: expected a positive integer, "
                f"received batch_size={batch_size!r}"
            )
        super().__init__(name=name or naming.unique_name("input_layer"), dtype=dtype, **kwargs)
        self._shape = shape
        self._batch_size = batch_size
        self.built = True
        node = Node(self, [], True, [(batch_size,) + shape], True)
        self._output_tensor = node.outbound_tensors[0]

    @property
    def input(self):
        return self._output_tensor

    @property
    def output(self):
        return self._output_tensor

    @property
    def batch_shape(self):
        return (self._batch_size,) + self._shape

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, inputs, training=False):
        return inputs, None

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        return (dout if need_dinputs else None), []

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": "float32", "sparse": False,
                "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        config.pop("trainable", None)
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, **kwargs):
    """Creates a symbolic input tensor: `Input(shape=(784,))` (an int is accepted too).

    Returns:
        A KerasTensor of shape ``(batch_size, *shape)`` (batch None unless given).
    """
    if shape is None and batch_shape is None:
        raise ValueError("Invalid value for argument `shape`: expected a tuple such as (784,), "
                         "received shape=None")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_shape=batch_shape, **kwargs)
    return layer._output_tensor


# ----- calling layers ---------------------------------------------------------------------
def _flatten(inputs):
    if isinstance(inputs, (list, tuple)):
        return list(inputs), False
    return [inputs], True


def as_float32(x, argname="x"):
    """A float32 C-contiguous array from user data, with a clear error for unusable dtypes."""
    if isinstance(x, KerasTensor):
        raise TypeError(f"Expected an array for `{argname}`, received a symbolic KerasTensor.")
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind in "USVcMm":
        raise TypeError(
            f"Invalid dtype for argument `{argname}`: expected a real numeric array, received "
            f"an array of dtype {arr.dtype} with shape {arr.shape}."
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def call_layer(layer, inputs, training=None, **kwargs):
    """What `Layer.__call__` does: symbolic call (KerasTensors) or eager forward (arrays)."""
    # Keras passes `mask` and the like; aenn layers take no other call arguments.
    kwargs.pop("mask", None)
    if kwargs:
        raise TypeError(f"Layer {layer.name!r}: unexpected call arguments {sorted(kwargs)}")
    flat, single = _flatten(inputs)
    if not flat:
        raise ValueError(f"Layer {layer.name!r} was called with an empty list of inputs.")
    n_symbolic = sum(isinstance(t, KerasTensor) for t in flat)
    if n_symbolic:
        if n_symbolic != len(flat):
            raise TypeError(
                f"Layer {layer.name!r}: all inputs must be KerasTensors when one of them is; "
                f"received {[type(t).__name__ for t in flat]}"
            )
        shapes = [t.shape for t in flat]
        input_shape = shapes[0] if single else shapes
        layer._maybe_build(input_shape)
        _maybe_trace(layer, input_shape)
        out_shape = layer.compute_output_shape(input_shape)
        single_out = _is_shape(out_shape)
        out_shapes = [tuple(out_shape)] if single_out else [tuple(s) for s in out_shape]
        node = Node(layer, flat, single, out_shapes, single_out,
                    {"training": training} if training is not None else None)
        outs = node.outbound_tensors
        return outs[0] if single_out else list(outs)
    # eager call
    arrays = [as_float32(t, "inputs") for t in flat]
    for a in arrays:
        if a.ndim == 0 or a.size == 0:
            raise ValueError(
                f"Layer {layer.name!r}: Invalid value for argument `inputs`: expected a non-empty "
                f"array with a batch axis, received an array of shape {a.shape}.")
    x = arrays[0] if single else arrays
    if not layer.built:
        shapes = [(None,) + a.shape[1:] for a in arrays]
        layer._maybe_build(shapes[0] if single else shapes)
    _maybe_trace(layer, [(None,) + a.shape[1:] for a in arrays][0] if single else
                 [(None,) + a.shape[1:] for a in arrays])
    _clear_losses(layer)
    y, _ = layer.forward(x, training=bool(training))
    return y


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in s)


def _clear_losses(layer):
    layer._losses = []
    for sub in layer._sublayers():
        _clear_losses(sub)


# ----- custom layers written with `call()` --------------------------------------------------
def _defines_call(layer):
    cls = type(layer)
    return callable(getattr(cls, "call", None)) and cls.forward is Layer.forward


def _maybe_trace(layer, input_shape):
    """A Layer subclass that defines `call()` (from other layers and `aenn.ops`) instead of
    forward/backward: run `call` once on symbolic inputs of `input_shape` and use the traced
    sub-graph (a functional Model) as the layer's forward and backward."""
    if getattr(layer, "_traced", None) is not None or not _defines_call(layer):
        return
    from .functional import Model

    single = _is_shape(input_shape)
    shapes = [tuple(input_shape)] if single else [tuple(s) for s in input_shape]
    inputs = [InputLayer(batch_shape=s)._output_tensor for s in shapes]
    added = []

    def collect_loss(value):
        if not isinstance(value, KerasTensor):
            raise TypeError(
                f"Layer {layer.name!r}: inside `call()`, `add_loss` takes a tensor computed "
                f"from the inputs (with aenn.ops); received {type(value).__name__}.")
        added.append(value)

    layer.add_loss = collect_loss  # symbolic losses added while tracing
    try:
        outputs = layer.call(inputs[0] if single else inputs)
    finally:
        del layer.add_loss
    flat_out, single_out = _flatten(outputs)
    for t in flat_out:
        if not isinstance(t, KerasTensor):
            raise TypeError(
                f"Layer {layer.name!r}: `call()` must build its result from its inputs with "
                f"layers and `aenn.ops`; it returned {type(t).__name__}.")
    if any(t is i for t in flat_out for i in inputs):
        from .. import ops

        flat_out = [ops.add(t, 0.0) if any(t is i for i in inputs) else t for t in flat_out]
    inner = Model(inputs[0] if single else inputs, flat_out[0] if single_out else flat_out,
                  name=f"{layer.name}_call")
    for t in added:
        inner.add_loss(t)
    layer._traced = inner
    own = {id(w) for w in layer.weights_list}
    for w in inner.weights:  # the sub-layers' weights become this layer's weights
        if id(w) not in own:
            layer.weights_list.append(w)
    out_shapes = [t.shape for t in flat_out]
    leaves = inner._unique_leaf_layers()

    def forward(inputs, training=False):
        for sub in leaves:
            sub._losses = []
        y, cache = inner.forward(inputs, training=training)
        for sub in leaves:  # losses of the sub-layers count as this layer's losses
            layer._losses.extend(sub._losses)
        return y, cache

    def backward(dout, cache, need_dinputs=True, from_logits=False):
        dx, by_id = inner._backward_by_id(dout, cache, need_dinputs=need_dinputs)
        return dx, [by_id.get(id(w)) for w in layer.weights]

    def compute_output_shape(shape):
        inner.compute_output_shape(shape)  # checks compatibility with the traced shapes
        got = [tuple(shape)] if _is_shape(shape) else [tuple(s) for s in shape]
        batch = got[0][0] if got and got[0] else None
        outs = [(batch,) + tuple(s[1:]) if s else s for s in out_shapes]
        return outs[0] if single_out else outs

    layer.forward = forward
    layer.backward = backward
    layer.compute_output_shape = compute_output_shape
    layer._sublayers = lambda: list(inner.layers)
