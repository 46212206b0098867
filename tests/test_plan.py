"""The compiled layer-chain training step (aenn/models/plan.py, csrc/plan.c) against the Python
path: for every eligible configuration, `fit` with AENN_PLAN=0 and with the plan must give
byte-identical weights (BatchNormalization moving statistics included), optimizer variables
(iterations, learning rate, slots), Dropout generator states and History; ineligible models
must fall back to the Python path and still train."""

from __future__ import annotations

import numpy as np
import pytest

import aenn as keras
from aenn.models import plan as plan_module

N_FEAT, N_CLASSES = 23, 7


def data(n, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, N_FEAT), dtype=np.float32)
    labels = rng.integers(0, N_CLASSES, n)
    if sparse:
        return x, labels.astype(np.float32)
    return x, np.eye(N_CLASSES, dtype=np.float32)[labels]


def mlp(activation="relu", last="softmax", units=N_CLASSES, functional=False, **dense_kw):
    layers = [keras.layers.Dense(17, activation=activation, **dense_kw),
              keras.layers.Dense(9, activation=activation),
              keras.layers.Dense(units, activation=last)]
    if not functional:
        return keras.Sequential([keras.Input((N_FEAT,))] + layers)
    inp = keras.Input((N_FEAT,))
    h = inp
    for layer in layers:
        h = layer(h)
    return keras.Model(inp, h)


def autoencoder(last="sigmoid"):
    return keras.Sequential([keras.Input((N_FEAT,)), keras.layers.Dense(11, activation="tanh"),
                             keras.layers.Dense(5, activation="elu"),
                             keras.layers.Dense(N_FEAT, activation=last)])


def train(monkeypatch, plan, make_model, loss, optimizer, x, y, metrics=("accuracy",),
          threads=None, callbacks=None, **fit_kw):
    """(weights bytes, optimizer variable bytes, history, plan steps) of one seeded fit."""
    monkeypatch.setenv("AENN_PLAN", "1" if plan else "0")
    old = keras.get_num_threads()
    if threads:
        keras.set_num_threads(threads)
    try:
        keras.utils.set_random_seed(7)
        model = make_model()
        model.compile(optimizer=optimizer(), loss=loss, metrics=list(metrics))
        before = plan_module.steps_run
        history = model.fit(x, y, verbose=0, callbacks=callbacks, **fit_kw)
        steps = plan_module.steps_run - before
    finally:
        keras.set_num_threads(old)
    weights = [w.tobytes() for w in model.get_weights()]
    slots = [np.asarray(v.numpy()).tobytes() for v in model.optimizer.variables]
    gens = [(layer.seed_generator.key, layer.seed_generator.counter) for layer in model.layers
            if hasattr(layer, "seed_generator")]
    return weights, slots, history.history, steps, gens


def assert_same(monkeypatch, *args, expect_plan=True, **kw):
    a = train(monkeypatch, False, *args, **kw)
    b = train(monkeypatch, True, *args, **kw)
    assert a[3] == 0
    if expect_plan:
        assert b[3] > 0, "the plan was not used"
    assert a[0] == b[0], "weights differ"
    assert a[1] == b[1], "optimizer variables differ"
    assert a[2] == b[2], "history differs"
    assert a[4] == b[4], "random generator states differ"
    return b


SGD = lambda: keras.optimizers.SGD(0.1)  # noqa: E731
MOMENTUM = lambda: keras.optimizers.SGD(0.05, momentum=0.9)  # noqa: E731
NESTEROV = lambda: keras.optimizers.SGD(0.05, momentum=0.8, nesterov=True)  # noqa: E731
ADAM = lambda: keras.optimizers.Adam(2e-3)  # noqa: E731
AMSGRAD = lambda: keras.optimizers.Adam(2e-3, amsgrad=True)  # noqa: E731
RMSPROP = lambda: keras.optimizers.RMSprop(1e-3, momentum=0.5, centered=True)  # noqa: E731
ADAGRAD = lambda: keras.optimizers.Adagrad(0.05)  # noqa: E731
ADADELTA = lambda: keras.optimizers.Adadelta(1.0)  # noqa: E731
SCHEDULE = lambda: keras.optimizers.Adam(  # noqa: E731
    keras.optimizers.schedules.ExponentialDecay(3e-3, decay_steps=3, decay_rate=0.7))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("optimizer", [SGD, MOMENTUM, NESTEROV, ADAM, AMSGRAD, RMSPROP, ADAGRAD,
                                       ADADELTA, SCHEDULE])
