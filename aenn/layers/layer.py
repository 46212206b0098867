"""The Layer base class and Variable: the contract every aenn layer follows.

A layer is a Keras layer (``__init__`` / ``build`` / ``compute_output_shape`` / ``get_config``)
whose computation is split in two explicit passes instead of autodiff:

* ``forward(inputs, training) -> (outputs, cache)`` computes the outputs from float32
  C-contiguous NumPy arrays and returns whatever the backward pass needs in ``cache``.
* ``backward(dout, cache, need_dinputs=True, from_logits=False) -> (dinputs, weight_grads)`` returns the gradient
  of the loss with respect to the inputs (``None`` when ``need_dinputs`` is False) and a list
  aligned with ``self.weights`` holding the gradient of each weight (``None`` for weights that
  get no gradient, such as BatchNormalization's moving statistics).

Layers with several inputs (merging layers, Sampling) receive and return lists. A layer that adds
a loss during ``forward`` (``self.add_loss(value)``) also adds that loss's gradient to the
``dinputs`` it returns from ``backward``. The model engine (aenn/models) calls ``forward`` and
``backward`` in graph order, sums the gradients of tensors used several times and of layers called
several times, adds regularization terms and runs the optimizer.
"""

from __future__ import annotations

import re

import numpy as np

from .. import naming


class Variable:
    """A float32 weight with its Keras name, trainability and optional regularizer."""

    def __init__(self, value, name, trainable=True, regularizer=None, layer=None):
        self.value = np.ascontiguousarray(value, dtype=np.float32)
        self.name = name
        self._trainable = bool(trainable)
        self.regularizer = regularizer
        self.layer = layer

    @property
    def trainable(self):
        owner_trainable = self.layer is None or self.layer.trainable
        return self._trainable and owner_trainable

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return "float32"

    @property
    def path(self):
        return f"{self.layer.name}/{self.name}" if self.layer is not None else self.name

    def numpy(self):
        return self.value.copy()

    def assign(self, value):
        value = np.asarray(value)
        if value.shape != self.value.shape:
            raise ValueError(
                f"Cannot assign to variable `{self.path}`: expected shape {self.value.shape}, "
                f"received shape {value.shape}."
            )
        self.value[...] = value

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype=float32>"


