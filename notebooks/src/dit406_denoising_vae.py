# %% [markdown]
# # DIT406 Assignment 7, part 4 — denoising autoencoder and VAE, Keras code run on aenn
#
# Questions T002-4a … T002-4d: a dense denoising autoencoder trained on salt-and-pepper noise
# (noise level 0.4), before/after figures at several noise levels, classification accuracy with and
# without denoising, and a variational autoencoder that generates new digits. The code is plain Keras
# code with `import aenn as keras`.
#
# **Run setting.** `AENN_QUICK=1` selects a reduced setting (subsets, one epoch) used by the tests; the
# next cell prints the setting that produced this notebook: all 60,000 training images, the
# assignment's 32 epochs for the autoencoder, 10 for the classifier and 30 for the VAE.

# %%
import os
import time

import numpy as np
import matplotlib.pyplot as plt

import aenn as keras
from aenn import layers
from aenn.models import Model, Sequential

QUICK = os.environ.get("AENN_QUICK") == "1"
plt.rcParams["figure.dpi"] = 50
keras.utils.set_random_seed(7)
np.random.seed(7)

if QUICK:
    N_TRAIN, DAE_EPOCHS, CLF_EPOCHS, VAE_EPOCHS = 6000, 1, 1, 1
else:
    N_TRAIN, DAE_EPOCHS, CLF_EPOCHS, VAE_EPOCHS = 60000, 32, 10, 30
print("QUICK =", QUICK)
print(f"training images: {N_TRAIN}; epochs: DAE {DAE_EPOCHS} (assignment: 32), classifier {CLF_EPOCHS}, "
      f"VAE {VAE_EPOCHS}")

# %%
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train[:N_TRAIN].reshape(-1, 784).astype("float32") / 255
y_train = y_train[:N_TRAIN]
x_test = x_test.reshape(-1, 784).astype("float32") / 255
print(x_train.shape, x_test.shape)


def salt_and_pepper(input, noise_level=0.5):
    """With probability noise_level a pixel is replaced by 0 or 1 (each with probability 1/2)."""
    keep = np.random.binomial(size=input.shape, n=1, p=1 - noise_level)
    fill = np.random.binomial(size=input.shape, n=1, p=0.5)
    return (input * keep + (1 - keep) * fill).astype("float32")


noisy_train = salt_and_pepper(x_train, 0.4)
noisy_test = salt_and_pepper(x_test, 0.4)
print("fraction of pixels changed at level 0.4:", round(float(np.mean(noisy_test != x_test)), 4),
      "(pixels already 0 stay 0 half the time when hit)")

# %% [markdown]
# ## Q4a — Dense denoising autoencoder
#
# 784 → 128 → 96 (the code) → 128 → 784 with a sigmoid output, trained to map the noisy image to the
# clean one with binary cross-entropy. The encoder and the decoder are extracted as their own models
# afterwards: the encoder as `Model(input, latent)` and the decoder by wrapping the last two layers of
# the trained autoencoder in a new `Sequential`.

# %%
input_img = keras.Input(shape=(784,))
encoded = layers.Dense(128, activation="relu")(input_img)
latent = layers.Dense(96, activation="relu")(encoded)
decoded = layers.Dense(128, activation="relu")(latent)
decoded = layers.Dense(784, activation="sigmoid")(decoded)

autoencoder = Model(input_img, decoded)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()

t0 = time.time()
dae_history = autoencoder.fit(noisy_train, x_train, epochs=DAE_EPOCHS, batch_size=64, shuffle=True,
                              validation_data=(noisy_test, x_test), verbose=2)
print(f"training time: {time.time() - t0:.0f} s")

# %%
encoder_only = Model(input_img, latent)
decoder_input = keras.Input(shape=(96,))
decoder_layers = Sequential(autoencoder.layers[-2:])
decoder_only = Model(decoder_input, decoder_layers(decoder_input))
print("encoder params:", encoder_only.count_params(), " decoder params:", decoder_only.count_params(),
      " autoencoder params:", autoencoder.count_params())
codes = encoder_only.predict(noisy_test[:10], verbose=0)
through_parts = decoder_only.predict(codes, verbose=0)
direct = autoencoder.predict(noisy_test[:10], verbose=0)
print("code shape:", codes.shape, "; max |decoder(encoder(x)) - autoencoder(x)| =",
      float(np.abs(through_parts - direct).max()))

# %%
plt.figure(figsize=(5, 3))
plt.plot(dae_history.history["loss"], "o-", label="train")
plt.plot(dae_history.history["val_loss"], "s-", label="validation")
plt.xlabel("epoch"); plt.ylabel("binary cross-entropy"); plt.legend(); plt.grid(alpha=0.3)
plt.tight_layout(); plt.show()
print("final train / val loss:", round(dae_history.history["loss"][-1], 4),
      round(dae_history.history["val_loss"][-1], 4))