def test_mlp_categorical(monkeypatch, threads, optimizer):
    x, y = data(200)
    res = assert_same(monkeypatch, mlp, "categorical_crossentropy", optimizer, x, y,
                      threads=threads, batch_size=32, epochs=2)
    # 7 steps per epoch (the last one partial), the first step of the fit in Python
    assert res[3] == 2 * 7 - 1


@pytest.mark.parametrize("isa", keras._core.available_isas())
def test_every_isa(monkeypatch, isa):
    """The plan calls the same dispatching kernels: same bits as the Python path on each ISA."""
    x, y = data(100)
    old = keras._core.isa()
    keras._core.set_isa(isa)
    try:
        assert_same(monkeypatch, mlp, "categorical_crossentropy", ADAM, x, y, threads=2,
                    batch_size=16, epochs=2)
    finally:
        keras._core.set_isa(old)


@pytest.mark.parametrize("labels_shape", ["flat", "column"])
@pytest.mark.parametrize("optimizer", [SGD, ADAM])
def test_sparse_labels(monkeypatch, labels_shape, optimizer):
    x, y = data(150, sparse=True)
    if labels_shape == "column":
        y = y.reshape(-1, 1)
    assert_same(monkeypatch, mlp, "sparse_categorical_crossentropy", optimizer, x, y,
                batch_size=16, epochs=2)


@pytest.mark.parametrize("loss,last", [("binary_crossentropy", "sigmoid"), ("mse", "sigmoid"),
                                       ("mse", "linear")])
@pytest.mark.parametrize("optimizer", [MOMENTUM, ADAM])
def test_autoencoder(monkeypatch, loss, last, optimizer):
    x, _ = data(130)
    assert_same(monkeypatch, lambda: autoencoder(last), loss, optimizer, x, x, metrics=(),
                batch_size=24, epochs=3)


@pytest.mark.parametrize("threads", [1, 2])
def test_shuffle_validation_partial_batch(monkeypatch, threads):
    x, y = data(301)
    assert_same(monkeypatch, mlp, "categorical_crossentropy", ADAM, x, y, threads=threads,
                batch_size=32, epochs=3, shuffle=True, validation_split=0.2)


def test_functional_other_activations_no_bias(monkeypatch):
    x, y = data(120)
    assert_same(monkeypatch, lambda: mlp("leaky_relu", functional=True, use_bias=False),
                "categorical_crossentropy", NESTEROV, x, y, batch_size=10, epochs=2,
                shuffle=False)


def test_one_unit_sigmoid_bce(monkeypatch):
    x, y = data(90)
    yb = (y[:, 0] > 0).astype(np.float32)  # shape (n,): one output unit
    assert_same(monkeypatch, lambda: mlp(last="sigmoid", units=1), "binary_crossentropy", SGD,
                x, yb, metrics=(), batch_size=8, epochs=2)


def test_categorical_accuracy_name_and_batch_size_one(monkeypatch):
    x, y = data(20)
    assert_same(monkeypatch, mlp, "categorical_crossentropy", SGD, x, y,
                metrics=("categorical_accuracy",), batch_size=1, epochs=1)


def _awkward_targets(n, cols=37):
    """Targets whose argmax needs care: a subnormal above zeros (DAZ would call it zero), -0
    with one +0 (they tie: the first wins), repeated maxima, the maximum in the last columns
    after the 16-lane blocks."""
    y = np.zeros((n, cols), np.float32)
    y[0::4, 5] = 1e-40
    y[1::4] = -0.0
    y[1::4, 30] = 0.0
    y[2::4, [3, 20, cols - 1]] = 1.0
    y[3::4, cols - 1] = 2.0
    return y


def relu_net(cols=37):
    """ReLU outputs with a negative bias: about a third of the rows predict all zeros, a tie
    whose argmax is the first column."""
    last = keras.layers.Dense(cols, activation="relu",
                              bias_initializer=keras.initializers.Constant(-0.6))
    return keras.Sequential([keras.Input((N_FEAT,)), keras.layers.Dense(8, activation="relu"),
                             last])