def to_snake_case(name):
    """Keras' rule: Conv2D -> conv2d, Conv2DTranspose -> conv2d_transpose, LeakyReLU ->
    leaky_re_lu, MaxPooling2D -> max_pooling2d."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


_LAYER_CLASSES = {}


def get_layer_class(class_name):
    """The Layer subclass registered under `class_name` (every subclass registers itself)."""
    try:
        return _LAYER_CLASSES[class_name]
    except KeyError:
        raise ValueError(
            f"Unknown layer class: {class_name!r}. Pass it in `custom_objects`."
        ) from None


class Layer:
    """Base class of every layer. Subclasses implement build/forward/backward.

    Args:
        name: the layer's name; default the class name in snake case, made unique per process
            (``dense``, ``dense_1``, ...).
        trainable: whether the layer's weights are updated by training.
        input_shape / input_dim / batch_input_shape: accepted on the first layer of a
            Sequential model, as in Keras.
    """

    # The model engine applies `activity_regularizer` to the layer's output (penalty / batch
    # size added to the loss, its gradient added to the output gradient). A layer that does
    # this itself inside forward/backward sets this to True so it is not counted twice.
    handles_activity_regularizer = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _LAYER_CLASSES.setdefault(cls.__name__, cls)

    def __init__(self, name=None, trainable=True, dtype=None, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        kwargs.pop("autocast", None)
        kwargs.pop("batch_size", None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unrecognized keyword arguments: {sorted(kwargs)}"
            )
        if dtype not in (None, "float32", np.float32) and str(dtype) != "float32":
            raise ValueError(
                f"{type(self).__name__}: only dtype='float32' is supported, received dtype={dtype}"
            )
        if input_shape is None and input_dim is not None:
            input_shape = (int(input_dim),)
        if input_shape is None and batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if isinstance(input_shape, int):
            input_shape = (input_shape,)
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self.name = name if name is not None else naming.unique_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.built = False
        self.weights_list = []  # Variables in creation order
        self.activity_regularizer = None
        self._losses = []  # losses added during the last forward pass (floats)
        self._inbound_nodes = []  # filled by the model engine when the layer is called
        self.supports_masking = False

    # ----- weights ------------------------------------------------------------------------
    def add_weight(self, shape, initializer="glorot_uniform", name=None, trainable=True,
                   regularizer=None):
        """Creates a float32 Variable initialised by `initializer` (a name or an Initializer)."""
        from .. import initializers

        init = initializers.get(initializer)
        value = init(tuple(int(s) for s in shape))
        var = Variable(value, name or f"variable_{len(self.weights_list)}", trainable,
                       regularizer, layer=self)
        self.weights_list.append(var)
        return var

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for sub in self._sublayers():
            sub.trainable = value

    def _sublayers(self):
        return []

    @property
    def weights(self):
        return list(self.weights_list)

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name!r} expects {len(own)} weights, but the weight list has "
                f"{len(weights)} elements."
            )
        for var, value in zip(own, weights):
            value = np.asarray(value)
            if value.shape != var.shape:
                raise ValueError(
                    f"Layer {self.name!r} weight shape {var.shape} is not compatible with "
                    f"provided weight shape {value.shape} (weight `{var.name}`)."
                )
        for var, value in zip(own, weights):
            var.assign(value)

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer {self.name!r}, but the layer isn't "
                "built. You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ----- losses -------------------------------------------------------------------------
    def add_loss(self, value):
        """Adds a scalar loss for this forward pass (the layer supplies its gradient)."""
        self._losses.append(float(value))

    @property
    def losses(self):
        return list(self._losses)

    # ----- lifecycle ----------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, inputs, training=False):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def logits_of(self, cache):
        """The pre-activation array when this layer ends in a sigmoid or softmax, else None.

        Used like TensorFlow's cached `_keras_logits`: binary/categorical cross-entropy on a
        sigmoid/softmax output is computed from these logits, and the engine then calls
        ``backward(dlogits, cache, need_dinputs, from_logits=True)`` with the gradient with
        respect to the logits, which skips the activation's own backward."""
        return None  # noqa: RET501

    # ----- graph connectivity (filled by aenn.models.engine) --------------------------------
    def _first_node(self, what):
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer {self.name!r} has no `{what}`: it has never been called on a symbolic "
                "tensor (an `Input` or another layer's output)."
            )
        return self._inbound_nodes[0]

    @property
    def input(self):
        """The input KerasTensor(s) of the layer's first call."""
        node = self._first_node("input")
        return node.inbound_tensors[0] if node.single_input else list(node.inbound_tensors)

    @property
    def output(self):
        """The output KerasTensor(s) of the layer's first call."""
        node = self._first_node("output")
        return node.outbound_tensors[0] if node.single_output else list(node.outbound_tensors)

    def get_input_at(self, node_index):
        node = self._inbound_nodes[node_index]
        return node.inbound_tensors[0] if node.single_input else list(node.inbound_tensors)

    def get_output_at(self, node_index):
        node = self._inbound_nodes[node_index]
        return node.outbound_tensors[0] if node.single_output else list(node.outbound_tensors)

    @property
    def input_shape(self):
        x = self.input
        return [t.shape for t in x] if isinstance(x, list) else x.shape

    @property
    def output_shape(self):
        y = self.output
        return [t.shape for t in y] if isinstance(y, list) else y.shape

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.built = True

    def __call__(self, inputs, training=None, **kwargs):
        """Symbolic inputs (KerasTensor) add a node to the graph; arrays run forward now."""
        from ..models import engine

        return engine.call_layer(self, inputs, training=training, **kwargs)

    # ----- config -------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32"}
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = (None,) + tuple(self._input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
