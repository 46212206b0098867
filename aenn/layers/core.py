"""Core layers: Dense (on the C GEMM kernels) and the shape-only layers Identity, Flatten,
Reshape, RepeatVector and Permute (pure data movement with NumPy)."""

from __future__ import annotations

import numpy as np

from .. import _core, activations
from .activation import Identity  # noqa: F401  (defined with the activation layers)
from .layer import Layer

__all__ = ["Dense", "Identity", "Flatten", "Reshape", "RepeatVector", "Permute"]


# ---- helpers shared with reshaping.py / merging.py ---------------------------------------------

def as_f32(x):
    return np.ascontiguousarray(x, dtype=np.float32)


def fmt_shape(shape):
    return str(tuple(shape))


def _resolve(module_name, identifier):
    """initializers/regularizers/constraints.get, also accepting {"class_name", "config"}."""
    if identifier is None:
        return None
    import importlib

    module = importlib.import_module(f"aenn.{module_name}")
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = getattr(module, identifier["class_name"], None)
        if cls is not None:
            return cls(**(identifier.get("config") or {}))
    return module.get(identifier)


def _serialize(obj):
    """What get_config stores: strings as they are, objects as {"class_name", "config"}."""
    if obj is None or isinstance(obj, (str, int, float)):
        return obj
    if isinstance(obj, dict):
        return dict(obj)
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return obj


def positive_int(layer, arg, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"{layer}: Invalid value for argument `{arg}`: expected a positive integer, "
            f"received {arg}={value!r}"
        )
    return int(value)


# ---- Dense -------------------------------------------------------------------------------------

def _act_forward(act, z):
    """act.forward(z) for a float32 C-contiguous z: a built-in activation calls its kernel
    directly (what `Activation.forward` does after its argument checks, which z passes by
    construction); a subclass or custom activation goes through its own method."""
    if type(act) is not activations.Activation:
        return act.forward(z)
    out = np.empty_like(z)
    if act.name == "softmax":
        c = z.shape[-1]
        _core.softmax_forward(out.reshape(-1, c), z.reshape(-1, c))
    else:
        _core.activation_forward(out, z, act._kind, act.alpha)
    return out


def _act_backward(act, dy, z, y):
    """act.backward(dy, z, y) with dy, z, y float32 C-contiguous; the kernel directly for a
    built-in activation when the shapes agree (else the method, which raises the error)."""
    if type(act) is not activations.Activation or dy.shape != z.shape or y.shape != z.shape:
        return as_f32(act.backward(dy, z, y))
    return act._backward_kernel(dy, z, y)


class Dense(Layer):
    """Just your regular densely-connected NN layer: `output = activation(dot(input, kernel) + bias)`.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation function name or `aenn.activations.Activation` (default: linear).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer, bias_initializer: initializers of the kernel `(in, units)` and the
            bias `(units,)`.
        kernel_regularizer, bias_regularizer: weight penalties (added by the model).
        activity_regularizer: penalty of the layer's output, divided by the batch size.
        kernel_constraint, bias_constraint: stored for the optimizer / config.

    Input shape:
        N-D tensor with shape `(batch_size, ..., input_dim)`.

    Output shape:
        N-D tensor with shape `(batch_size, ..., units)`; Dense applies to the last axis.
    """

    handles_activity_regularizer = True  # forward adds the penalty, backward its gradient

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = positive_int(f"Dense {self.name!r}", "units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = _resolve("regularizers", kernel_regularizer)
        self.bias_regularizer = _resolve("regularizers", bias_regularizer)
        self.activity_regularizer = _resolve("regularizers", activity_regularizer)
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.kernel = None
        self.bias = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"Dense {self.name!r}: expected an input of shape (batch_size, ..., input_dim) "
                f"with a known last axis, received input_shape={fmt_shape(input_shape)}"
            )
        in_dim = int(input_shape[-1])
        init = _resolve("initializers", self.kernel_initializer)
        self.kernel = self.add_weight((in_dim, self.units), init, name="kernel",
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight((self.units,), _resolve("initializers", self.bias_initializer),
                                        name="bias", regularizer=self.bias_regularizer)
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.built and input_shape[-1] is not None and input_shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Dense {self.name!r}: the layer was built for inputs with {self.kernel.shape[0]} "
                f"features (kernel shape {tuple(self.kernel.shape)}), received an input with shape "
                f"{fmt_shape(input_shape)}"
            )
        return input_shape[:-1] + (self.units,)

    def _check_input(self, x):
        in_dim = self.kernel.shape[0]
        if x.ndim < 2 or x.shape[-1] != in_dim:
            raise ValueError(
                f"Dense {self.name!r}: expected an input of shape (batch_size, ..., {in_dim}), "
                f"received an input of shape {fmt_shape(x.shape)}"
            )

    def forward(self, inputs, training=False):
        x = as_f32(inputs)
        if not self.built:
            self.build((None,) + x.shape[1:])
        kernel = self.kernel.value
        shape = x.shape
        if len(shape) < 2 or shape[-1] != kernel.shape[0]:
            self._check_input(x)
        z = np.empty(shape[:-1] + (self.units,), np.float32)
        _core.dense_forward(z, x, kernel, self.bias.value if self.use_bias else None)
        act = self.activation
        y = z if act.is_linear else _act_forward(act, z)
        self._losses = []
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(y) / x.shape[0])
        return y, (x, z, y)

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        x, z, y = cache
        dout = as_f32(dout)
        act = self.activation
        linear = act.is_linear
        if self.activity_regularizer is None:
            dz = dout if linear or from_logits else _act_backward(act, dout, z, y)
        else:
            act_grad = as_f32(np.asarray(self.activity_regularizer.grad(y)) / x.shape[0])
            if linear:
                dz = dout + act_grad
            elif from_logits:
                dz = dout + act.backward(act_grad, z, y)
            else:
                dz = act.backward(dout + act_grad, z, y)
            dz = as_f32(dz)
        kernel = self.kernel.value
        dinp = np.empty_like(x) if need_dinputs else None
        dkernel = np.empty_like(kernel)
        dbias = np.empty(self.units, np.float32) if self.use_bias else None
        _core.dense_backward(dinp, dkernel, dbias, dz, x, kernel)
        return dinp, ([dkernel, dbias] if self.use_bias else [dkernel])

    def logits_of(self, cache):
        return cache[1] if self.activation.name in ("sigmoid", "softmax") else None

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize(self.kernel_initializer),
            "bias_initializer": _serialize(self.bias_initializer),
            "kernel_regularizer": _serialize(self.kernel_regularizer),
            "bias_regularizer": _serialize(self.bias_regularizer),
            "activity_regularizer": _serialize(self.activity_regularizer),
            "kernel_constraint": _serialize(self.kernel_constraint),
            "bias_constraint": _serialize(self.bias_constraint),
        })
        return config