# %% [markdown]
# **Answer.** The summary shows the parameter count of the whole autoencoder, and the line above the
# plot splits it into encoder and decoder. The encoder and decoder models share their layers (and so
# their weights) with the trained autoencoder: the printed maximum difference between
# decoder(encoder(x)) and autoencoder(x) checks that composing the two parts gives the autoencoder.
#
# ## Q4b — Denoising at several noise levels
#
# The autoencoder trained at level 0.4 is applied to test images corrupted at other levels. The
# figure shows one row per level, each image as a triple original / noisy / denoised; the table
# gives the mean squared error to the clean image before and after denoising.

# %%
levels = [0.1, 0.3, 0.5, 0.7, 0.9]
idx = np.arange(6)
print("level   MSE noisy   MSE denoised")
fig, axes = plt.subplots(len(levels), 3 * len(idx), figsize=(3 * len(idx) * 0.55, len(levels) * 0.7))
for k, level in enumerate(levels):
    noisy = salt_and_pepper(x_test[:1000], level)
    den = autoencoder.predict(noisy, verbose=0)
    print(f"{level:<6}  {np.mean((noisy - x_test[:1000]) ** 2):.4f}      {np.mean((den - x_test[:1000]) ** 2):.4f}")
    for j, i in enumerate(idx):
        for r, img in enumerate((x_test[i], noisy[i], den[i])):
            ax = axes[k, 3 * j + r]
            ax.imshow(img.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]); ax.set_yticks([])
        axes[k, 0].set_ylabel(f"p={level}", fontsize=7)
fig.suptitle("one row per level; each triple: original / noisy / denoised", fontsize=8)
plt.tight_layout(); plt.show()

# %% [markdown]
# **Answer.** Compare the figures with the table: at low levels the noisy digits are still readable
# and the denoised images are much closer to the originals than the noisy ones (compare the two
# MSE columns). As the level grows beyond the training level of 0.4, more of the digit itself is
# destroyed and the "MSE denoised" column rises faster; in the figure the denoised digits at the
# highest levels become blurred and harder to read. The autoencoder can only restore what is still
# recoverable from the noisy input.
#
# ## Q4c — Classification accuracy vs noise level, with and without denoising
#
# Protocol (one of the two used by students, chosen here): a classifier (the 784-64-64-10 MLP of Q2)
# is trained on **clean** training images, then evaluated on the test set corrupted at each level,
# once on the noisy images and once on the autoencoder's denoised images.

