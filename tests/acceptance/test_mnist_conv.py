"""Issue acceptance on real MNIST: the conv denoiser, the keras.io convnet, and the conv VAE.

These train on the full training set and take minutes: marked slow. They read MNIST through
aenn.datasets (AENN_DATA_DIR) and skip with a reason when the data is not there. Each test prints
the numbers it measured (pytest -s shows them; CI logs keep them).
"""

import time

import numpy as np
import pytest
from architectures import heig_conv_denoiser, mnist_convnet, vae

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


def test_conv_denoiser_reaches_validation_bce_0_11_in_10_epochs(mnist):
    x, _, xt, _ = mnist
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    noise_factor = 0.5
    x_noisy = np.clip(x + noise_factor * rng.normal(size=x.shape), 0.0, 1.0).astype("float32")
    xt_noisy = np.clip(xt + noise_factor * rng.normal(size=xt.shape), 0.0, 1.0).astype("float32")
    model = heig_conv_denoiser(keras)["autoencoder"]
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
    model = mnist_convnet(keras)["model"]
    assert model.count_params() == 34826
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.time()
    model.fit(x, keras.utils.to_categorical(y, 10), batch_size=128, epochs=15,
              validation_split=0.1, verbose=2)
    loss, acc = model.evaluate(xt, keras.utils.to_categorical(yt, 10), verbose=0)
    print(f"\nconvnet: test accuracy {acc:.4f}, test loss {loss:.4f}, "
          f"{(time.time() - start) / 15:.1f} s/epoch")
    return model, acc


def test_convnet_reaches_0_99_test_accuracy(trained_convnet):
    _, acc = trained_convnet
    assert acc >= 0.99


def conv_vae():
    """keras.io convolutional VAE (tests/architectures.py) joined into one trainable model. The
    Sampling layer adds the KL term weighted 1/784, because fit's BCE is a mean over the 784 pixels
    while keras.io sums them."""
    models = vae(keras)
    encoder, decoder = models["encoder"], models["decoder"]
    sampling = next(layer for layer in encoder.layers if isinstance(layer, layers.Sampling))
    sampling.add_kl, sampling.kl_weight = True, 1.0 / 784
    vae_in = keras.Input(shape=(28, 28, 1))
    _, _, z = encoder(vae_in)
    return encoder, decoder, keras.Model(vae_in, decoder(z), name="vae")


def test_conv_vae_generates_digits_the_convnet_recognises(mnist, trained_convnet):
    x, _, _, _ = mnist
    classifier, _ = trained_convnet
    keras.utils.set_random_seed(3)
    encoder, decoder, vae = conv_vae()
    assert encoder.count_params() == 69076 and decoder.count_params() == 65089
    vae.compile(optimizer="adam", loss="binary_crossentropy")
    start = time.time()
    history = vae.fit(x, x, epochs=5, batch_size=128, verbose=2)
    # Decode points of the prior N(0, I) and ask the convnet what it sees. "Recognised as a digit":
    # the convnet gives one class a probability of at least 0.5 (we also report the rate at 0.9).
    z = keras.random.normal((500, 2), seed=7)
    images = decoder.predict(z, verbose=0)
    probs = classifier.predict(images, verbose=0)
    top = probs.max(axis=1)
    rate, confident_rate = float((top >= 0.5).mean()), float((top >= 0.9).mean())
    counts = np.bincount(probs.argmax(axis=1)[top >= 0.5], minlength=10)
    print(f"\nconv VAE: loss per epoch {np.round(history.history['loss'], 4).tolist()}, "
          f"{(time.time() - start) / 5:.1f} s/epoch; of 500 prior samples {rate:.1%} recognised "
          f"(top probability >= 0.5), {confident_rate:.1%} with >= 0.9; classes {counts.tolist()}")
    assert rate >= 0.7
    assert np.count_nonzero(counts) >= 6  # many different digits, not one blob