@pytest.mark.parametrize("isa", keras._core.available_isas())
def test_accuracy_count_ties_signed_zeros_subnormals(monkeypatch, restore_core, isa):
    """The C step's accuracy count (argmax in two vectorised passes, one build per ISA) gives
    np.argmax's answers: History's accuracy is the Python path's to the bit."""
    x = np.random.default_rng(5).normal(size=(96, N_FEAT)).astype(np.float32)
    y = _awkward_targets(96)
    keras._core.set_isa(isa)
    assert_same(monkeypatch, relu_net, "mse", ADAM, x, y, batch_size=16, epochs=2)


def test_accuracy_count_nan_predictions(monkeypatch):
    """NaN predictions: np.argmax takes the first NaN as the maximum. One Dense layer with a NaN
    bias in column 10: that column is NaN at every step and the others stay finite (the NaN
    gradient reaches only column 10's weights), so the prediction's argmax is 10."""
    def poisoned():
        model = keras.Sequential([keras.Input((N_FEAT,)), keras.layers.Dense(37)])
        bias = model.layers[0].bias.numpy()
        bias[10] = np.nan
        model.layers[0].bias.assign(bias)
        return model

    x = np.random.default_rng(6).normal(size=(64, N_FEAT)).astype(np.float32)
    y = _awkward_targets(64)
    y[0::2, 10] = 3.0  # half the targets have their argmax in the NaN column
    runs = [train(monkeypatch, plan, poisoned, "mse", ADAM, x, y, batch_size=16, epochs=2)
            for plan in (False, True)]
    assert runs[1][3] > 0, "the plan was not used"
    acc = [run[2]["accuracy"] for run in runs]
    assert acc[0] == acc[1] == [0.5, 0.5]


