"""Callback base class (all Keras hooks) and CallbackList (dispatch + default callbacks)."""

from __future__ import annotations


class Callback:
    """Base class for callbacks: override any of the `on_*` hooks.

    Attributes:
        model: the model being trained (set by `set_model`).
        params: dict with `verbose`, `epochs`, `steps` (set by `set_params`).
    """

    def __init__(self):
        self.params = {}
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """Legacy alias of `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """Legacy alias of `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


_HOOKS = [
    "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
    "on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
    "on_predict_begin", "on_predict_end",
]


class CallbackList:
    """Calls every callback in order: the user's, then History, then ProgbarLogger (Keras)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        if isinstance(callbacks, CallbackList):
            callbacks = callbacks.callbacks
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not all(hasattr(cb, h) for h in ("set_model",)):
                raise TypeError(f"Invalid value in `callbacks`: expected Callback instances, "
                                f"received {cb!r}")
        from .history import History
        from .progbar_logger import ProgbarLogger

        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.params = params
        self.model = model
        for cb in self.callbacks:
            if model is not None:
                cb.set_model(model)
            cb.set_params(dict(params))

    def append(self, callback):
        self.callbacks.append(callback)

    def __iter__(self):
        return iter(self.callbacks)

    def active(self, hook):
        """The bound `hook` methods that do something, in callback order: a Callback whose
        method is the base class's no-op is left out, so that the per-batch hooks, called
        thousands of times per epoch, cost nothing when no callback defines them."""
        base = getattr(Callback, hook)
        out = []
        for cb in self.callbacks:
            fn = getattr(cb, hook, None)
            if fn is not None and getattr(fn, "__func__", None) is not base:
                out.append(fn)
        return out

    def _call(self, hook, *args):
        for cb in self.callbacks:
            fn = getattr(cb, hook, None)
            if fn is not None:
                fn(*args)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs if logs is not None else {})

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs if logs is not None else {})

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs if logs is not None else {})

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs if logs is not None else {})

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs if logs is not None else {})

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs if logs is not None else {})

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs if logs is not None else {})

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs if logs is not None else {})

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs if logs is not None else {})

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs if logs is not None else {})

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs if logs is not None else {})

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs if logs is not None else {})

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs if logs is not None else {})

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs if logs is not None else {})
