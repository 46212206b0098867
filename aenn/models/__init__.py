"""Models: the symbolic graph (Input, KerasTensor), Sequential and functional Model."""

from .engine import Input, InputLayer, KerasTensor, Node, call_layer
from .functional import Model, model_from_config
from .sequential import Sequential

__all__ = ["Input", "InputLayer", "KerasTensor", "Node", "call_layer", "Model", "Sequential",
           "model_from_config"]