class _Meddler(keras.callbacks.Callback):
    """Changes the learning rate and replaces the weights (new arrays) in the middle of fit."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 3:
            self.model.optimizer.learning_rate = 0.02
        if batch == 5:
            self.model.set_weights([w * np.float32(0.5) for w in self.model.get_weights()])

    def on_epoch_end(self, epoch, logs=None):
        self.model.layers[0].kernel.assign(self.model.layers[0].kernel.numpy() + 0.01)


def test_callbacks_changing_learning_rate_and_weights(monkeypatch):
    x, y = data(160)
    assert_same(monkeypatch, mlp, "categorical_crossentropy", MOMENTUM, x, y, batch_size=16,
                epochs=3, callbacks=[_Meddler()])


def test_resume_and_switch_paths(monkeypatch):
    """Two fits in a row (the optimizer state carries over), the second one on the other
    path, give the same bits as both on the Python path."""
    x, y = data(100)
    results = []
    for first, second in ((False, False), (True, False), (False, True)):
        keras.utils.set_random_seed(3)
        model = mlp()
        model.compile(ADAM(), "categorical_crossentropy", metrics=["accuracy"])
        hist = []
        for use in (first, second):
            monkeypatch.setenv("AENN_PLAN", "1" if use else "0")
            hist.append(model.fit(x, y, batch_size=16, epochs=2, verbose=0).history)
        results.append(([w.tobytes() for w in model.get_weights()],
                        [np.asarray(v.numpy()).tobytes() for v in model.optimizer.variables],
                        hist))
    assert results[0] == results[1] == results[2]


def test_bad_sparse_label_raises_like_python(monkeypatch):
    x, y = data(64, sparse=True)
    y[40] = N_CLASSES  # out of range, in the second batch
    messages = []
    for flag in ("0", "1"):
        monkeypatch.setenv("AENN_PLAN", flag)
        model = mlp()
        model.compile(SGD(), "sparse_categorical_crossentropy")
        with pytest.raises(ValueError) as err:
            model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("case", ["regularizer", "gaussian_noise", "mae_metric", "nadam",
                                  "clipnorm", "label_smoothing", "env_off"])
def test_ineligible_models_fall_back(monkeypatch, case, capsys):
    x, y = data(96)
    monkeypatch.setenv("AENN_PLAN", "0" if case == "env_off" else "1")
    keras.utils.set_random_seed(5)
    if case == "regularizer":
        model = mlp(kernel_regularizer=keras.regularizers.L2(1e-3))
    elif case == "gaussian_noise":
        model = keras.Sequential([keras.Input((N_FEAT,)), keras.layers.Dense(8, "relu"),
                                  keras.layers.GaussianNoise(0.3),
                                  keras.layers.Dense(N_CLASSES, "softmax")])
    else:
        model = mlp()
    optimizer = {"nadam": keras.optimizers.Nadam(1e-3),
                 "clipnorm": keras.optimizers.SGD(0.1, clipnorm=1.0)}.get(case, SGD())
    loss = (keras.losses.CategoricalCrossentropy(label_smoothing=0.1)
            if case == "label_smoothing" else "categorical_crossentropy")
    metrics = ["accuracy", "mae"] if case == "mae_metric" else ["accuracy"]
    model.compile(optimizer, loss, metrics=metrics)
    before_w = [w.copy() for w in model.get_weights()]
    before = plan_module.steps_run
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert plan_module.steps_run == before, "the plan ran for an ineligible model"
    assert len(history.history["loss"]) == 2
    assert all(np.isfinite(v) for v in history.history["loss"])
    assert any(not np.array_equal(a, b) for a, b in zip(before_w, model.get_weights()))


def test_plan_create_rejects_bad_arguments():
    from aenn import _core
    k = np.zeros((3, 2), np.float32)
    buf = np.zeros((4, 2), np.float32)
    layer = (0, 1, 0, buf, buf.copy(), k, None, 99, 1.0, buf, None, k.copy(), None)
    with pytest.raises(ValueError, match="activation kind"):
        _core.plan_create([layer], np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32),
                          None, (2, 0.0, 0, 1, np.zeros(4, np.float32), np.zeros(1)),
                          (0, [k], [], 0, np.zeros((), np.int64)), 0)
    with pytest.raises(TypeError, match="plan_create"):
        _core.plan_step(None, None, None, None, None)


def test_batch_larger_than_data_and_steps_per_epoch(monkeypatch):
    x, y = data(40)
    assert_same(monkeypatch, mlp, "categorical_crossentropy", MOMENTUM, x, y, batch_size=64,
                epochs=3)
    assert_same(monkeypatch, mlp, "categorical_crossentropy", ADAM, x, y, batch_size=16,
                epochs=3, steps_per_epoch=2)


# ----- BatchNormalization, Dropout and activation layers (the dense DAE) ------------------------

DAE_FEAT = 40


def dae(bn=True, dropout=0.2, act="leaky", use_bias=True, bn_kw=None, width=1, last="sigmoid",
        functional=False, input_dropout=None):
    """The dense DAE benchmark's shape (benchmarks/models.py `_dense_dae_keras_api`), small:
    Dense -> BatchNormalization -> Dropout -> LeakyReLU blocks, a linear bottleneck, a sigmoid
    Dense output."""
    L = keras.layers
    init = "random_normal"

    def activation():
        if act == "leaky":
            return L.LeakyReLU(negative_slope=0.3)
        if act == "relu_layer":
            return L.ReLU(max_value=0.9, negative_slope=0.1, threshold=0.05)
        if act == "elu":
            return L.ELU(0.7)
        return L.Activation(act)

    def block(units, drop=False):
        out = [L.Dense(units * width, kernel_initializer=init, use_bias=use_bias)]
        if bn:
            out.append(L.BatchNormalization(**(bn_kw or {})))
        if drop and dropout is not None:
            out.append(L.Dropout(dropout))
        out.append(activation())
        return out

    layers = [] if input_dropout is None else [L.Dropout(input_dropout)]
    layers += block(24, True) + block(24, True) + block(16)
    layers.append(L.Dense(8, kernel_initializer=init, name="BottleNeck"))
    layers += block(16) + block(24)
    if last == "sigmoid":
        layers.append(L.Dense(DAE_FEAT, activation="sigmoid", kernel_initializer=init))
    else:  # a linear Dense, then a Softmax or Activation('sigmoid') layer
        layers += [L.Dense(DAE_FEAT, kernel_initializer=init),
                   L.Softmax() if last == "softmax_layer" else L.Activation("sigmoid")]
    if not functional:
        return keras.Sequential([keras.Input((DAE_FEAT,))] + layers)
    inp = keras.Input((DAE_FEAT,))
    h = inp
    for layer in layers:
        h = layer(h)
    return keras.Model(inp, h)


def dae_data(n=512, seed=1):
    return np.random.default_rng(seed).random((n, DAE_FEAT), dtype=np.float32)


@pytest.mark.parametrize("threads", [1, 2])
def test_dae_benchmark_model(monkeypatch, threads):
    """The benchmark's DAE layout (small): MSE + 'accuracy' (categorical accuracy on float
    targets), Adam, 512 samples, 2 epochs, batch 64 -- every step but the first in C."""
    x = dae_data()
    res = assert_same(monkeypatch, dae, "mse", ADAM, x, x, threads=threads, batch_size=64,
                      epochs=2)
    assert res[3] == 2 * 8 - 1
    assert res[4] and all(counter == 2 * 8 for _, counter in res[4])


@pytest.mark.parametrize("isa", keras._core.available_isas())
def test_dae_every_isa(monkeypatch, isa):
    x = dae_data(300)
    old = keras._core.isa()
    keras._core.set_isa(isa)
    try:
        assert_same(monkeypatch, dae, "mse", ADAM, x, x, threads=2, batch_size=48, epochs=2)
    finally:
        keras._core.set_isa(old)


_VARIANTS = {
    "bn_only": ({"dropout": None}, "mse"),
    "dropout_only": ({"bn": False, "dropout": 0.3}, "mse"),
    "relu_layer": ({"act": "relu_layer"}, "mse"),
    "elu_layer": ({"act": "elu"}, "mse"),
    "tanh_activation_layer": ({"act": "tanh"}, "mse"),
    "rate_0": ({"dropout": 0.0}, "mse"),
    "rate_0.5": ({"dropout": 0.5}, "mse"),
    "rate_1": ({"dropout": 1.0}, "mse"),
    "no_bias": ({"use_bias": False}, "mse"),
    "bn_momentum_epsilon": ({"bn_kw": {"momentum": 0.7, "epsilon": 1e-5}}, "mse"),
    "bn_no_center": ({"bn_kw": {"center": False}}, "mse"),
    "bn_no_scale": ({"bn_kw": {"scale": False}}, "mse"),
    "bn_no_center_no_scale": ({"bn_kw": {"center": False, "scale": False}}, "mse"),
    "functional": ({"functional": True}, "mse"),
    "input_dropout": ({"input_dropout": 0.25}, "mse"),
    # an Activation('sigmoid') layer last: BCE reads its input as logits
    "sigmoid_layer_bce": ({"last": "sigmoid_layer"}, "binary_crossentropy"),
    "sigmoid_layer_mse": ({"last": "sigmoid_layer"}, "mse"),
    # a Softmax layer last: no `activation` attribute, so the loss reads its output
    "softmax_layer_cce": ({"last": "softmax_layer"}, "categorical_crossentropy"),
}


@pytest.mark.parametrize("optimizer", [ADAM, MOMENTUM])
@pytest.mark.parametrize("variant", list(_VARIANTS))
def test_dae_variants(monkeypatch, variant, optimizer):
    x = dae_data(200, seed=2)
    kw, loss = _VARIANTS[variant]
    y = x
    if variant == "softmax_layer_cce":
        y = np.eye(DAE_FEAT, dtype=np.float32)[np.arange(x.shape[0]) % DAE_FEAT]
    res = assert_same(monkeypatch, lambda: dae(**kw), loss, optimizer, x, y, batch_size=32,
                      epochs=2)
    assert res[3] == 2 * 7 - 1


class _DaeMeddler(keras.callbacks.Callback):
    """Changes the learning rate, a Dropout rate and a BatchNormalization momentum, and
    replaces the weights (moving statistics included) in the middle of fit."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 2:
            self.model.optimizer.learning_rate = 0.004
        if batch == 3:
            next(l for l in self.model.layers if type(l) is keras.layers.Dropout).rate = 0.4
        if batch == 4:
            self.model.set_weights([w * np.float32(0.9) for w in self.model.get_weights()])
        if batch == 5:
            next(l for l in self.model.layers
                 if type(l) is keras.layers.BatchNormalization).momentum = 0.5


