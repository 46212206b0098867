"""The benchmark models, each written once per framework with identical layers and settings.

A model entry gives: data(samples) -> (x, y) float32 arrays (channels-last, as Keras takes
them; the PyTorch runners transpose to channels-first once, outside the timed loop);
batch_size; flop_per_sample (training FLOP: 3 x the forward multiply-adds x 2); and one runner
per framework, runner(x, y, epochs, threads) -> list of seconds per epoch. "Predict" entries
time one inference pass over the data instead of a training epoch (flop_per_sample is then
the forward FLOP only).

Equivalences used for PyTorch: `padding="same"` with stride 1 -> padding=k//2; Conv1D
stride 2 "same" (k=7) -> padding=3; Conv1DTranspose stride 2 "same" -> padding=3,
output_padding=1; MaxPooling2D(2, "same") on even sizes -> MaxPool2d(2); UpSampling2D ->
nearest Upsample(2); BatchNormalization(momentum=0.99, epsilon=1e-3) -> momentum=0.01,
eps=1e-3; Adam epsilon 1e-7 (Keras' default). Softmax + categorical cross-entropy ->
logits + F.cross_entropy (what Keras computes from the logits as well).
"""

import time

import numpy as np


# ----- data -----------------------------------------------------------------------------------
def mnist_flat(samples=None):
    from aenn.datasets import mnist

    (x, y), _ = mnist.load_data()
    x = x[:samples].reshape(-1, 784).astype("float32")
    x /= 255.0  # in place: no full-size temporary
    return x, np.eye(10, dtype="float32")[y[:samples]]


def mnist_labeled_images(samples=None):
    from aenn.datasets import mnist

    (x, y), _ = mnist.load_data()
    x = x[:samples].astype("float32")
    x /= 255.0  # in place: no full-size temporary
    return x[..., None], np.eye(10, dtype="float32")[y[:samples]]


def mnist_noisy_images(samples=None, noise_factor=0.5):
    from aenn.datasets import mnist

    (x, _), _ = mnist.load_data()
    # In place, so that building the data needs no full-size temporaries (the benchmark
    # reports the peak memory of the process, data included); same values as
    # clip(x / 255 + noise_factor * normal, 0, 1) computed out of place.
    x = x[:samples].astype("float32")
    x /= 255.0
    x = x[..., None]
    rng = np.random.default_rng(0)
    noisy = rng.standard_normal(x.shape, dtype=np.float32)
    noisy *= np.float32(noise_factor)
    noisy += x
    np.clip(noisy, 0, 1, out=noisy)
    return noisy, x


def mnist_noisy_flat(samples=None):
    noisy, clean = mnist_noisy_images(samples, noise_factor=0.1)
    return noisy.reshape(-1, 784), clean.reshape(-1, 784)


def nab_windows(samples=None, steps=288):
    """keras.io timeseries anomaly detection: z-scored art_daily_small_noise, 3,745 windows."""
    from aenn.datasets import nab

    _, values = nab.load_series("art_daily_small_noise")
    values = (values - values.mean()) / values.std()
    windows = np.stack([values[i:i + steps] for i in range(len(values) - steps + 1)])
    x = windows[..., None].astype("float32")[:samples]
    return x, x


# ----- timing helpers -------------------------------------------------------------------------
class _EpochTimes:
    def __init__(self):
        self.times = []

    def begin(self, *a, **k):
        self._t = time.perf_counter()

    def end(self, *a, **k):
        self.times.append(time.perf_counter() - self._t)


def _fit_with_timer(callbacks_module, model, x, y, epochs, batch_size):
    timer = _EpochTimes()
    cb = callbacks_module.LambdaCallback(on_epoch_begin=timer.begin, on_epoch_end=timer.end)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True, callbacks=[cb])
    return timer.times


def _predict_times(model, x, epochs, batch_size):
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        model.predict(x, batch_size=batch_size, verbose=0)
        times.append(time.perf_counter() - t)
    return times


def _nchw(a):
    """NHWC -> NCHW (or NLC -> NCL), contiguous, for PyTorch."""
    return np.ascontiguousarray(np.moveaxis(a, -1, 1)) if a.ndim > 2 else a


