"""Per-layer conv timings (forward, backward) at 1 and 2 threads, batch 128, best of REPS.

    PYTHONPATH=$PWD python benchmarks/bench_conv_layers.py [case-substring ...]

GFLOP/s counts 2 flops per multiply-add of the direct convolution (backward: data + weight
gradient, so twice the forward). No activation, so only the conv kernels and the layer's own
allocations are timed. OpenBLAS is held to one thread: its idle spinning workers would
otherwise take the second core from our thread pool.
"""
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

from aenn import _core, layers  # noqa: E402

REPS = 15
# (name, layer class, H, Cin, Cout, kernel, strides, padding)
CASES = [
    ("conv 13x13 32->64 valid", layers.Conv2D, 13, 32, 64, 3, 1, "valid"),
    ("conv 14x14 16->16 same", layers.Conv2D, 14, 16, 16, 3, 1, "same"),
    ("conv 28x28 1->32 valid", layers.Conv2D, 28, 1, 32, 3, 1, "valid"),
    ("conv 28x28 1->32 s2 same", layers.Conv2D, 28, 1, 32, 3, 2, "same"),
    ("convT 28x28 32->1 same", layers.Conv2DTranspose, 28, 32, 1, 3, 1, "same"),
    ("convT 14x14 64->32 s2 same", layers.Conv2DTranspose, 14, 64, 32, 3, 2, "same"),
    ("convT 7x7 64->64 s2 same", layers.Conv2DTranspose, 7, 64, 64, 3, 2, "same"),
]


def best(f):
    f()
    ts = []
    for _ in range(REPS):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main(filters):
    rng = np.random.default_rng(0)
    for name, cls, H, cin, cout, k, s, pad in CASES:
        if filters and not any(f in name for f in filters):
            continue
        layer = cls(cout, k, strides=s, padding=pad)
        x = rng.random((128, H, H, cin), dtype=np.float32)
        layer.build(x.shape)
        y, cache = layer.forward(x, True)
        dy = rng.random(y.shape, dtype=np.float32)
        small = x if cls is layers.Conv2DTranspose else y  # the correlate view's output
        flops = 2 * small.size * (cout if cls is layers.Conv2DTranspose else cin) * k * k
        line = f"{name:28s}"
        for th in (1, 2):
            _core.set_num_threads(th)
            tf = best(lambda: layer.forward(x, True))
            tb = best(lambda: layer.backward(dy, cache))
            line += (f" | th{th} fwd {tf * 1e3:6.2f} ms {flops / tf / 1e9:5.0f} GF/s"
                     f" bwd {tb * 1e3:6.2f} ms {2 * flops / tb / 1e9:5.0f} GF/s")
        print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
