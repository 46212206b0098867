"""aenn: the Keras API for autoencoders, on a deterministic C core.

`import aenn as keras` runs classic Keras autoencoder coursework unchanged:
`keras.layers`, `keras.Model`, `keras.Sequential`, `keras.Input`, `keras.optimizers`,
`keras.losses`, `keras.callbacks`, `keras.datasets`, `keras.utils`, `keras.backend`.
"""

__version__ = "0.1.0"

from . import config as _config

_config.ensure_initialized()  # loads aenn._core and sets the thread count (AENN_NUM_THREADS)

from . import (  # noqa: E402
    activations, backend, callbacks, datasets, initializers, layers, losses, metrics, models,
    ops, optimizers, random, regularizers, saving, utils,
)
from .config import get_num_threads, set_num_threads, show_config  # noqa: E402
from .models import Input, Model, Sequential  # noqa: E402
from .saving import load_model  # noqa: E402

models.load_model = load_model
models.save_model = saving.save_model

__all__ = [
    "Input", "Model", "Sequential", "activations", "backend", "callbacks", "datasets",
    "get_num_threads", "initializers", "layers", "load_model", "losses", "metrics", "models",
    "ops", "optimizers", "random", "regularizers", "saving", "set_num_threads", "show_config", "utils",
]