# ---- shape-only layers -------------------------------------------------------------------------

def _normalize_data_format(layer, value):
    if value is None:
        return "channels_last"
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer}: Invalid value for argument `data_format`: expected 'channels_last' or "
            f"'channels_first', received data_format={value!r}"
        )
    return value


class Flatten(Layer):
    """Flattens the input (C order) without touching the batch axis; `(batch,)` becomes `(batch, 1)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`; channels-first inputs are
            moved to channels-last before flattening, as in Keras.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _normalize_data_format(f"Flatten {self.name!r}", data_format)

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape)[1:]
        if any(d is None for d in rest):
            return (input_shape[0], None)
        return (input_shape[0], int(np.prod(rest)) if rest else 1)

    def forward(self, inputs, training=False):
        x = as_f32(inputs)
        if self.data_format == "channels_first" and x.ndim > 2:
            x = np.moveaxis(x, 1, -1)
        return np.ascontiguousarray(x.reshape(x.shape[0], -1)).copy(), x.shape

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        dx = as_f32(dout).reshape(cache)
        if self.data_format == "channels_first" and len(cache) > 2:
            dx = np.moveaxis(dx, -1, 1)
        return np.ascontiguousarray(dx).copy(), []

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes the non-batch axes to `target_shape` (row-major; one -1 allowed).

    Args:
        target_shape: tuple of integers, not including the batch axis.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            target = None
        if (target is None or any(d == 0 or d < -1 for d in target)
                or sum(d == -1 for d in target) > 1):
            raise ValueError(
                f"Reshape {self.name!r}: Invalid value for argument `target_shape`: expected a "
                f"tuple of positive integers with at most one -1, received "
                f"target_shape={target_shape!r}"
            )
        self.target_shape = target

    def _resolve_target(self, input_shape):
        rest = tuple(input_shape)[1:]
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = int(np.prod(rest)) if rest else 1
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if -1 in self.target_shape:
            ok = total % known == 0
            out = tuple(total // known if d == -1 else d for d in self.target_shape)
        else:
            ok = total == known
            out = self.target_shape
        if not ok:
            raise ValueError(
                f"Reshape {self.name!r}: cannot reshape an input of shape "
                f"{fmt_shape(input_shape)} ({total} values per sample) to target_shape="
                f"{self.target_shape}"
            )
        return out

    def build(self, input_shape):
        self._resolve_target(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0],) + self._resolve_target(input_shape)

    def forward(self, inputs, training=False):
        x = as_f32(inputs)
        target = self._resolve_target((None,) + x.shape[1:])
        return x.reshape((x.shape[0],) + target).copy(), x.shape

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        return (as_f32(dout).reshape(cache).copy() if need_dinputs else None), []

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: output `(batch, n, features)`."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = positive_int(f"RepeatVector {self.name!r}", "n", n)

    def _check(self, shape):
        if len(shape) != 2:
            raise ValueError(
                f"RepeatVector {self.name!r}: expected an input of shape (batch_size, features), "
                f"received input_shape={fmt_shape(shape)}"
            )

    def build(self, input_shape):
        self._check(tuple(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check(tuple(input_shape))
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, inputs, training=False):
        x = as_f32(inputs)
        self._check(x.shape)
        return np.ascontiguousarray(np.repeat(x[:, None, :], self.n, axis=1)), None

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        dout = as_f32(dout)
        dx = dout[:, 0, :].copy()
        for i in range(1, self.n):  # fixed order: repeat 0, 1, ..., n-1
            dx += dout[:, i, :]
        return dx, []

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Permute(Layer):
    """Permutes the non-batch axes: `dims` is a permutation of 1..rank-1 (1-indexed, like Keras)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            dims = None
        if dims is None or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                f"Permute {self.name!r}: Invalid value for argument `dims`: expected a "
                f"permutation of 1..{len(dims) if dims else 'rank-1'}, received dims={dims!r}"
            )
        self.dims = dims

    def _check(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(
                f"Permute {self.name!r}: dims={self.dims} needs an input of rank "
                f"{len(self.dims) + 1}, received input_shape={fmt_shape(shape)}"
            )

    def build(self, input_shape):
        self._check(tuple(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def forward(self, inputs, training=False):
        x = as_f32(inputs)
        self._check(x.shape)
        return np.ascontiguousarray(x.transpose((0,) + self.dims)), None

    def backward(self, dout, cache, need_dinputs=True, from_logits=False):
        if not need_dinputs:
            return None, []
        inverse = tuple(int(i) for i in np.argsort((0,) + self.dims))
        return np.ascontiguousarray(as_f32(dout).transpose(inverse)), []

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config
