"""Times aenn's Philox fills (csrc/rng.c) called straight through aenn._core.

Each fill (uniform, normal, truncated_normal, bernoulli; permutation of n indices) at the
dense DAE's dropout shape (256, 512) and at the size of MNIST's training images (60000, 784),
for every instruction set this CPU has and for 1 and 2 threads. Prints the median wall ms and
ns per element, and checks on the way that every ISA / thread count gave the same bits as the
first run (a benchmark that silently measured a wrong kernel would be worthless).

    PYTHONPATH=$PWD python benchmarks/bench_rng.py [--repeat 15] [--isas generic,avx512]
"""
import argparse
import time

import numpy as np

from aenn import _core

FILLS = [("uniform", (-1.5, 2.0)), ("normal", (0.0, 1.0)), ("truncated_normal", (0.0, 0.05)),
         ("bernoulli", (0.7,))]
SHAPES = [(256, 512), (60000, 784)]
PERM_N = [60000, 256 * 512]


def timeit(fn, repeat):
    fn()  # warm up
    wall = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(wall))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--isas", default=",".join(_core.available_isas()))
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    isas = args.isas.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    old_isa, old_threads = _core.isa(), _core.get_num_threads()
    first = {}  # case -> output of the first run, to compare bits
    rows = []
    try:
        cases = []
        for name, params in FILLS:
            for shape in SHAPES:
                out = np.empty(shape, np.float32)
                fn = getattr(_core, "rng_" + name)
                cases.append((f"{name} {shape[0]}x{shape[1]}", out,
                              lambda fn=fn, out=out, params=params: fn(out, 12, 34, 56, *params)))
        for n in PERM_N:
            out = np.empty(n, np.int64)
            cases.append((f"permutation {n}", out,
                          lambda out=out: _core.rng_permutation(out, 12, 34, 56)))
        for label, out, fn in cases:
            for isa in isas:
                _core.set_isa(isa)
                for t in threads:
                    _core.set_num_threads(t)
                    ms = timeit(fn, args.repeat if out.size < 10 ** 6 else max(3, args.repeat // 3))
                    if label not in first:
                        first[label] = out.copy()
                    elif not np.array_equal(first[label].view(np.uint8), out.view(np.uint8)):
                        raise SystemExit(f"{label}: {isa} / {t} threads gave different bits")
                    rows.append((label, isa, t, ms, 1e6 * ms / out.size))
    finally:
        _core.set_isa(old_isa)
        _core.set_num_threads(old_threads)
    print(f"{'fill':28s} {'isa':8s} {'thr':>3s} {'ms':>10s} {'ns/elem':>8s}")
    for label, isa, t, ms, ns in rows:
        print(f"{label:28s} {isa:8s} {t:3d} {ms:10.3f} {ns:8.3f}")
    print("all ISAs and thread counts gave the same bits")


if __name__ == "__main__":
    main()
