"""Optimizers (Keras 3 `keras.optimizers`): one fused C call updates every variable per step.

`optimizer.apply(grads, variables)` clips the gradients if asked (`clipnorm`, `clipvalue`,
`global_clipnorm`), applies `weight_decay` if set, then calls `_core.optim_update` once for all
variables, and increments `iterations`. Formulas and defaults are Keras 3's (KERAS.md §8).

Example:

```python
opt = aenn.optimizers.Adam(learning_rate=1e-3)
opt.build(model.trainable_weights)
opt.apply(grads, model.trainable_weights)
```

`learning_rate` may be a float (settable, e.g. by callbacks), a schedule from
`aenn.optimizers.schedules`, or any callable(step) -> float.
"""

from __future__ import annotations

import math
import sys
import types

import numpy as np

from . import _core

_SGD, _ADAM, _RMSPROP, _ADAGRAD, _ADADELTA, _NADAM = range(6)


# ----- learning-rate schedules ---------------------------------------------------------------

class LearningRateSchedule:
    """Base class: `schedule(step) -> learning rate` (step = optimizer.iterations)."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _DecaySchedule(LearningRateSchedule):
    """Shared body of the schedules driven by p = step / decay_steps (floored when staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        if not decay_steps > 0:
            raise ValueError(f"Invalid value for argument `decay_steps`: expected a positive "
                             f"integer, received decay_steps={decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.decay_rate = decay_steps, float(decay_rate)
        self.staircase, self.name = bool(staircase), name or type(self).__name__

    def _progress(self, step):
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_DecaySchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)` (floored when staircase)."""

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class InverseTimeDecay(_DecaySchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`."""

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[i]` for `boundaries[i-1] < step <= boundaries[i]`."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return float(v)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from initial_learning_rate to alpha*initial over decay_steps."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay"):
        if not decay_steps > 0:
            raise ValueError(f"Invalid value for argument `decay_steps`: expected a positive "
                             f"integer, received decay_steps={decay_steps}")
        self.initial_learning_rate, self.decay_steps = float(initial_learning_rate), decay_steps
        self.alpha, self.name = float(alpha), name

    def __call__(self, step):
        p = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * p))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name}


_SCHEDULES = {c.__name__: c for c in (ExponentialDecay, InverseTimeDecay,
                                      PiecewiseConstantDecay, CosineDecay)}

schedules = types.ModuleType(__name__ + ".schedules", "Learning-rate schedules.")
for _name, _cls in list(_SCHEDULES.items()) + [("LearningRateSchedule", LearningRateSchedule)]:
    setattr(schedules, _name, _cls)
schedules.serialize = lambda s: {"class_name": type(s).__name__, "config": s.get_config()}
schedules.deserialize = lambda c: _SCHEDULES[c["class_name"]].from_config(c["config"])
sys.modules[schedules.__name__] = schedules


# ----- optimizer state -----------------------------------------------------------------------

class OptimizerVariable:
    """An optimizer slot or counter: a NumPy array with a name (updated in place)."""

    def __init__(self, value, name, dtype=np.float32):
        self.value = np.array(value, dtype=dtype, order="C")  # keeps 0-d arrays 0-d
        self.name = name

    path = property(lambda self: self.name)
    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: str(self.value.dtype))

    def numpy(self):
        return self.value.copy()

    def assign(self, value):
        value = np.asarray(value)
        if value.shape != self.value.shape:
            raise ValueError(f"Cannot assign to variable `{self.name}`: expected shape "
                             f"{self.value.shape}, received shape {value.shape}.")
        self.value[...] = value

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __repr__(self):
        return f"<OptimizerVariable path={self.name}, shape={self.shape}, dtype={self.dtype}>"


def _check_float(name, value, lo=None, hi=None, lo_open=False):
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    ok = math.isfinite(value)
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value <= hi
    if not ok:
        rng = f"in [{lo}, {hi}]" if hi is not None else (
            f"> {lo}" if lo_open else f">= {lo}") if lo is not None else "finite"
        raise ValueError(f"Invalid value for argument `{name}`: expected a float {rng}, "
                         f"received {name}={value!r}")
    return value


class Optimizer:
    """Base class. Subclasses set `_kind`, `_slot_names(config)` and `_hyper(step, lr)`."""

    _kind = None
    _slot_names = ()
    _slots_grouped = False  # Keras' RMSprop lists its slots grouped by kind, not interleaved

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        if "decay" in kwargs:
            raise ValueError("Argument `decay` is no longer supported. Use a learning-rate "
                             "schedule (aenn.optimizers.schedules) instead.")
        unsupported = {"use_ema": False, "loss_scale_factor": None,
                       "gradient_accumulation_steps": None}
        for key, default in unsupported.items():
            if kwargs.pop(key, default) not in (default,):
                raise NotImplementedError(f"{type(self).__name__}: argument `{key}` is not "
                                          "supported by aenn.")
        for key in ("ema_momentum", "ema_overwrite_frequency", "jit_compile"):
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword arguments: "
                            f"{sorted(kwargs)}")
        if sum(x is not None for x in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.clipnorm = None if clipnorm is None else _check_float("clipnorm", clipnorm, 0, lo_open=True)
        self.clipvalue = None if clipvalue is None else _check_float("clipvalue", clipvalue, 0, lo_open=True)
        self.global_clipnorm = (None if global_clipnorm is None else
                                _check_float("global_clipnorm", global_clipnorm, 0, lo_open=True))
        self.weight_decay = None if weight_decay is None else _check_float("weight_decay", weight_decay, 0)
        self.name = name or type(self).__name__.lower()
        self._schedule = None
        self._iterations = OptimizerVariable(np.zeros((), np.int64), "iteration", np.int64)
        self._lr_var = None
        if isinstance(learning_rate, dict) and "class_name" in learning_rate:
            learning_rate = schedules.deserialize(learning_rate)
        if callable(learning_rate):
            self._schedule = learning_rate
        else:
            lr = _check_float("learning_rate", learning_rate, 0)
            self._lr_var = OptimizerVariable(np.float32(lr), "learning_rate")
        self.built = False
        self._slots = []  # per variable: list of OptimizerVariable
        self._apply_plan = None
        self._index = {}  # id(variable) -> position

    # ----- learning rate and iterations ------------------------------------------------------
    @property
    def learning_rate(self):
        if self._schedule is not None:
            return float(self._schedule(self.iterations))
        return float(self._lr_var.value)

    @learning_rate.setter
    def learning_rate(self, value):
        if self._schedule is not None:
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as "
                            "its `learning_rate` constructor argument, hence its learning rate is "
                            "not settable. If you need the learning rate to be settable, you "
                            "should instantiate the optimizer with a float `learning_rate` "
                            "argument.")
        self._lr_var.value[...] = np.float32(_check_float("learning_rate", value, 0))

    lr = learning_rate

    @property
    def iterations(self):
        return int(self._iterations.value)

    @iterations.setter
    def iterations(self, value):
        self._iterations.value[...] = int(value)

    @property
    def variables(self):
        """iteration, learning_rate (unless scheduled), then the slots interleaved per
        variable, as Keras lists them."""
        out = [self._iterations]
        if self._lr_var is not None:
            out.append(self._lr_var)
        if self._slots_grouped:  # all first slots, then all second slots, ...
            for j in range(self._num_slots()):
                out.extend(slots[j] for slots in self._slots)
        else:
            for slots in self._slots:
                out.extend(slots)
        return out + self._extra_variables()

    def _extra_variables(self):
        return []

    # ----- build / apply ---------------------------------------------------------------------
    def _num_slots(self):
        return len(self._slot_names)

    def _initial_slot_value(self):
        return 0.0

    def build(self, variables):
        """Creates the slots of each variable (zeros; Adagrad: initial_accumulator_value)."""
        self._slots, self._index = [], {}
        for i, var in enumerate(variables):
            shape = tuple(np.shape(getattr(var, "value", var)))
            base = getattr(var, "path", None) or getattr(var, "name", None) or f"variable_{i}"
            base = str(base).replace("/", "_")
            self._slots.append([
                OptimizerVariable(np.full(shape, self._initial_slot_value(), np.float32),
                                  f"{self.name}/{base}_{s}")
                for s in self._slot_names[:self._num_slots()]
            ])
            self._index[id(var)] = i
        self.built = True

    def _clip(self, grads):
        if self.clipvalue is not None:
            c = np.float32(self.clipvalue)
            grads = [np.clip(g, -c, c) for g in grads]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
                out.append(g * np.float32(self.clipnorm / norm) if norm > self.clipnorm else g)
            grads = out
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
            if norm > self.global_clipnorm:
                scale = np.float32(self.global_clipnorm / norm)
                grads = [g * scale for g in grads]
        return grads

    def apply(self, grads, variables=None):
        """Applies one step: variables[k].value -= update(grads[k]) in ONE fused C call.

        Args:
            grads: list of arrays (None entries are skipped), aligned with `variables`.
            variables: list of Variables (with a float32 `.value` array), or arrays updated in
                place; default: the variables given to `build`.
        """
        if variables is None:
            if not self.built:
                raise ValueError(f"Optimizer {self.name!r}: pass `variables` (or call `build`).")
            raise ValueError(f"Optimizer {self.name!r}: `apply` needs the list of variables.")
        if not isinstance(grads, list):
            grads = list(grads)
        if not isinstance(variables, list):
            variables = list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Optimizer {self.name!r}: received {len(grads)} gradients for "
                             f"{len(variables)} variables.")
        if not self.built:
            self.build(variables)
        # The (variable -> slots) lookup and the checks of the variables run once per set of
        # variables (a cached plan); each step only checks the gradients and builds the
        # argument lists of the single fused C call.
        key = tuple([id(v) if g is not None else 0 for v, g in zip(variables, grads)])
        plan = getattr(self, "_apply_plan", None)
        if plan is None or plan[0] != key or plan[1] is not self._slots:
            plan = self._make_apply_plan(key, variables, grads)
        params, gs = [], []
        slots = plan[3]
        for k, (i, value) in enumerate(plan[2]):
            var = variables[i]
            if getattr(var, "value", var) is not value:  # value array replaced: re-plan
                self._make_apply_plan(key, variables, grads)
                return self.apply(grads, variables)
            g = grads[i]
            if type(g) is not np.ndarray or g.dtype != np.float32 or not g.flags.c_contiguous:
                g = np.ascontiguousarray(g, dtype=np.float32)
            if g.shape != value.shape:
                raise ValueError(f"Optimizer {self.name!r}: gradient shape {g.shape} does not "
                                 f"match variable {getattr(var, 'path', '?')!r} of shape "
                                 f"{value.shape}.")
            params.append(value)
            gs.append(g)
        if params:
            if plan[4]:
                gs = self._clip(gs)
            lr = self.learning_rate
            if self.weight_decay:
                wd = np.float32(self.weight_decay * lr)
                for p in params:
                    p -= p * wd
            self._before_step()
            _core.optim_update(self._kind, params, gs, slots,
                               self._hyper(self.iterations + 1, lr))
        self._iterations.value[...] += 1

    def _make_apply_plan(self, key, variables, grads):
        """Checks the variables that get a gradient and caches (key, slots list, [(index,
        value array)], flat slot arrays, clipping on) for `apply`; empty variables are left
        out of the C call."""
        entries, slot_arrays = [], []
        for i, (var, g) in enumerate(zip(variables, grads)):
            if g is None:
                continue
            pos = self._index.get(id(var))
            if pos is None:
                raise ValueError(f"Optimizer {self.name!r}: unknown variable "
                                 f"{getattr(var, 'path', var)!r}: it was not in the list given "
                                 "to `build`.")
            value = getattr(var, "value", var)
            if not (isinstance(value, np.ndarray) and value.dtype == np.float32
                    and value.flags.c_contiguous and value.flags.writeable):
                raise TypeError(f"Optimizer {self.name!r}: variable "
                                f"{getattr(var, 'path', '?')!r} must hold a writable float32 "
                                "C-contiguous array.")
            if value.size == 0:
                continue
            entries.append((i, value))
            slot_arrays.extend(s.value for s in self._slots[pos])
        clip = (self.clipvalue is not None or self.clipnorm is not None
                or self.global_clipnorm is not None)
        self._apply_plan = (key, self._slots, entries, slot_arrays, clip)
        return self._apply_plan

    def apply_gradients(self, grads_and_vars):
        """Keras' older spelling: a list of (grad, variable) pairs."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def _before_step(self):
        pass

    # ----- config ----------------------------------------------------------------------------
    def get_config(self):
        if self._schedule is None:
            lr = self.learning_rate
        elif isinstance(self._schedule, LearningRateSchedule):
            lr = schedules.serialize(self._schedule)
        else:
            lr = self._schedule
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, learning_rate={self.learning_rate}>"


def _f32(x):
    return float(np.float32(x))


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    momentum 0: `w -= lr*g`; else `m = momentum*m - lr*g; w += m` (Nesterov:
    `w += momentum*m - lr*g`)."""

    _kind = _SGD
    _slot_names = ("momentum",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum = _check_float("momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _num_slots(self):
        return 1 if self.momentum > 0 else 0

    def _hyper(self, t, lr):
        return (lr, self.momentum, 1.0 if self.nesterov else 0.0)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Keras 3): bias correction folded into the step, epsilon added to sqrt(v)."""

    _kind = _ADAM
    _slot_names = ("momentum", "velocity", "velocity_hat")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = _check_float("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _check_float("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _check_float("epsilon", epsilon, 0.0)
        self.amsgrad = bool(amsgrad)

    def _num_slots(self):
        return 3 if self.amsgrad else 2

    def _hyper(self, t, lr):
        f = np.float32
        alpha = f(lr) * np.sqrt(f(1) - f(self.beta_2) ** f(t)) / (f(1) - f(self.beta_1) ** f(t))
        return (float(alpha), 1.0 - self.beta_1, 1.0 - self.beta_2, self.epsilon,
                1.0 if self.amsgrad else 0.0)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class RMSprop(Optimizer):
    """RMSprop (Keras 3): epsilon inside the square root; optional centering and momentum."""

    _kind = _RMSPROP
    _slot_names = ("velocity", "momentum", "average_gradient")
    _slots_grouped = True

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = _check_float("rho", rho, 0.0, 1.0)
        self.momentum = _check_float("momentum", momentum, 0.0, 1.0)
        self.epsilon = _check_float("epsilon", epsilon, 0.0)
        self.centered = bool(centered)

    def _num_slots(self):
        return 1 + (self.momentum > 0) + self.centered

    def build(self, variables):
        names = ["velocity"] + (["momentum"] if self.momentum > 0 else []) + (
            ["average_gradient"] if self.centered else [])
        self._slot_names = tuple(names)
        super().build(variables)

    def _hyper(self, t, lr):
        return (lr, self.rho, 1.0 - self.rho, self.epsilon, self.momentum,
                1.0 if self.centered else 0.0)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad: `acc += g**2; w -= lr*g/sqrt(acc + epsilon)`."""

    _kind = _ADAGRAD
    _slot_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = _check_float("initial_accumulator_value",
                                                      initial_accumulator_value, 0.0)
        self.epsilon = _check_float("epsilon", epsilon, 0.0)

    def _initial_slot_value(self):
        return self.initial_accumulator_value

    def _hyper(self, t, lr):
        return (lr, self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Keras 3 defaults: learning_rate=0.001, rho=0.95, epsilon=1e-7)."""

    _kind = _ADADELTA
    _slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name="adadelta", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = _check_float("rho", rho, 0.0, 1.0)
        self.epsilon = _check_float("epsilon", epsilon, 0.0)

    def _hyper(self, t, lr):
        return (lr, self.rho, 1.0 - self.rho, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam (Keras 3): Adam with Nesterov momentum and the 0.96-decay momentum schedule."""

    _kind = _NADAM
    _slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="nadam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = _check_float("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _check_float("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _check_float("epsilon", epsilon, 0.0)
        self._u_product = OptimizerVariable(np.float32(1.0), "u_product")

    def build(self, variables):
        super().build(variables)
        self._u_product.value[...] = 1.0

    def _extra_variables(self):
        return [self._u_product]

    def _u(self, step):
        f = np.float32
        return f(self.beta_1) * (f(1) - f(0.5) * f(0.96) ** f(step))

    def _before_step(self):
        self._u_product.value[...] = self._u_product.value * self._u(self.iterations + 1)

    def _hyper(self, t, lr):
        f = np.float32
        u_t, u_next = self._u(t), self._u(t + 1)
        u_prod_t = f(self._u_product.value)
        u_prod_next = u_prod_t * u_next
        return (lr, 1.0 - self.beta_1, 1.0 - self.beta_2, self.epsilon, float(u_next),
                float(f(1) - u_prod_next), float(f(1) - u_t), float(f(1) - u_prod_t),
                float(f(1) - f(self.beta_2) ** f(t)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


_ALIASES = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad,
            "adadelta": Adadelta, "nadam": Nadam}
_CLASSES = {c.__name__: c for c in _ALIASES.values()}


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config, custom_objects=None):
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name) or _ALIASES.get(
        str(name).lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer: {name!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """An Optimizer from a name ("adam", "sgd", "rmsprop", "adagrad", "adadelta", "nadam"),
    a config dict or an instance (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Known "
                             f"names: {sorted(_ALIASES)}")
        return cls()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
