"""Issue acceptance on real MNIST: the conv denoiser, the keras.io convnet, and the conv VAE.

These train on the full training set and take minutes: marked slow. They read MNIST through
aenn.datasets (AENN_DATA_DIR) and skip with a reason when the data is not there. Each test prints
the numbers it measured (pytest -s shows them; CI logs keep them).
"""

import time

import numpy as np
import pytest

import aenn as keras
from aenn import layers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mnist():
    try:
        (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    except (FileNotFoundError, OSError) as e:  # offline without a cache
        pytest.skip(f"MNIST not available: {e}")
    x = (x.astype("float32") / 255.0)[..., None]
    xt = (xt.astype("float32") / 255.0)[..., None]
    return x, y, xt, yt


def conv_denoiser():
    """The HEIG-VD course denoiser: 7,265 parameters, code 7x7x16."""
    inp = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(16, (3, 3), activation="relu", padding="same")(inp)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(16, (3, 3), activation="relu", padding="same")(x)
    encoded = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(16, (3, 3), activation="relu", padding="same")(encoded)
    x = layers.UpSampling2D((2, 2))(x)
    x = layers.Conv2D(16, (3, 3), activation="relu", padding="same")(x)
    x = layers.UpSampling2D((2, 2))(x)
    decoded = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(inp, decoded)


def convnet():
    """keras.io "Simple MNIST convnet": 34,826 parameters."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def test_conv_denoiser_reaches_validation_bce_0_11_in_10_epochs(mnist):
    x, _, xt, _ = mnist
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    noise_factor = 0.5
    x_noisy = np.clip(x + noise_factor * rng.normal(size=x.shape), 0.0, 1.0).astype("float32")
    xt_noisy = np.clip(xt + noise_factor * rng.normal(size=xt.shape), 0.0, 1.0).astype("float32")
    model = conv_denoiser()
    assert model.count_params() == 7265
    model.compile(optimizer="adam", loss="binary_crossentropy")
    start = time.time()
    history = model.fit(x_noisy, x, epochs=10, batch_size=128, shuffle=True,
                        validation_data=(xt_noisy, xt), verbose=2)
    val = history.history["val_loss"]
    print(f"\nconv denoiser: val BCE per epoch {np.round(val, 4).tolist()}, "
          f"{(time.time() - start) / 10:.1f} s/epoch")
    assert val[-1] <= 0.11


@pytest.fixture(scope="module")
def trained_convnet(mnist):
    x, y, xt, yt = mnist
    keras.utils.set_random_seed(2)
    model = convnet()
    assert model.count_params() == 34826
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.time()
    model.fit(x, keras.utils.to_categorical(y, 10), batch_size=128, epochs=12,
              validation_split=0.1, verbose=2)
    loss, acc = model.evaluate(xt, keras.utils.to_categorical(yt, 10), verbose=0)
    print(f"\nconvnet: test accuracy {acc:.4f}, test loss {loss:.4f}, "
          f"{(time.time() - start) / 12:.1f} s/epoch")
    return model, acc


def test_convnet_reaches_0_99_test_accuracy(trained_convnet):
    _, acc = trained_convnet
    assert acc >= 0.99


def conv_vae(latent_dim=2):
    """keras.io convolutional VAE (encoder 69,076 / decoder 65,089 parameters); the Sampling
    layer adds the KL term, weighted 1/784 because fit's BCE is a mean over the 784 pixels while
    keras.io sums them."""
    enc_in = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(enc_in)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = layers.Sampling(kl_weight=1.0 / 784)([z_mean, z_log_var])
    encoder = keras.Model(enc_in, [z_mean, z_log_var, z], name="encoder")

    dec_in = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(dec_in)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    dec_out = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    decoder = keras.Model(dec_in, dec_out, name="decoder")

    vae_in = keras.Input(shape=(28, 28, 1))
    _, _, z = encoder(vae_in)
    vae = keras.Model(vae_in, decoder(z), name="vae")
    return encoder, decoder, vae


def test_conv_vae_generates_digits_the_convnet_recognises(mnist, trained_convnet):
    x, _, _, _ = mnist
    classifier, _ = trained_convnet
    keras.utils.set_random_seed(3)
    encoder, decoder, vae = conv_vae()
    assert encoder.count_params() == 69076 and decoder.count_params() == 65089
    vae.compile(optimizer="adam", loss="binary_crossentropy")
    start = time.time()
    history = vae.fit(x[:30000], x[:30000], epochs=5, batch_size=128, verbose=2)
    # Decode points of the prior N(0, I) and ask the convnet whether they are digits.
    z = keras.random.normal((500, 2), seed=7)
    images = decoder.predict(z, verbose=0)
    probs = classifier.predict(images, verbose=0)
    confident = probs.max(axis=1) >= 0.9
    rate = float(confident.mean())
    counts = np.bincount(probs.argmax(axis=1)[confident], minlength=10)
    print(f"\nconv VAE: loss per epoch {np.round(history.history['loss'], 4).tolist()}, "
          f"{(time.time() - start) / 5:.1f} s/epoch; {rate:.1%} of 500 prior samples recognised "
          f"with confidence >= 0.9; classes {counts.tolist()}")
    assert rate >= 0.7
    assert np.count_nonzero(counts) >= 6  # many different digits, not one blob