# %%
clf = keras.Sequential([
    layers.Input(shape=(784,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
clf.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
clf.fit(x_train, keras.utils.to_categorical(y_train, 10), batch_size=128, epochs=CLF_EPOCHS, verbose=2)
y_test_cat = keras.utils.to_categorical(y_test, 10)
print("clean test accuracy:", round(clf.evaluate(x_test, y_test_cat, verbose=0)[1], 4))

all_levels = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
acc_noisy, acc_denoised = [], []
print("level   acc noisy   acc denoised")
for level in all_levels:
    noisy = salt_and_pepper(x_test, level)
    acc_noisy.append(clf.evaluate(noisy, y_test_cat, verbose=0)[1])
    acc_denoised.append(clf.evaluate(autoencoder.predict(noisy, verbose=0), y_test_cat, verbose=0)[1])
    print(f"{level:<6}  {acc_noisy[-1]:.4f}      {acc_denoised[-1]:.4f}")

plt.figure(figsize=(5, 3.2))
plt.plot(all_levels, acc_noisy, "o-", label="noisy input")
plt.plot(all_levels, acc_denoised, "s-", label="denoised by the autoencoder")
plt.xlabel("salt-and-pepper level"); plt.ylabel("test accuracy"); plt.legend(); plt.grid(alpha=0.3)
plt.tight_layout(); plt.show()

# %% [markdown]
# **Answer.** The table and plot above give both curves. Where the "denoised" column is above the
# "noisy" column, putting the denoising autoencoder in front of the classifier recovers accuracy that
# the noise destroyed: from level 0.1 up to 0.7 the denoised images are classified far better
# (0.79 → 0.94 at level 0.1, 0.24 → 0.90 at the training level 0.4, 0.10 → 0.51 at 0.7).
# At level 0 the denoised column is below the noisy one (0.943 vs 0.975): the autoencoder's
# reconstruction loses some detail of clean images (it was trained on noisy inputs, so clean images
# are outside its training distribution) — compare the first row.
# At the highest levels both curves fall, because the digit is no longer recoverable.
#
# ## Q4d — Generating digits with a variational autoencoder
#
# A plain autoencoder's decoder cannot be used to generate digits by feeding it random codes: nothing
# forces the codes of real digits to fill a known region, so random codes decode to noise. A VAE's
# encoder outputs a mean μ and log-variance log σ² per latent dimension; the code is sampled as
# z = μ + σ·ε with ε ~ N(0, I) (the reparameterisation trick, so gradients flow through μ and σ), and
# a KL term pulls each posterior towards N(0, I). After training, decoding z ~ N(0, I) gives new
# digits.
#
# aenn's `layers.Sampling` draws z and also adds the KL term to the model's loss, so the model is
# compiled with the reconstruction loss only. Keras's `binary_crossentropy` is a mean over the 784
# pixels, whereas the VAE objective sums over pixels; the KL weight 1/784 keeps the same ratio
# between the two terms (the whole objective is divided by 784).

# %%
latent_dim = 2
intermediate_dim = 256

x_in = keras.Input(shape=(784,))
h = layers.Dense(intermediate_dim, activation="relu")(x_in)
z_mean = layers.Dense(latent_dim, name="z_mean")(h)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
z = layers.Sampling(kl_weight=1 / 784, seed=3)([z_mean, z_log_var])
encoder = Model(x_in, [z_mean, z_log_var, z], name="encoder")

latent_inputs = keras.Input(shape=(latent_dim,))
d = layers.Dense(intermediate_dim, activation="relu")(latent_inputs)
d = layers.Dense(784, activation="sigmoid")(d)
decoder = Model(latent_inputs, d, name="decoder")

vae = Model(x_in, decoder(encoder(x_in)[2]), name="vae")
vae.compile(optimizer="adam", loss="binary_crossentropy")
vae.summary()
t0 = time.time()
vae_history = vae.fit(x_train, x_train, epochs=VAE_EPOCHS, batch_size=128, shuffle=True, verbose=2)
print(f"training time: {time.time() - t0:.0f} s")

# %%
mu, logvar, _ = encoder.predict(x_test, verbose=0)
print("latent means of the test set: mean", np.round(mu.mean(axis=0), 3), "std", np.round(mu.std(axis=0), 3))
plt.figure(figsize=(4.5, 3.8))
plt.scatter(mu[:3000, 0], mu[:3000, 1], c=y_test[:3000], cmap="tab10", s=2)
plt.colorbar(); plt.xlabel("z[0]"); plt.ylabel("z[1]"); plt.title("3,000 test digits in latent space (μ)")
plt.tight_layout(); plt.show()

# %%
rng = np.random.default_rng(0)
z_samples = rng.standard_normal((64, latent_dim)).astype("float32")
generated = decoder.predict(z_samples, verbose=0)
fig, axes = plt.subplots(8, 8, figsize=(4.5, 4.5))
for ax, img in zip(axes.ravel(), generated):
    ax.imshow(img.reshape(28, 28), cmap="gray", vmin=0, vmax=1); ax.axis("off")
fig.suptitle("decoded z ~ N(0, I)", fontsize=9); plt.tight_layout(); plt.show()

pred = clf.predict(generated, verbose=0)
print("classifier's predicted digit for the 64 samples:", np.bincount(pred.argmax(1), minlength=10))
print("mean classifier confidence on generated digits:", round(float(pred.max(1).mean()), 3),
      "; on real test digits:", round(float(clf.predict(x_test[:1000], verbose=0).max(1).mean()), 3))

# %%
n = 12
grid = np.linspace(-2, 2, n)
canvas = np.zeros((28 * n, 28 * n))
codes = np.array([[xi, yi] for yi in grid[::-1] for xi in grid], dtype="float32")
imgs = decoder.predict(codes, verbose=0)
for k, img in enumerate(imgs):
    r, c = divmod(k, n)
    canvas[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28] = img.reshape(28, 28)
plt.figure(figsize=(4.5, 4.5))
plt.imshow(canvas, cmap="gray"); plt.axis("off"); plt.title("decoder over a grid z ∈ [-2, 2]²", fontsize=9)
plt.tight_layout(); plt.show()

# %% [markdown]
# **Answer.** The scatter plot shows the encoder's means for the test set: the printed mean and std
# show how close the code distribution is to the N(0, I) prior, and the colours show digit classes
# occupying different regions. The 8×8 sheet decodes random draws from the prior, and the grid decodes
# a regular sweep of the latent plane. The classifier's printed predictions for the 64 generated
# images tell how many distinct digit classes the samples cover, and its mean confidence on them,
# compared with real digits, indicates how digit-like they are. Here the 64 samples are assigned to all
# ten classes (unevenly: 20 eights, 1 one), with a mean confidence of 0.86 against 0.978 on real test
# digits — most samples look like digits, some are ambiguous. The latent means have std 1.34 and 1.21,
# somewhat wider than the N(0, I) prior. With only two latent dimensions some regions between classes
# decode to blends of two digits, which is where the low-confidence samples come from.