def _torch_train(model, loss_fn, x, y, epochs, batch_size, threads, lr=1e-3, opt="adam"):
    import torch

    torch.set_num_threads(threads)
    xt, yt = torch.from_numpy(_nchw(x)), torch.from_numpy(_nchw(y))
    optim = (torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7) if opt == "adam"
             else torch.optim.SGD(model.parameters(), lr=lr))
    model.train()
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


def _torch_predict(model, x, epochs, batch_size, threads):
    import torch

    torch.set_num_threads(threads)
    xt = torch.from_numpy(_nchw(x))
    model.eval()
    times = []
    with torch.no_grad():
        for _ in range(epochs):
            t = time.perf_counter()
            outs = [model(xt[i:i + batch_size]) for i in range(0, xt.shape[0], batch_size)]
            torch.cat(outs).numpy()
            times.append(time.perf_counter() - t)
    return times


def _aenn(threads):
    import aenn

    aenn.set_num_threads(threads)
    aenn.utils.set_random_seed(0)
    return aenn


def _keras(threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    import keras

    keras.utils.set_random_seed(0)
    return keras


def _torch(threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    return torch


# ----- model definitions (Keras API: aenn and keras share one builder) -----------------------
def _mlp_keras_api(k):
    L = k.layers
    return k.Sequential([k.Input((784,)), L.Dense(64, activation="relu"),
                         L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])


def _conv_denoiser_keras_api(k):
    L = k.layers
    inp = k.Input((28, 28, 1))
    h = L.Conv2D(16, (3, 3), activation="relu", padding="same")(inp)
    h = L.MaxPooling2D((2, 2), padding="same")(h)
    h = L.Conv2D(16, (3, 3), activation="relu", padding="same")(h)
    h = L.MaxPooling2D((2, 2), padding="same")(h)
    h = L.Conv2D(16, (3, 3), activation="relu", padding="same")(h)
    h = L.UpSampling2D((2, 2))(h)
    h = L.Conv2D(16, (3, 3), activation="relu", padding="same")(h)
    h = L.UpSampling2D((2, 2))(h)
    out = L.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(h)
    return k.Model(inp, out)


def _dense_dae_keras_api(k):
    L = k.layers
    init = "random_normal"

    def block(units, name=None, bn=True, dropout=False):
        out = [L.Dense(units, kernel_initializer=init, name=name)]
        if bn:
            out.append(L.BatchNormalization())
        if dropout:
            out.append(L.Dropout(0.2))
        out.append(L.LeakyReLU(negative_slope=0.3))
        return out

    layers = [k.Input((784,))]
    layers += block(512, "Encoder", dropout=True) + block(512, dropout=True) + block(256)
    layers.append(L.Dense(196, kernel_initializer=init, name="BottleNeck"))
    layers += block(256, "Decoder") + block(512)
    layers.append(L.Dense(784, activation="sigmoid", kernel_initializer=init))
    return k.Sequential(layers)


def _convnet_keras_api(k):
    L = k.layers
    return k.Sequential([k.Input((28, 28, 1)), L.Conv2D(32, (3, 3), activation="relu"),
                         L.MaxPooling2D((2, 2)), L.Conv2D(64, (3, 3), activation="relu"),
                         L.MaxPooling2D((2, 2)), L.Flatten(), L.Dropout(0.5),
                         L.Dense(10, activation="softmax")])


def _conv1d_ae_keras_api(k):
    L = k.layers
    return k.Sequential([
        k.Input((288, 1)),
        L.Conv1D(32, 7, padding="same", strides=2, activation="relu"), L.Dropout(0.2),
        L.Conv1D(16, 7, padding="same", strides=2, activation="relu"),
        L.Conv1DTranspose(16, 7, padding="same", strides=2, activation="relu"), L.Dropout(0.2),
        L.Conv1DTranspose(32, 7, padding="same", strides=2, activation="relu"),
        L.Conv1DTranspose(1, 7, padding="same"),
    ])


# ----- the same models in PyTorch -------------------------------------------------------------
def _mlp_torch():
    from torch import nn

    return nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 10))  # logits; softmax is in the loss


