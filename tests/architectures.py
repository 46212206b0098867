"""The coursework architectures (shared/docs/TASKS.md §2-§5, KERAS.md §15), one builder each.

Every builder takes the Keras-like module ``K`` (``aenn`` or the real ``keras``) and writes the
model the way the course code does, so the same function builds the aenn model and the Keras
reference. Builders return a dict ``{name: model}`` (submodels included), in the order the
course code creates them.
"""

from __future__ import annotations

import numpy as np


def _sampling_layer(K):
    """aenn ships ``layers.Sampling``; for real Keras, the keras.io VAE's own layer."""
    if hasattr(K.layers, "Sampling"):
        return K.layers.Sampling(add_kl=False)

    class Sampling(K.layers.Layer):
        """Uses (z_mean, z_log_var) to sample z (keras.io VAE example)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = K.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch = K.ops.shape(z_mean)[0]
            dim = K.ops.shape(z_mean)[1]
            epsilon = K.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + K.ops.exp(0.5 * z_log_var) * epsilon

    return Sampling()


# ----- HEIG-VD PW12 (seed 000/001) and the Keras blog ---------------------------------------

def heig_conv_denoiser(K):
    """The professor's 16-filter conv denoiser: 7,265 params, code 7x7x16."""
    L = K.layers
    input_img = K.Input(shape=(28, 28, 1))
    x = L.Conv2D(16, (3, 3), activation="relu", padding="same")(input_img)
    x = L.MaxPooling2D((2, 2), padding="same")(x)
    x = L.Conv2D(16, (3, 3), activation="relu", padding="same")(x)
    encoded = L.MaxPooling2D((2, 2), padding="same")(x)
    x = L.Conv2D(16, (3, 3), activation="relu", padding="same")(encoded)
    x = L.UpSampling2D((2, 2))(x)
    x = L.Conv2D(16, (3, 3), activation="relu", padding="same")(x)
    x = L.UpSampling2D((2, 2))(x)
    decoded = L.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    autoencoder = K.Model(input_img, decoded)
    return {"autoencoder": autoencoder}


def blog_denoiser(K):
    """Keras blog denoising section: 32 filters, code 7x7x32, 28,353 params."""
    L = K.layers
    input_img = K.Input(shape=(28, 28, 1))
    x = L.Conv2D(32, (3, 3), activation="relu", padding="same")(input_img)
    x = L.MaxPooling2D((2, 2), padding="same")(x)
    x = L.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    encoded = L.MaxPooling2D((2, 2), padding="same")(x)
    x = L.Conv2D(32, (3, 3), activation="relu", padding="same")(encoded)
    x = L.UpSampling2D((2, 2))(x)
    x = L.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = L.UpSampling2D((2, 2))(x)
    decoded = L.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return {"autoencoder": K.Model(input_img, decoded)}


def blog_conv_ae(K):
    """Keras blog conv AE 16-8-8, code (4,4,8), one 'valid' conv in the decoder: 4,385 params."""
    L = K.layers
    input_img = K.Input(shape=(28, 28, 1))
    x = L.Conv2D(16, (3, 3), activation="relu", padding="same")(input_img)
    x = L.MaxPooling2D((2, 2), padding="same")(x)
    x = L.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = L.MaxPooling2D((2, 2), padding="same")(x)
    x = L.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    encoded = L.MaxPooling2D((2, 2), padding="same")(x)
    x = L.Conv2D(8, (3, 3), activation="relu", padding="same")(encoded)
    x = L.UpSampling2D((2, 2))(x)
    x = L.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = L.UpSampling2D((2, 2))(x)
    x = L.Conv2D(16, (3, 3), activation="relu")(x)
    x = L.UpSampling2D((2, 2))(x)
    decoded = L.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return {"autoencoder": K.Model(input_img, decoded)}


def blog_simple_ae(K):
    """Keras blog 784-32-784 AE (50,992) with its encoder and single-layer decoder models."""
    L = K.layers
    encoding_dim = 32
    input_img = K.Input(shape=(784,))
    encoded = L.Dense(encoding_dim, activation="relu")(input_img)
    decoded = L.Dense(784, activation="sigmoid")(encoded)
    autoencoder = K.Model(input_img, decoded)
    encoder = K.Model(input_img, encoded)
    encoded_input = K.Input(shape=(encoding_dim,))
    decoder_layer = autoencoder.layers[-1]
    decoder = K.Model(encoded_input, decoder_layer(encoded_input))
    return {"autoencoder": autoencoder, "encoder": encoder, "decoder": decoder}


