# %% [markdown]
# # HEIG-VD PW12 — time-series anomaly detection with a convolutional autoencoder
#
# Tasks T001-6/7, built on the keras.io example "Timeseries anomaly detection using an Autoencoder":
# a Conv1D/Conv1DTranspose autoencoder is trained on windows of a *normal* NAB series
# (`art_daily_small_noise`) and used on a very similar series that contains an anomaly
# (`art_daily_jumpsup`). Windows whose reconstruction error exceeds a threshold are flagged.
# Keras code, run with `import aenn as keras`.
#
# **Run setting.** `AENN_QUICK=1` selects a reduced setting (few epochs) used by the tests; the next
# cell prints the setting that produced this notebook.

# %%
import os
import time

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

import aenn as keras
from aenn import layers
from aenn.datasets import nab

QUICK = os.environ.get("AENN_QUICK") == "1"
plt.rcParams["figure.dpi"] = 55
keras.utils.set_random_seed(12)

EPOCHS = 3 if QUICK else 50
print("QUICK =", QUICK, "; epochs (at most, with early stopping):", EPOCHS)

# %% [markdown]
# ## Data
#
# Both series have 4,032 values at 5-minute steps (14 days). They are read with aenn's NAB loader
# (the CSV files of the NAB repository) into pandas data frames.

# %%
def load_frame(name):
    stamps, values = nab.load_series(name)
    return pd.DataFrame({"value": values}, index=pd.DatetimeIndex(stamps, name="timestamp"))


df_small_noise = load_frame("art_daily_small_noise")
df_daily_jumpsup = load_frame("art_daily_jumpsup")
print(df_small_noise.describe().T)
print(df_daily_jumpsup.describe().T)

fig, ax = plt.subplots(1, 2, figsize=(10, 2.8))
df_small_noise.plot(legend=False, ax=ax[0], title="art_daily_small_noise (training)")
df_daily_jumpsup.plot(legend=False, ax=ax[1], title="art_daily_jumpsup (test)")
plt.tight_layout(); plt.show()

# %%
training_mean = df_small_noise.mean()
training_std = df_small_noise.std()
df_training_value = (df_small_noise - training_mean) / training_std
print("training mean:", round(float(training_mean.iloc[0]), 3), " std:", round(float(training_std.iloc[0]), 3))
print("number of training samples:", len(df_training_value))

TIME_STEPS = 288  # one day of 5-minute steps


def create_sequences(values, time_steps=TIME_STEPS):
    output = []
    for i in range(len(values) - time_steps + 1):
        output.append(values[i: (i + time_steps)])
    return np.stack(output).astype("float32")


x_train = create_sequences(df_training_value.values)
print("training input shape:", x_train.shape)

# %% [markdown]
# ## The model (9,505 parameters)

