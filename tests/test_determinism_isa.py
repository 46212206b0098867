"""Same bits on every thread count and instruction set, for every benchmark model.

For each benchmark model (conv denoiser, dense DAE with BN/Dropout/LeakyReLU, course MLP, convnet,
NAB Conv1D autoencoder) one epoch on 512 samples runs in a fresh process under each setting:
1 and 2 threads, AENN_ISA = generic / avx2 / avx512 where the CPU has them, and the reference
setting twice in a row. The SHA-256 of every weight's bytes must be the same everywhere.
Data is random (seeded) so the test needs no data set.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import aenn._core as core

HERE = Path(__file__).resolve().parent

SCRIPT = r"""
import hashlib, json, sys
import numpy as np
sys.path.insert(0, {tests!r})
import aenn as keras
from architectures import dit406_mlp, heig_conv_denoiser, mnist_convnet, nab_conv1d_ae, seed004_dae

name = {name!r}
keras.utils.set_random_seed(7)
rng = np.random.default_rng(7)
if name == "conv_denoiser":
    model = heig_conv_denoiser(keras)["autoencoder"]
    x = rng.random((512, 28, 28, 1), dtype=np.float32); y = x
    model.compile(optimizer="adam", loss="binary_crossentropy"); batch = 128
elif name == "dense_dae":
    model = seed004_dae(keras)["autoencoder"]
    x = rng.random((512, 784), dtype=np.float32); y = x
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"]); batch = 256
elif name == "mlp":
    model = dit406_mlp(keras)["model"]
    x = rng.random((512, 28, 28, 1), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, 512), 10)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss="categorical_crossentropy", metrics=["accuracy"]); batch = 32
elif name == "convnet":
    model = mnist_convnet(keras)["model"]
    x = rng.random((512, 28, 28, 1), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, 512), 10)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"]); batch = 128
else:
    model = nab_conv1d_ae(keras)["autoencoder"]
    x = rng.standard_normal((512, 288, 1), dtype=np.float32); y = x
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse"); batch = 128
model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0)
digest = hashlib.sha256()
for w in model.get_weights():
    digest.update(np.ascontiguousarray(w).tobytes())
print(json.dumps({{"sha": digest.hexdigest(), "threads": keras.get_num_threads(),
                   "isa": keras._core.isa()}}))
"""

MODELS = ["conv_denoiser", "dense_dae", "mlp", "convnet", "nab_conv1d"]


def run(name, threads, isa):
    env = dict(os.environ, AENN_NUM_THREADS=str(threads), AENN_ISA=isa)
    proc = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=str(HERE), name=name)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["threads"] == threads and out["isa"] == isa, out
    return out["sha"]


@pytest.mark.parametrize("name", MODELS)
def test_one_epoch_gives_the_same_bits_on_every_thread_count_and_isa(name):
    isas = core.available_isas()
    reference = run(name, 1, "generic")
    settings = [(2, "generic"), (1, "generic")]  # the last one: the reference twice in a row
    settings += [(threads, isa) for isa in isas if isa != "generic" for threads in (1, 2)]
    for threads, isa in settings:
        assert run(name, threads, isa) == reference, f"{name}: {threads} thread(s), {isa}"