def blog_deep_ae(K):
    """Keras blog deep AE 784-128-64-32-64-128-784: 222,384 params."""
    L = K.layers
    input_img = K.Input(shape=(784,))
    encoded = L.Dense(128, activation="relu")(input_img)
    encoded = L.Dense(64, activation="relu")(encoded)
    encoded = L.Dense(32, activation="relu")(encoded)
    decoded = L.Dense(64, activation="relu")(encoded)
    decoded = L.Dense(128, activation="relu")(decoded)
    decoded = L.Dense(784, activation="sigmoid")(decoded)
    return {"autoencoder": K.Model(input_img, decoded)}


# ----- DIT406 (seed 002) ----------------------------------------------------------------------

def dit406_mlp(K):
    """The assignment template: Flatten -> 64 -> 64 -> 10 (55,050 params)."""
    L = K.layers
    model = K.Sequential()
    model.add(L.Flatten(input_shape=(28, 28, 1)))
    model.add(L.Dense(64, activation="relu"))
    model.add(L.Dense(64, activation="relu"))
    model.add(L.Dense(10, activation="softmax"))
    return {"model": model}


def hinton_mlp(K, factor=1e-4):
    """'Hinton's net' 784-500-300-10 with L2 on the hidden layers: 545,810 params."""
    L = K.layers
    model = K.Sequential()
    model.add(L.Flatten(input_shape=(28, 28, 1)))
    model.add(L.Dense(500, activation="relu", kernel_regularizer=K.regularizers.l2(factor)))
    model.add(L.Dense(300, activation="relu", kernel_regularizer=K.regularizers.l2(factor)))
    model.add(L.Dense(10, activation="softmax"))
    return {"model": model}


def dit406_dae(K):
    """Dense DAE 784-128-96-128-784 (226,416) with encoder_only and a Sequential decoder."""
    L = K.layers
    input_img = K.Input(shape=(784,))
    x = L.Dense(128, activation="relu")(input_img)
    latent = L.Dense(96, activation="relu")(x)
    x = L.Dense(128, activation="relu")(latent)
    output = L.Dense(784, activation="sigmoid")(x)
    autoencoder = K.Model(input_img, output)
    encoder_only = K.Model(input_img, latent)
    decoder_layers = K.Sequential(autoencoder.layers[-2:])
    latent_input = K.Input(shape=(96,))
    decoder = K.Model(latent_input, decoder_layers(latent_input))
    return {"autoencoder": autoencoder, "encoder": encoder_only, "decoder": decoder}


# ----- seed 003: Keras mnist_denoising_autoencoder.py + frozen-encoder classifier ----------------

def seed003(K, latent_dim=32):
    """Encoder 119,200 / decoder 159,169 / AE 278,369 / classifier 120,170 (970 trainable)."""
    L = K.layers
    input_shape = (28, 28, 1)
    kernel_size = 3
    layer_filters = [32, 64]
    inputs = K.Input(shape=input_shape, name="encoder_input")
    x = inputs
    for filters in layer_filters:
        x = L.Conv2D(filters=filters, kernel_size=kernel_size, strides=2, activation="relu",
                     padding="same")(x)
    shape = K.backend.int_shape(x) if hasattr(K.backend, "int_shape") else tuple(x.shape)
    x = L.Flatten()(x)
    latent = L.Dense(latent_dim, name="latent_vector")(x)
    encoder = K.Model(inputs, latent, name="encoder")

    latent_inputs = K.Input(shape=(latent_dim,), name="decoder_input")
    x = L.Dense(shape[1] * shape[2] * shape[3])(latent_inputs)
    x = L.Reshape((shape[1], shape[2], shape[3]))(x)
    for filters in layer_filters[::-1]:
        x = L.Conv2DTranspose(filters=filters, kernel_size=kernel_size, strides=2,
                              activation="relu", padding="same")(x)
    x = L.Conv2DTranspose(filters=1, kernel_size=kernel_size, padding="same")(x)
    outputs = L.Activation("sigmoid", name="decoder_output")(x)
    decoder = K.Model(latent_inputs, outputs, name="decoder")

    autoencoder = K.Model(inputs, decoder(encoder(inputs)), name="autoencoder")

    encoder.trainable = False
    classifier = K.Sequential([
        encoder,
        L.Dense(16, activation="relu"),
        L.Dense(16, activation="relu"),
        L.Dense(10, activation="softmax"),
    ])
    return {"encoder": encoder, "decoder": decoder, "autoencoder": autoencoder,
            "classifier": classifier}


