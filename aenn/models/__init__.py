"""Models: the symbolic graph (Input, KerasTensor), Sequential and functional Model."""

from .engine import Input, InputLayer, KerasTensor, Node, call_layer
from .functional import Model, model_from_config, model_from_json
from .sequential import Sequential

__all__ = ["Input", "InputLayer", "KerasTensor", "Model", "Node", "Sequential", "call_layer",
           "model_from_config", "model_from_json"]