def _conv_denoiser_torch():
    from torch import nn

    def conv(cin, cout, act):
        return [nn.Conv2d(cin, cout, 3, padding=1), act]

    return nn.Sequential(
        *conv(1, 16, nn.ReLU()), nn.MaxPool2d(2),
        *conv(16, 16, nn.ReLU()), nn.MaxPool2d(2),
        *conv(16, 16, nn.ReLU()), nn.Upsample(scale_factor=2, mode="nearest"),
        *conv(16, 16, nn.ReLU()), nn.Upsample(scale_factor=2, mode="nearest"),
        *conv(16, 1, nn.Sigmoid()))


def _dense_dae_torch():
    from torch import nn

    def block(cin, cout, bn=True, dropout=False):
        out = [nn.Linear(cin, cout)]
        if bn:
            out.append(nn.BatchNorm1d(cout, eps=1e-3, momentum=0.01))
        if dropout:
            out.append(nn.Dropout(0.2))
        out.append(nn.LeakyReLU(0.3))
        return out

    model = nn.Sequential(*block(784, 512, dropout=True), *block(512, 512, dropout=True),
                          *block(512, 256), nn.Linear(256, 196), *block(196, 256),
                          *block(256, 512), nn.Linear(512, 784), nn.Sigmoid())
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.05)
            nn.init.zeros_(m.bias)
    return model


def _convnet_torch():
    from torch import nn

    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5),
                         nn.Linear(1600, 10))


def _conv1d_ae_torch():
    from torch import nn

    return nn.Sequential(
        nn.Conv1d(1, 32, 7, stride=2, padding=3), nn.ReLU(), nn.Dropout(0.2),
        nn.Conv1d(32, 16, 7, stride=2, padding=3), nn.ReLU(),
        nn.ConvTranspose1d(16, 16, 7, stride=2, padding=3, output_padding=1), nn.ReLU(),
        nn.Dropout(0.2),
        nn.ConvTranspose1d(16, 32, 7, stride=2, padding=3, output_padding=1), nn.ReLU(),
        nn.ConvTranspose1d(32, 1, 7, padding=3))


# ----- runners ----------------------------------------------------------------------------------
# Per model: Keras-API builder, compile settings, torch builder and torch loss.
def _ce_logits(out, target):
    import torch.nn.functional as F

    return F.cross_entropy(out, target)


def _bce(out, target):
    import torch.nn.functional as F

    return F.binary_cross_entropy(out, target)


def _mse(out, target):
    import torch.nn.functional as F

    return F.mse_loss(out, target)


SPECS = {
    "mlp": {"build": _mlp_keras_api, "torch": _mlp_torch, "torch_loss": _ce_logits,
                "optimizer": ("sgd", 0.1), "loss": "categorical_crossentropy", "metrics": ["accuracy"]},
    "conv_denoiser": {"build": _conv_denoiser_keras_api, "torch": _conv_denoiser_torch,
                          "torch_loss": _bce, "optimizer": ("adam", 1e-3),
                          "loss": "binary_crossentropy", "metrics": []},
    "dense_dae": {"build": _dense_dae_keras_api, "torch": _dense_dae_torch, "torch_loss": _mse,
                      "optimizer": ("adam", 1e-3), "loss": "mse", "metrics": ["accuracy"]},
    "convnet": {"build": _convnet_keras_api, "torch": _convnet_torch, "torch_loss": _ce_logits,
                    "optimizer": ("adam", 1e-3), "loss": "categorical_crossentropy",
                    "metrics": ["accuracy"]},
    "conv1d_ae": {"build": _conv1d_ae_keras_api, "torch": _conv1d_ae_torch, "torch_loss": _mse,
                      "optimizer": ("adam", 1e-3), "loss": "mse", "metrics": []},
}


def _keras_api_model(k, spec):
    model = spec["build"](k)
    name, lr = spec["optimizer"]
    opt = k.optimizers.SGD(learning_rate=lr) if name == "sgd" else k.optimizers.Adam(
        learning_rate=lr)
    model.compile(optimizer=opt, loss=spec["loss"], metrics=spec["metrics"])
    return model