# ----- seed 004: dense DAE with BN/Dropout/LeakyReLU, codes and raw-pixel classifiers -----------

def seed004_dae(K):
    """DAE 1,438,676 (4,096 non-trainable) and its encoder part to 'BottleNeck' (851,396)."""
    L = K.layers

    def init():
        return K.initializers.RandomNormal()

    model = K.Sequential()
    model.add(L.Dense(512, input_shape=(784,), name="Encoder", kernel_initializer=init()))
    model.add(L.BatchNormalization())
    model.add(L.Dropout(0.2))
    model.add(L.LeakyReLU())
    model.add(L.Dense(512, kernel_initializer=init()))
    model.add(L.BatchNormalization())
    model.add(L.Dropout(0.2))
    model.add(L.LeakyReLU())
    model.add(L.Dense(256, kernel_initializer=init()))
    model.add(L.BatchNormalization())
    model.add(L.LeakyReLU())
    model.add(L.Dense(196, name="BottleNeck", kernel_initializer=init()))
    model.add(L.Dense(256, name="Decoder", kernel_initializer=init()))
    model.add(L.BatchNormalization())
    model.add(L.LeakyReLU())
    model.add(L.Dense(512, kernel_initializer=init()))
    model.add(L.BatchNormalization())
    model.add(L.LeakyReLU())
    model.add(L.Dense(784, activation="sigmoid", kernel_initializer=init()))
    encoder = K.Model(inputs=model.inputs, outputs=model.get_layer("BottleNeck").output)
    return {"autoencoder": model, "encoder": encoder}


def seed004_classifier(K, input_dim=196):
    """Dense(64)-Dropout-Dense(32)-Dropout-BN-Dense(10): 15,146 on codes, 52,778 on pixels."""
    L = K.layers
    model = K.Sequential()
    model.add(L.Dense(64, activation="relu", input_shape=(input_dim,)))
    model.add(L.Dropout(0.4))
    model.add(L.Dense(32, activation="relu"))
    model.add(L.Dropout(0.4))
    model.add(L.BatchNormalization())
    model.add(L.Dense(10, activation="softmax"))
    return {"classifier": model}


# ----- anomaly detection: keras.io NAB Conv1D AE, TF ECG5000 dense AE -----------------------------