@pytest.mark.parametrize("threads", [1, 2])
def test_dae_callbacks_changing_learning_rate_rate_and_weights(monkeypatch, threads):
    x = dae_data(256, seed=3)
    res = assert_same(monkeypatch, dae, "mse", ADAM, x, x, threads=threads, batch_size=32,
                      epochs=2, callbacks=[_DaeMeddler()])
    assert res[3] > 8


def test_dae_shuffle_validation_partial_batch(monkeypatch):
    x = dae_data(301, seed=4)
    assert_same(monkeypatch, dae, "mse", SCHEDULE, x, x, batch_size=64, epochs=3,
                validation_split=0.2)


def _ineligible_dae(case):
    L = keras.layers
    inp = keras.Input((DAE_FEAT,))
    h = L.Dense(16)(inp)
    if case == "bn_regularizer":
        h = L.BatchNormalization(gamma_regularizer=keras.regularizers.L2(1e-3))(h)
    elif case == "bn_frozen":
        bn = L.BatchNormalization()
        bn.trainable = False  # inference mode inside fit
        h = bn(h)
    elif case == "gaussian_noise":
        h = L.GaussianNoise(0.1)(L.BatchNormalization()(h))
    elif case == "noise_shape":
        h = L.Dropout(0.2, noise_shape=(None, 16))(h)
    elif case == "dropout_training_false":
        h = L.Dropout(0.2)(h, training=False)
    elif case == "activity_regularizer":
        h = L.BatchNormalization()(L.Dense(16, activity_regularizer=keras.regularizers.L1(1e-3))(h))
    elif case == "identity":
        h = L.Identity()(h)
    elif case == "no_dense":
        inp = keras.Input((DAE_FEAT,))
        return keras.Model(inp, L.BatchNormalization()(L.Dropout(0.2)(inp)))
    h = L.LeakyReLU()(h)
    return keras.Model(inp, L.Dense(DAE_FEAT, activation="sigmoid")(h))


