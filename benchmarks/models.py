"""The benchmark models, each written once per framework with identical layers and settings.

A model entry gives: data(samples) -> (x, y) float32 arrays; batch_size; flop_per_sample (training
FLOP: forward + backward, 3x the forward multiply-adds x 2); and one runner per framework,
runner(x, y, epochs, threads) -> list of seconds per epoch.
"""

import time

import numpy as np


# ----- data -----------------------------------------------------------------------------------
def mnist_flat(samples=None):
    from aenn.datasets import mnist

    (x, y), _ = mnist.load_data()
    x = x.reshape(-1, 784).astype("float32") / 255.0
    y = np.eye(10, dtype="float32")[y]
    return x[:samples], y[:samples]


def mnist_images(samples=None):
    from aenn.datasets import mnist

    (x, _), _ = mnist.load_data()
    x = (x.astype("float32") / 255.0)[..., None][:samples]
    rng = np.random.default_rng(0)
    noisy = np.clip(x + 0.5 * rng.standard_normal(x.shape, dtype=np.float32), 0, 1)
    return noisy, x


# ----- timing helpers -------------------------------------------------------------------------
class _EpochTimes:
    def __init__(self):
        self.times = []

    def begin(self, *a, **k):
        self._t = time.perf_counter()

    def end(self, *a, **k):
        self.times.append(time.perf_counter() - self._t)


def _fit_with_timer(framework_callbacks_module, model, x, y, epochs, batch_size):
    timer = _EpochTimes()
    cb = framework_callbacks_module.LambdaCallback(on_epoch_begin=timer.begin, on_epoch_end=timer.end)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True, callbacks=[cb])
    return timer.times


def _torch_train(model, loss_fn, x, y, epochs, batch_size, threads, lr=1e-3, opt="adam"):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    optim = (torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7) if opt == "adam"
             else torch.optim.SGD(model.parameters(), lr=lr))
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        perm = torch.randperm(xt.shape[0])
        for i in range(0, xt.shape[0], batch_size):
            idx = perm[i:i + batch_size]
            optim.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            optim.step()
        times.append(time.perf_counter() - t)
    return times


# ----- the course MLP: 784-64-64-10, SGD(0.1), categorical cross-entropy ---------------------
def mlp_aenn(x, y, epochs, threads, batch_size):
    import aenn
    from aenn import layers

    aenn.set_num_threads(threads)
    aenn.utils.set_random_seed(0)
    model = aenn.Sequential([layers.Input((784,)), layers.Dense(64, activation="relu"),
                             layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=aenn.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return _fit_with_timer(aenn.callbacks, model, x, y, epochs, batch_size)


def mlp_torch(x, y, epochs, threads, batch_size):
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))

    def loss_fn(logits, target):
        return nn.functional.cross_entropy(logits, target)

    return _torch_train(model, loss_fn, x, y, epochs, batch_size, threads, lr=0.1, opt="sgd")


def mlp_keras(x, y, epochs, threads, batch_size):
    import torch

    torch.set_num_threads(threads)
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), layers.Dense(64, activation="relu"),
                              layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return _fit_with_timer(keras.callbacks, model, x, y, epochs, batch_size)


def _mlp(batch_size):
    return {
        "data": mnist_flat, "batch_size": batch_size,
        "flop_per_sample": 3 * 2 * (784 * 64 + 64 * 64 + 64 * 10),
        "aenn": lambda x, y, epochs, threads: mlp_aenn(x, y, epochs, threads, batch_size),
        "torch": lambda x, y, epochs, threads: mlp_torch(x, y, epochs, threads, batch_size),
        "keras": lambda x, y, epochs, threads: mlp_keras(x, y, epochs, threads, batch_size),
    }


MODELS = {
    "mlp_b32": _mlp(32),
    "mlp_b128": _mlp(128),
}
