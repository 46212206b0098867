"""Sequential: a plain stack of layers, built as a functional graph once its input is known."""

from __future__ import annotations

import warnings

from .. import naming
from ..layers.layer import Layer
from .engine import InputLayer, KerasTensor
from .functional import Model, deserialize_layer
from .training import Trainer


class Sequential(Model):
    """A linear stack of layers.

    ```python
    model = Sequential([Input(shape=(784,)), Dense(32, activation="relu"),
                        Dense(784, activation="sigmoid")])
    ```

    The input can come from an `Input` tensor / `InputLayer` as first element, from
    `input_shape=` on the first layer (accepted, as in Keras), or from the first call / `fit`.
    Until then the model is unbuilt (no weights). `model.layers` excludes the InputLayer.

    Args:
        layers: optional list of layers to add.
        name: the model's name (default "sequential", made unique).
    """

    _default_name = "sequential"

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name or naming.unique_name(self._default_name),
                       trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self._seq_layers = []
        self._input_layer = None
        self._nodes = None
        self.built = False
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Adds a layer on top of the stack (an `Input` tensor is accepted as first element)."""
        if isinstance(layer, KerasTensor):
            if not layer.node.is_input:
                raise ValueError(
                    "Sequential only accepts KerasTensors created by `Input` as first element; "
                    f"received {layer!r}")
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Only instances of `aenn.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_layer is not None:
                raise ValueError(
                    f"Sequential model {self.name!r}: an InputLayer / Input can only be the first "
                    "element.")
            self._input_layer = layer
        else:
            if any(l is layer for l in self._seq_layers):
                raise ValueError(f"Layer {layer.name!r} is already in Sequential model "
                                 f"{self.name!r}.")
            if not self._seq_layers and layer._input_shape_arg is not None \
                    and self._input_layer is None:
                warnings.warn(
                    "Do not pass an `input_shape`/`input_dim` argument to a layer. When using "
                    "Sequential models, prefer using an `Input(shape)` object as the first layer "
                    "in the model instead.", UserWarning, stacklevel=3)
            self._seq_layers.append(layer)
            if rebuild and self._graph_ready:
                # Extend the existing chain instead of calling every layer again.
                x = layer(self._outputs[0])
                if isinstance(x, list):
                    self._seq_layers.pop()
                    raise ValueError(
                        f"All layers in a Sequential model should have a single output tensor; "
                        f"layer {layer.name!r} has {len(x)}. Use the functional API.")
                self._init_graph(self._inputs[0], x)
                return
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self._seq_layers:
            raise IndexError("There are no layers in the model.")
        layer = self._seq_layers.pop()
        if rebuild and self._graph_ready and self._seq_layers:
            last = self._model_nodes_of(self._seq_layers[-1])[0]
            self._init_graph(self._inputs[0], last.outbound_tensors[0])
        elif rebuild:
            self._maybe_rebuild()
        return layer

    def _input_spec_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if not self._seq_layers:
            return None
        first = self._seq_layers[0]
        if first._input_shape_arg is not None:
            return (None,) + tuple(first._input_shape_arg)
        if isinstance(first, Model) and first._graph_ready and len(first.inputs) == 1:
            return first.inputs[0].shape
        return None

    def _maybe_rebuild(self):
        shape = self._input_spec_shape()
        if shape is None or not self._seq_layers:
            from . import functional

            functional.GRAPH_VERSION[0] += 1
            self._nodes = None
            self.built = False
            return
        self._build_graph(shape)

    def _build_graph(self, batch_shape):
        if self._input_layer is None or self._input_layer.batch_shape != tuple(batch_shape):
            self._input_layer = InputLayer(batch_shape=tuple(batch_shape),
                                           name=naming.unique_name("input_layer"))
        x = self._input_layer._output_tensor
        for layer in self._seq_layers:
            x = layer(x)
            if isinstance(x, list):
                raise ValueError(  # noqa: TRY004 (Keras raises ValueError)
                    f"All layers in a Sequential model should have a single output tensor; layer "
                    f"{layer.name!r} has {len(x)}. For multi-output layers, use the functional "
                    "API.")
        self._init_graph(self._input_layer._output_tensor, x)

    def build(self, input_shape=None):
        if input_shape is None:
            input_shape = self._input_spec_shape()
        if input_shape is None:
            raise ValueError(f"Sequential model {self.name!r} cannot be built: unknown input "
                             "shape. Pass `input_shape` or start with an `Input`.")
        if not self._seq_layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers.")
        if not self._graph_ready:
            self._build_graph((None,) + tuple(input_shape)[1:])
        self.built = True

    def compute_output_shape(self, input_shape):
        if not self._graph_ready:
            self.build(input_shape)
        return super().compute_output_shape(input_shape)

    @property
    def layers(self):
        return list(self._seq_layers)

    @property
    def weights(self):
        if not self._graph_ready:
            return []
        return super().weights

    @property
    def input(self):
        self._require_graph("input")
        return super().input

    def get_config(self):
        layers = []
        if self._input_layer is not None:
            layers.append({"class_name": "InputLayer", "config": self._input_layer.get_config()})
        for layer in self._seq_layers:
            from .functional import _class_name
            layers.append({"class_name": _class_name(layer), "config": layer.get_config()})
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for lc in config["layers"]:
                model.add(deserialize_layer(lc, custom_objects), rebuild=False)
        model._maybe_rebuild()
        return model

