"""Micro-benchmark of the conv kernels on the coursework's conv layers (batch 128).

Prints, per layer, the forward and backward (dinp + dweight + dbias) milliseconds (median wall
time) and GFLOP/s, and the CPU milliseconds of all threads (robust on a loaded machine), for each
thread count and each instruction set the CPU supports, plus the per-model totals. FLOPs count
'same' borders in full (an upper bound).
The first layer of a model gets no dinp (the engine never asks for it).

Usage:
    python benchmarks/bench_conv_kernels.py                  # all models, threads 1 and 2, every ISA
    python benchmarks/bench_conv_kernels.py --models denoiser --threads 2 --isa avx512
"""

import argparse
import time

import numpy as np

from aenn import _core

# (name, transpose, B, H, W, C, OC, KH, KW, stride, pads (t, b, l, r) or crop (t, l), out (OH, OW), need_dinp)
MODELS = {
    "denoiser": [
        ("conv1 28x28x1->16", False, 128, 28, 28, 1, 16, 3, 3, 1, (1, 1, 1, 1), (28, 28), False),
        ("conv2 14x14x16->16", False, 128, 14, 14, 16, 16, 3, 3, 1, (1, 1, 1, 1), (14, 14), True),
        ("conv3 7x7x16->16", False, 128, 7, 7, 16, 16, 3, 3, 1, (1, 1, 1, 1), (7, 7), True),
        ("conv4 14x14x16->16", False, 128, 14, 14, 16, 16, 3, 3, 1, (1, 1, 1, 1), (14, 14), True),
        ("conv5 28x28x16->1", False, 128, 28, 28, 16, 1, 3, 3, 1, (1, 1, 1, 1), (28, 28), True),
    ],
    "convnet": [
        ("conv1 28x28x1->32 valid", False, 128, 28, 28, 1, 32, 3, 3, 1, (0, 0, 0, 0), (26, 26), False),
        ("conv2 13x13x32->64 valid", False, 128, 13, 13, 32, 64, 3, 3, 1, (0, 0, 0, 0), (11, 11), True),
    ],
    "vae": [
        ("conv1 28x28x1->32 s2", False, 128, 28, 28, 1, 32, 3, 3, 2, (0, 1, 0, 1), (14, 14), False),
        ("conv2 14x14x32->64 s2", False, 128, 14, 14, 32, 64, 3, 3, 2, (0, 1, 0, 1), (7, 7), True),
        ("convT1 7x7x64->14x14x64 s2", True, 128, 7, 7, 64, 64, 3, 3, 2, (0, 0), (14, 14), True),
        ("convT2 14x14x64->28x28x32 s2", True, 128, 14, 14, 64, 32, 3, 3, 2, (0, 0), (28, 28),
         True),
        ("convT3 28x28x32->1", True, 128, 28, 28, 32, 1, 3, 3, 1, (1, 1), (28, 28), True),
    ],
    "nab": [
        ("conv1d 288x1->32 k7 s2", False, 128, 1, 288, 1, 32, 1, 7, 2, (0, 0, 2, 3), (1, 144), False),
        ("conv1d 144x32->16 k7 s2", False, 128, 1, 144, 32, 16, 1, 7, 2, (0, 0, 2, 3), (1, 72), True),
        ("conv1dT 72x16->16 k7 s2", True, 128, 1, 72, 16, 16, 1, 7, 2, (0, 2), (1, 144), True),
        ("conv1dT 144x16->32 k7 s2", True, 128, 1, 144, 16, 32, 1, 7, 2, (0, 2), (1, 288), True),
        ("conv1dT 288x32->1 k7 s1", True, 128, 1, 288, 32, 1, 1, 7, 1, (0, 3), (1, 288), True),
    ],
}


def _layer_arrays(spec, rng):
    _, transpose, b, h, w, c, oc, kh, kw, s, pad, (oh, ow), need = spec
    x = rng.standard_normal((b, h, w, c)).astype(np.float32)
    wshape = (kh, kw, oc, c) if transpose else (kh, kw, c, oc)
    k = (rng.standard_normal(wshape) * 0.1).astype(np.float32)
    bias = rng.standard_normal(oc).astype(np.float32)
    out = np.empty((b, oh, ow, oc), np.float32)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    geom = (1, s, 1, 1) + tuple(pad) if h == 1 else (s, s, 1, 1) + tuple(pad)
    return x, k, bias, out, dout, geom


def _time(fn, reps):
    """Median wall seconds and median CPU seconds (all threads) of one call."""
    fn()
    wall, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu))


def bench_layer(spec, reps):
    rng = np.random.default_rng(0)
    x, k, bias, out, dout, geom = _layer_arrays(spec, rng)
    transpose, need = spec[1], spec[-1]
    dx = np.empty_like(x) if need else None
    dk, db = np.empty_like(k), np.empty_like(bias)
    if transpose:
        fwd = lambda: _core.conv2d_transpose_forward(out, x, k, bias, *geom)  # noqa: E731
        bwd = lambda: _core.conv2d_transpose_backward(dx, dk, db, dout, x, k, *geom)  # noqa: E731
        macs = x.size // x.shape[3] * k.size  # every input pixel scatters the whole kernel
    else:
        fwd = lambda: _core.conv2d_forward(out, x, k, bias, *geom)  # noqa: E731
        bwd = lambda: _core.conv2d_backward(dx, dk, db, dout, x, k, *geom)  # noqa: E731
        macs = out.size // out.shape[3] * k.size  # upper bound: 'same' borders counted in full
    (tf, cf), (tb, cb) = _time(fwd, reps), _time(bwd, reps)
    flop_f = 2 * macs
    flop_b = 2 * macs * (2 if need else 1)
    return tf, tb, flop_f, flop_b, cf, cb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--isa", nargs="*", default=None)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    has_isa = hasattr(_core, "set_isa")
    isas = args.isa or (_core.available_isas() if has_isa else ["default"])
    for isa in isas:
        if has_isa:
            _core.set_isa(isa)
        for t in args.threads:
            _core.set_num_threads(t)
            for model in args.models:
                print(f"== {model}  isa={_core.isa() if has_isa else 'n/a'}  threads={t}")
                tot_f = tot_b = fl = cpu = 0.0
                for spec in MODELS[model]:
                    tf, tb, ff, fb, cf, cb = bench_layer(spec, args.reps)
                    tot_f, tot_b, fl, cpu = tot_f + tf, tot_b + tb, fl + ff + fb, cpu + cf + cb
                    print(f"  {spec[0]:28s} fwd {tf * 1e3:8.2f} ms ({ff / tf / 1e9:6.1f} GFLOP/s)"
                          f"  bwd {tb * 1e3:8.2f} ms ({fb / tb / 1e9:6.1f} GFLOP/s)"
                          f"  cpu {(cf + cb) * 1e3:8.2f} ms")
                print(f"  {'TOTAL':28s} fwd {tot_f * 1e3:8.2f} ms  bwd {tot_b * 1e3:8.2f} ms  "
                      f"fwd+bwd {(tot_f + tot_b) * 1e3:8.2f} ms ({fl / (tot_f + tot_b) / 1e9:6.1f} GFLOP/s)"
                      f"  cpu {cpu * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