def _ce_targets(spec, y):
    """PyTorch's cross_entropy takes class indices."""
    return y.argmax(axis=-1).astype(np.int64) if spec["torch_loss"] is _ce_logits else y


def fit_runner(key, framework, batch_size):
    spec = SPECS[key]

    def run(x, y, epochs, threads):
        if framework == "torch":
            _torch(threads)
            return _torch_train(spec["torch"](), spec["torch_loss"], x, _ce_targets(spec, y),
                                epochs, batch_size, threads, lr=spec["optimizer"][1],
                                opt=spec["optimizer"][0])
        k = _aenn(threads) if framework == "aenn" else _keras(threads)
        model = _keras_api_model(k, spec)
        return _fit_with_timer(k.callbacks, model, x, y, epochs, batch_size)

    return run


def predict_runner(key, framework, batch_size):
    spec = SPECS[key]

    def run(x, y, epochs, threads):
        if framework == "torch":
            _torch(threads)
            return _torch_predict(spec["torch"](), x, epochs, batch_size, threads)
        k = _aenn(threads) if framework == "aenn" else _keras(threads)
        return _predict_times(spec["build"](k), x, epochs, batch_size)

    return run


# ----- forward multiply-adds per sample (for GFLOP/s) -----------------------------------------
def _conv2d_macs(out_hw, cout, k, cin):
    return out_hw * out_hw * cout * k * k * cin


MACS = {
    "mlp": 784 * 64 + 64 * 64 + 64 * 10,
    "conv_denoiser": (_conv2d_macs(28, 16, 3, 1) + _conv2d_macs(14, 16, 3, 16)
                      + _conv2d_macs(7, 16, 3, 16) + _conv2d_macs(14, 16, 3, 16)
                      + _conv2d_macs(28, 1, 3, 16)),
    "dense_dae": (784 * 512 + 512 * 512 + 512 * 256 + 256 * 196 + 196 * 256 + 256 * 512
                  + 512 * 784),
    "convnet": _conv2d_macs(26, 32, 3, 1) + _conv2d_macs(11, 64, 3, 32) + 1600 * 10,
    # Conv1D: output length x cout x k x cin; Conv1DTranspose: input length x k x cin x cout.
    "conv1d_ae": 144 * 32 * 7 * 1 + 72 * 16 * 7 * 32 + 72 * 7 * 16 * 16 + 144 * 7 * 16 * 32
                 + 288 * 7 * 32 * 1,
}

PARAMS = {"mlp": 55_050, "conv_denoiser": 7_265, "dense_dae": 1_438_676, "convnet": 34_826,
          "conv1d_ae": 9_505}


def _train_entry(key, data, batch_size):
    return {
        "data": data, "batch_size": batch_size, "kind": "fit", "params": PARAMS[key],
        "flop_per_sample": 3 * 2 * MACS[key],
        **{fw: fit_runner(key, fw, batch_size) for fw in ("aenn", "torch", "keras")},
    }


def _predict_entry(key, data, batch_size):
    return {
        "data": data, "batch_size": batch_size, "kind": "predict", "params": PARAMS[key],
        "flop_per_sample": 2 * MACS[key],
        **{fw: predict_runner(key, fw, batch_size) for fw in ("aenn", "torch", "keras")},
    }


MODELS = {
    "conv_denoiser_b128": _train_entry("conv_denoiser", mnist_noisy_images, 128),
    "dense_dae_b256": _train_entry("dense_dae", mnist_noisy_flat, 256),
    "mlp_b32": _train_entry("mlp", mnist_flat, 32),
    "convnet_b128": _train_entry("convnet", mnist_labeled_images, 128),
    "conv1d_ae_b128": _train_entry("conv1d_ae", nab_windows, 128),
    "predict_dense_dae_b256": _predict_entry("dense_dae", mnist_noisy_flat, 256),
    "predict_conv_denoiser_b128": _predict_entry("conv_denoiser", mnist_noisy_images, 128),
}