# %%
model = keras.Sequential([
    layers.Input(shape=(x_train.shape[1], x_train.shape[2])),
    layers.Conv1D(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
    layers.Dropout(rate=0.2),
    layers.Conv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
    layers.Conv1DTranspose(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
    layers.Dropout(rate=0.2),
    layers.Conv1DTranspose(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
    layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
model.summary()

# %%
t0 = time.time()
history = model.fit(
    x_train, x_train,
    epochs=EPOCHS,
    batch_size=128,
    validation_split=0.1,
    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, mode="min")],
    verbose=2,
)
print(f"training time: {time.time() - t0:.0f} s; epochs run: {len(history.history['loss'])}; "
      f"best val_loss: {min(history.history['val_loss']):.4f}")
plt.figure(figsize=(5, 3))
plt.plot(history.history["loss"], label="Training Loss")
plt.plot(history.history["val_loss"], label="Validation Loss")
plt.legend(); plt.xlabel("epoch"); plt.ylabel("mse"); plt.grid(alpha=0.3); plt.tight_layout(); plt.show()

# %% [markdown]
# ## Question 1 — the threshold
#
# The reconstruction error of each training window is its mean absolute error over the 288 time
# steps. The example takes the **largest training MAE** as the threshold: by construction no
# training window is flagged, so the detector raises no alarm on data known to be normal, and any
# window reconstructed worse than the worst normal window is suspicious.

# %%
x_train_pred = model.predict(x_train, verbose=0)
train_mae_loss = np.mean(np.abs(x_train_pred - x_train), axis=1).ravel()
threshold = np.max(train_mae_loss)
print("Reconstruction error threshold (max train MAE):", round(float(threshold), 4))
print("train MAE: mean", round(float(train_mae_loss.mean()), 4), " std", round(float(train_mae_loss.std()), 4),
      " 99th percentile", round(float(np.percentile(train_mae_loss, 99)), 4))

fig, ax = plt.subplots(1, 2, figsize=(10, 2.8))
ax[0].hist(train_mae_loss, bins=50); ax[0].set_xlabel("train MAE loss"); ax[0].set_ylabel("No of samples")
ax[1].plot(x_train[0], label="window 0"); ax[1].plot(x_train_pred[0], label="reconstruction")
ax[1].legend(); ax[1].set_title("first training window")
plt.tight_layout(); plt.show()

# %%
df_test_value = (df_daily_jumpsup - training_mean) / training_std
x_test = create_sequences(df_test_value.values)
print("test input shape:", x_test.shape)
x_test_pred = model.predict(x_test, verbose=0)
test_mae_loss = np.mean(np.abs(x_test_pred - x_test), axis=1).ravel()

anomalies = test_mae_loss > threshold
print("Number of anomaly samples (windows):", int(np.sum(anomalies)))
print("Indices of anomaly samples:", np.where(anomalies)[0][:20], "..." if anomalies.sum() > 20 else "")

plt.figure(figsize=(5, 3))
plt.hist(test_mae_loss, bins=50); plt.axvline(threshold, color="r", ls="--", label="threshold")
plt.xlabel("test MAE loss"); plt.ylabel("No of samples"); plt.legend(); plt.tight_layout(); plt.show()

# %% [markdown]
# The same test windows are counted below with other possible thresholds, to show what the choice
# of the maximum does, next to other common choices (mean + k·std of the training errors, or a
# percentile).

# %%
candidates = {
    "max train MAE": threshold,
    "99th percentile": np.percentile(train_mae_loss, 99),
    "mean + 3 std": train_mae_loss.mean() + 3 * train_mae_loss.std(),
    "mean + 1 std": train_mae_loss.mean() + train_mae_loss.std(),
}
windows = nab.load_anomaly_windows("art_daily_jumpsup")
times = df_daily_jumpsup.index.values
label_start, label_end = windows[0]
# a window "touches" the labelled anomaly when any of its 288 time steps lies in the NAB window
starts = times[: len(x_test)]
ends = times[TIME_STEPS - 1:]
touches = (ends >= label_start) & (starts <= label_end)
print("NAB anomaly window:", label_start, "->", label_end, "; test windows touching it:", int(touches.sum()))
print(f"{'threshold':<16} {'value':>7} {'flagged':>8} {'touching label':>15} {'elsewhere':>10} {'train flagged':>14}")
for name, thr in candidates.items():
    flagged = test_mae_loss > thr
    print(f"{name:<16} {thr:7.4f} {int(flagged.sum()):8d} {int((flagged & touches).sum()):15d} "
          f"{int((flagged & ~touches).sum()):10d} {int((train_mae_loss > thr).sum()):14d}")

# %% [markdown]
# **Answer (question 1).** The first table row is the example's rule. Reading the columns: "flagged" is
# the number of test windows above the threshold, "touching label" how many of them overlap NAB's
# labelled anomaly window, "elsewhere" the flagged windows that do not (false alarms), and "train
# flagged" how many *normal* training windows the same threshold would flag. The maximum flags no
# training window by construction. The other rows show the alternatives: a threshold below the
# maximum (compare its "value" with the first row) flags some normal training windows and can add
# false alarms in the test series — compare the "elsewhere" and "train flagged" columns; a threshold
# above the maximum can only flag fewer windows.
#
# ## Question 2 — from anomalous windows back to time points
#
# A time step i belongs to the windows starting at i−287 … i. Following the example, data point i is
# marked anomalous when the windows starting at i−287 … i−1 are all anomalous.

# %%
anomalous_data_indices = []
for data_idx in range(TIME_STEPS - 1, len(df_test_value) - TIME_STEPS + 1):
    if np.all(anomalies[data_idx - TIME_STEPS + 1: data_idx]):
        anomalous_data_indices.append(data_idx)
print("anomalous data points:", len(anomalous_data_indices))
if anomalous_data_indices:
    flagged_times = df_daily_jumpsup.index[anomalous_data_indices]
    print("first:", flagged_times[0], " last:", flagged_times[-1])
    inside = np.sum((flagged_times.values >= label_start) & (flagged_times.values <= label_end))
    print("of which inside the NAB anomaly window:", int(inside))
print("labelled anomaly point (NAB): 2014-04-11 09:00:00, row",
      int(np.where(df_daily_jumpsup.index == pd.Timestamp("2014-04-11 09:00:00"))[0][0]))

df_subset = df_daily_jumpsup.iloc[anomalous_data_indices]
fig, ax = plt.subplots(figsize=(10, 3))
df_daily_jumpsup.plot(legend=False, ax=ax)
if len(df_subset):
    df_subset.plot(legend=False, ax=ax, color="r", marker=".", ls="none")
ax.axvspan(pd.Timestamp(label_start), pd.Timestamp(label_end), color="orange", alpha=0.2)
ax.set_title("test series; red: points flagged anomalous; shaded: NAB anomaly window")
plt.tight_layout(); plt.show()

# %% [markdown]
# **Answer (question 2).** The printout gives the number of flagged time points, the first and last
# flagged timestamps and how many of them fall inside NAB's labelled anomaly window (shaded in the
# plot); the row of the labelled anomaly point is printed for reference. The rule is conservative: a
# point is flagged only when every window covering it (except the one ending at it) is anomalous,
# so isolated anomalous windows do not produce flagged points.