def nab_conv1d_ae(K, time_steps=288, n_features=1):
    """keras.io timeseries anomaly detection AE: 9,505 params."""
    L = K.layers
    model = K.Sequential(
        [
            L.Input(shape=(time_steps, n_features)),
            L.Conv1D(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
            L.Dropout(rate=0.2),
            L.Conv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
            L.Conv1DTranspose(filters=16, kernel_size=7, padding="same", strides=2,
                              activation="relu"),
            L.Dropout(rate=0.2),
            L.Conv1DTranspose(filters=32, kernel_size=7, padding="same", strides=2,
                              activation="relu"),
            L.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
        ]
    )
    return {"autoencoder": model}


def ecg_dense_ae(K):
    """TF 'Intro to Autoencoders' AnomalyDetector (subclassed, 140-32-16-8-16-32-140): 10,484."""
    L = K.layers

    class AnomalyDetector(K.Model):
        def __init__(self):
            super().__init__()
            self.encoder = K.Sequential([
                L.Dense(32, activation="relu"),
                L.Dense(16, activation="relu"),
                L.Dense(8, activation="relu")])
            self.decoder = K.Sequential([
                L.Dense(16, activation="relu"),
                L.Dense(32, activation="relu"),
                L.Dense(140, activation="sigmoid")])

        def call(self, x):
            encoded = self.encoder(x)
            decoded = self.decoder(encoded)
            return decoded

    autoencoder = AnomalyDetector()
    autoencoder(np.zeros((2, 140), np.float32))  # builds, as fit/predict would
    return {"autoencoder": autoencoder}


def ecg_dense_ae_sequential(K):
    """The same 10,484-param ECG AE without subclassing (aenn has no subclassed Model)."""
    L = K.layers
    encoder = K.Sequential([
        K.Input(shape=(140,)),
        L.Dense(32, activation="relu"),
        L.Dense(16, activation="relu"),
        L.Dense(8, activation="relu")], name="encoder")
    decoder = K.Sequential([
        K.Input(shape=(8,)),
        L.Dense(16, activation="relu"),
        L.Dense(32, activation="relu"),
        L.Dense(140, activation="sigmoid")], name="decoder")
    autoencoder = K.Sequential([encoder, decoder])
    return {"autoencoder": autoencoder, "encoder": encoder, "decoder": decoder}


# ----- keras.io generative VAE and MNIST convnet -------------------------------------------------

def vae(K, latent_dim=2):
    """keras.io conv VAE: encoder 69,076 (with Sampling) and decoder 65,089."""
    L = K.layers
    encoder_inputs = K.Input(shape=(28, 28, 1))
    x = L.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = L.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = L.Flatten()(x)
    x = L.Dense(16, activation="relu")(x)
    z_mean = L.Dense(latent_dim, name="z_mean")(x)
    z_log_var = L.Dense(latent_dim, name="z_log_var")(x)
    z = _sampling_layer(K)([z_mean, z_log_var])
    encoder = K.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

    latent_inputs = K.Input(shape=(latent_dim,))
    x = L.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = L.Reshape((7, 7, 64))(x)
    x = L.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = L.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = L.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    decoder = K.Model(latent_inputs, decoder_outputs, name="decoder")
    return {"encoder": encoder, "decoder": decoder}


def mnist_convnet(K):
    """keras.io 'Simple MNIST convnet': 34,826 params."""
    L = K.layers
    model = K.Sequential(
        [
            K.Input(shape=(28, 28, 1)),
            L.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            L.MaxPooling2D(pool_size=(2, 2)),
            L.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            L.MaxPooling2D(pool_size=(2, 2)),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(10, activation="softmax"),
        ]
    )
    return {"model": model}


# (builder, keyword arguments) -> {submodel: (total, trainable, non-trainable)} from TASKS.md §7
# and the issue; a None trainable / non-trainable means "all trainable".
EXPECTED = {
    "heig_conv_denoiser": (heig_conv_denoiser, {}, {"autoencoder": (7265, 7265, 0)}),
    "blog_denoiser": (blog_denoiser, {}, {"autoencoder": (28353, 28353, 0)}),
    "blog_conv_ae": (blog_conv_ae, {}, {"autoencoder": (4385, 4385, 0)}),
    "blog_simple_ae": (blog_simple_ae, {}, {"autoencoder": (50992, 50992, 0),
                                            "encoder": (25120, 25120, 0),
                                            "decoder": (25872, 25872, 0)}),
    "blog_deep_ae": (blog_deep_ae, {}, {"autoencoder": (222384, 222384, 0)}),
    "dit406_mlp": (dit406_mlp, {}, {"model": (55050, 55050, 0)}),
    "hinton_mlp": (hinton_mlp, {}, {"model": (545810, 545810, 0)}),
    "dit406_dae": (dit406_dae, {}, {"autoencoder": (226416, 226416, 0),
                                    "encoder": (112864, 112864, 0),
                                    "decoder": (113552, 113552, 0)}),
    "seed003": (seed003, {}, {"encoder": (119200, 0, 119200),
                              "decoder": (159169, 159169, 0),
                              "autoencoder": (278369, 159169, 119200),
                              "classifier": (120170, 970, 119200)}),
    "seed003_latent16": (seed003, {"latent_dim": 16}, {"encoder": (69008, 0, 69008),
                                                       "decoder": (108993, 108993, 0)}),
    "seed004_dae": (seed004_dae, {}, {"autoencoder": (1438676, 1434580, 4096),
                                      "encoder": (851396, 848836, 2560)}),
    "seed004_codes_classifier": (seed004_classifier, {"input_dim": 196},
                                 {"classifier": (15146, 15082, 64)}),
    "seed004_raw_classifier": (seed004_classifier, {"input_dim": 784},
                               {"classifier": (52778, 52714, 64)}),
    "nab_conv1d_ae": (nab_conv1d_ae, {}, {"autoencoder": (9505, 9505, 0)}),
    "ecg_dense_ae": (ecg_dense_ae, {}, {"autoencoder": (10484, 10484, 0)}),
    "ecg_dense_ae_sequential": (ecg_dense_ae_sequential, {},
                                {"autoencoder": (10484, 10484, 0), "encoder": (5176, 5176, 0),
                                 "decoder": (5308, 5308, 0)}),
    "vae": (vae, {}, {"encoder": (69076, 69076, 0), "decoder": (65089, 65089, 0)}),
    "mnist_convnet": (mnist_convnet, {}, {"model": (34826, 34826, 0)}),
}