@pytest.mark.parametrize("case", ["bn_regularizer", "bn_frozen", "gaussian_noise", "noise_shape",
                                  "dropout_training_false", "activity_regularizer", "identity",
                                  "no_dense"])
def test_ineligible_dae_layers_fall_back(monkeypatch, case):
    x = dae_data(96, seed=5)
    monkeypatch.setenv("AENN_PLAN", "1")
    keras.utils.set_random_seed(5)
    model = _ineligible_dae(case)
    model.compile(ADAM(), "mse", metrics=["accuracy"])
    before = plan_module.steps_run
    history = model.fit(x, x, batch_size=16, epochs=2, verbose=0)
    assert plan_module.steps_run == before, "the plan ran for an ineligible model"
    assert all(np.isfinite(v) for v in history.history["loss"])


def test_batchnorm_renorm_is_rejected_at_construction():
    """Keras' renorm arguments are not accepted by aenn at all, so no such layer reaches fit."""
    with pytest.raises(TypeError, match="renorm"):
        keras.layers.BatchNormalization(renorm=True)


def test_plan_create_rejects_bad_layer_flags():
    from aenn import _core
    y = np.zeros((4, 3), np.float32)
    k = np.zeros((3, 3), np.float32)
    dense = (0, 1, 1, y, y.copy(), k, None, 0, 1.0, y, None, k.copy(), None)  # need_dx on layer 0
    with pytest.raises(ValueError, match="need_dx"):
        _core.plan_create([dense], np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32),
                          None, (2, 0.0, 0, 0, np.zeros(4, np.float32), np.zeros(1)),
                          (0, [k], [], 0, np.zeros((), np.int64)), 0)
    dense = (0, 1, 0, y, y.copy(), k, None, 0, 1.0, y, None, k.copy(), None)
    bn = (1, 1, 1, np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32), None, None,
          np.zeros(3, np.float32), np.zeros(3, np.float32), np.zeros(3, np.float32),
          np.zeros(3, np.float32), np.zeros(3, np.float32), None, None, 0.9, 1e-3)
    with pytest.raises(ValueError, match="bn_scratch"):
        _core.plan_create([dense, bn], np.zeros((4, 3), np.float32),
                          np.zeros((4, 3), np.float32), None,
                          (2, 0.0, 0, 0, np.zeros(4, np.float32), np.zeros(1)),
                          (0, [k], [], 0, np.zeros((), np.int64)), 0, np.zeros(1))
