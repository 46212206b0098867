"""Built-in activation functions (Keras 3 names and definitions), computed by aenn's C core.

`get(identifier)` resolves a name (or None, or an `Activation`) to an `Activation` object with
`forward(x) -> y` and `backward(dy, x, y) -> dx`. The module-level functions (`relu(x)`,
`sigmoid(x)`, ...) apply an activation to an array, like `keras.activations.relu(x)`.
"""

import numpy as np

from . import _core
from .reference.activation import KINDS, NEEDS_OUT

__all__ = [
    "Activation",
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "hard_sigmoid",
    "leaky_relu",
    "linear",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]

_ALIASES = {"swish": "silu", None: "linear", "None": "linear"}
_KNOWN = sorted(set(KINDS) | {"softmax", "swish"})


def _as_f32(x, what="x"):
    if hasattr(x, "value") and not isinstance(x, np.ndarray):  # a Variable
        x = x.value
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.size == 0:
        raise ValueError(f"Invalid value for argument `{what}`: expected a non-empty array, "
                         f"received an array of shape {x.shape}")
    return x


class Activation:
    """An activation function with its derivative.

    Args:
        name: the Keras name (`"relu"`, `"sigmoid"`, `"softmax"`, ...).
        alpha: the slope of `leaky_relu` / the `alpha` of `elu`.

    Subclass and override `forward` / `backward` for a custom activation.
    """

    def __init__(self, name, alpha=None):
        name = _ALIASES.get(name, name)
        if name != "softmax" and name not in KINDS:
            raise ValueError(f"Unknown activation: {name!r}. Please ensure you are using a "
                             f"`keras.activations` name; valid names: {_KNOWN}")
        self.name = name
        if alpha is None:
            alpha = 0.2 if name == "leaky_relu" else 1.0
        self.alpha = float(alpha)
        self._kind = KINDS.get(name, -1)

    @property
    def is_linear(self):
        return self.name == "linear"

    def forward(self, x):
        """Returns act(x) as a new float32 array of x's shape."""
        x = _as_f32(x)
        out = np.empty_like(x)
        if self.name == "softmax":
            if x.ndim == 0:
                raise ValueError("softmax: expected an input with at least 1 dimension, "
                                 "received a scalar")
            _core.softmax_forward(out.reshape(-1, x.shape[-1]), x.reshape(-1, x.shape[-1]))
        else:
            _core.activation_forward(out, x, self._kind, self.alpha)
        return out

    def backward(self, dy, x, y=None):
        """Returns dL/dx from dy = dL/dy, the input x and the forward output y (recomputed if
        None)."""
        dy = _as_f32(dy, "dy")
        x = _as_f32(x)
        if dy.shape != x.shape:
            raise ValueError(f"{self.name}.backward: `dy` has shape {dy.shape} but `x` has shape "
                             f"{x.shape}")
        if y is None and (self.name == "softmax" or self._kind in NEEDS_OUT):
            y = self.forward(x)
        if y is not None:
            y = _as_f32(y, "y")
            if y.shape != x.shape:
                raise ValueError(f"{self.name}.backward: `y` has shape {y.shape} but `x` has "
                                 f"shape {x.shape}")
        return self._backward_kernel(dy, x, y)

    def _backward_kernel(self, dy, x, y):
        """The C kernel of `backward`, on arguments already checked (float32, C-contiguous,
        same shapes); Dense calls it directly for built-in activations."""
        dx = np.empty_like(x)
        if self.name == "softmax":
            c = x.shape[-1]
            _core.softmax_backward(dx.reshape(-1, c), dy.reshape(-1, c), y.reshape(-1, c))
        else:
            _core.activation_backward(dx, dy, x, y, self._kind, self.alpha)
        return dx

    def __call__(self, x):
        return self.forward(x)

    def get_config(self):
        return {"name": self.name}

    def __eq__(self, other):
        return (isinstance(other, Activation) and type(other) is type(self)
                and other.name == self.name and other.alpha == self.alpha)

    def __hash__(self):
        return hash((type(self), self.name, self.alpha))

    def __repr__(self):
        return f"<Activation {self.name}>"


_BUILTINS = {name: Activation(name) for name in list(KINDS) + ["softmax"]}


def get(identifier):
    """Resolves None, a Keras activation name, an `Activation`, or one of this module's
    functions to an `Activation`.

    Example:

    >>> aenn.activations.get("relu").forward(np.array([-1.0, 2.0]))
    array([0., 2.], dtype=float32)
    """
    if identifier is None:
        return _BUILTINS["linear"]
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, dict):  # a serialized form {"class_name": ..., "config": ...}
        config = identifier.get("config")
        identifier = config.get("name") if isinstance(config, dict) else config
    if isinstance(identifier, str):
        name = _ALIASES.get(identifier, identifier)
        if name in _BUILTINS:
            return _BUILTINS[name]
        raise ValueError(f"Unknown activation: {identifier!r}. Please ensure you are using a "
                         f"`keras.activations` name; valid names: {_KNOWN}")
    if callable(identifier):
        act = getattr(identifier, "_aenn_activation", None)
        if act is not None:
            return _BUILTINS[act]
        raise ValueError(
            f"Could not interpret activation function identifier: {identifier!r}. aenn needs the "
            "derivative of every activation: pass a name such as 'relu', or subclass "
            "`aenn.activations.Activation` and implement `forward` and `backward`.")
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(activation):
    """The name of an activation (what `get_config` stores)."""
    return get(activation).name


def deserialize(config, custom_objects=None):
    if custom_objects and isinstance(config, str) and config in custom_objects:
        return get(custom_objects[config])
    return get(config)


# ---- functional forms -------------------------------------------------------------------------

def _functional(name):
    def fn(x):
        return _BUILTINS[name].forward(x)

    fn.__name__ = name
    fn.__doc__ = f"Applies the `{name}` activation to `x` (returns a new float32 array)."
    fn._aenn_activation = name
    return fn


linear = _functional("linear")
sigmoid = _functional("sigmoid")
tanh = _functional("tanh")
selu = _functional("selu")
softplus = _functional("softplus")
softsign = _functional("softsign")
hard_sigmoid = _functional("hard_sigmoid")
silu = _functional("silu")
swish = silu
exponential = _functional("exponential")
relu6 = _functional("relu6")


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), or the Keras ReLU with `negative_slope`, `max_value`, `threshold`."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return _BUILTINS["relu"].forward(x)
    x = _as_f32(x)
    out = np.empty_like(x)
    _core.relu_forward(out, x, float(negative_slope),
                       float("inf") if max_value is None else float(max_value), float(threshold))
    return out


relu._aenn_activation = "relu"


def leaky_relu(x, negative_slope=0.2):
    """x if x >= 0 else negative_slope * x."""
    return Activation("leaky_relu", negative_slope).forward(x)


leaky_relu._aenn_activation = "leaky_relu"


def elu(x, alpha=1.0):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return Activation("elu", alpha).forward(x)


elu._aenn_activation = "elu"


def gelu(x, approximate=False):
    """Exact GELU x/2 (1 + erf(x/sqrt 2)); `approximate=True` is not supported."""
    if approximate:
        raise ValueError("gelu: only the exact form (approximate=False) is supported")
    return _BUILTINS["gelu"].forward(x)


gelu._aenn_activation = "gelu"


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along the last axis."""
    if axis not in (-1, np.ndim(x) - 1):
        raise ValueError(f"softmax: only axis=-1 is supported, received axis={axis}")
    return _BUILTINS["softmax"].forward(x)


softmax._aenn_activation = "softmax"
