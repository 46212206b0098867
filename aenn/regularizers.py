"""Weight and activity regularizers (Keras `keras.regularizers`).

A regularizer is called on a weight (or a layer output) and returns the penalty as a float;
`.grad(x)` returns the penalty's gradient with respect to x (float32, same shape), which the
engine adds to the weight's gradient. L2 is `l2 * sum(x**2)`, with no ½ factor, as in Keras.

Example:

```python
reg = aenn.regularizers.get("l2")        # L2(l2=0.01)
penalty, dw = reg(w), reg.grad(w)
```
"""

from __future__ import annotations

import numpy as np


def _factor(name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"Invalid value for argument `{name}`: expected a non-negative float, "
                         f"received {name}={value!r}")
    return value


class Regularizer:
    """Base class: `__call__(x) -> float` and `grad(x) -> ndarray`."""

    def __call__(self, x):
        raise NotImplementedError

    def grad(self, x):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """`l1 * sum(|x|) + l2 * sum(x**2)`; both default to 0 (Keras 3)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor("l1", l1)
        self.l2 = _factor("l2", l2)

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float32)
        total = np.float32(0.0)
        if self.l1:
            total += np.float32(self.l1) * np.sum(np.abs(x), dtype=np.float32)
        if self.l2:
            total += np.float32(self.l2) * np.sum(np.square(x), dtype=np.float32)
        return float(total)

    def grad(self, x):
        x = np.asarray(x, dtype=np.float32)
        g = np.zeros_like(x)
        if self.l1:
            g += np.float32(self.l1) * np.sign(x)
        if self.l2:
            g += np.float32(2.0 * self.l2) * x
        return g

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """`l1 * sum(|x|)`, l1 = 0.01 by default."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1, l2=0.0)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """`l2 * sum(x**2)` (no ½), l2 = 0.01 by default."""

    def __init__(self, l2=0.01):
        super().__init__(l1=0.0, l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1(l1=0.01):
    """L1 regularizer (the Keras function spelling)."""
    return L1(l1)


def l2(l2=0.01):
    """L2 regularizer (the Keras function spelling)."""
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):
    """L1L2 regularizer with tf.keras' defaults (0.01 each); `L1L2()` defaults to zeros."""
    return L1L2(l1=l1, l2=l2)


l1l2 = L1L2

_ALIASES = {"l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": l1_l2, "L1": L1, "L2": L2, "L1L2": L1L2}
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}


def serialize(regularizer):
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config, custom_objects=None):
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name) or _ALIASES.get(name)
    if cls is None:
        raise ValueError(f"Unknown regularizer: {name!r}")
    return cls.from_config(config.get("config", {})) if hasattr(cls, "from_config") else cls(
        **config.get("config", {}))


def get(identifier):
    """A regularizer from a name ("l1", "l2", "l1l2", "l1_l2"), a config dict, an instance or a
    callable; None gives None."""
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        fn = _ALIASES.get(identifier) or _ALIASES.get(identifier.lower())
        if fn is None:
            raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}. "
                             f"Known names: {sorted(_ALIASES)}")
        return fn()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")
