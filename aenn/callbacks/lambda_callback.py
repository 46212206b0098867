"""LambdaCallback: build a callback from plain functions."""

from __future__ import annotations

from .monitor import Callback


class LambdaCallback(Callback):
    """A callback whose hooks are the functions you pass.

    Args:
        on_epoch_begin, on_epoch_end: called as ``f(epoch, logs)``.
        on_train_begin, on_train_end: called as ``f(logs)``.
        on_train_batch_begin, on_train_batch_end: called as ``f(batch, logs)``;
            ``on_batch_begin`` / ``on_batch_end`` are accepted as aliases.
        Any other ``on_*`` hook of Callback may be passed by keyword.

    Example:

    >>> print_cb = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        if "on_batch_begin" in kwargs and on_train_batch_begin is None:
            on_train_batch_begin = kwargs["on_batch_begin"]
        if "on_batch_end" in kwargs and on_train_batch_end is None:
            on_train_batch_end = kwargs["on_batch_end"]
        hooks = {k: v for k, v in kwargs.items() if k not in ("on_batch_begin", "on_batch_end")}
        hooks.update(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}")
            if not callable(fn):
                raise ValueError(
                    f"Invalid value for argument `{name}`: expected a callable, "
                    f"received {name}={fn!r}"
                )
            setattr(self, name, fn)
