"""Micro-benchmark of aenn's GEMM on the shapes the benchmark models call it with.

For each Dense layer (rows x K -> N) it times the three products dense.c asks for:
    NN  forward          out (rows, N) = X (rows, K) @ W (K, N)
    NT  backward-data    dX (rows, K)  = dZ (rows, N) @ W^T          (not for a model's first layer)
    TN  backward-weights dW (K, N)     = X^T (K, rows) @ dZ (rows, N)
and prints the median and the minimum wall milliseconds and GFLOP/s (2*M*N*K / time) per thread count and ISA,
plus per-model totals. Each ISA runs in its own subprocess (AENN_ISA) so a fresh process picks it.

Usage:
    python benchmarks/bench_gemm.py                           # all models, threads 1 and 2, every ISA
    python benchmarks/bench_gemm.py --models dae --threads 2 --isa avx512
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

# model -> (rows, [layer widths])
MODELS = {
    "dae": (256, [784, 512, 512, 256, 196, 256, 512, 784]),
    "mlp": (32, [784, 64, 64, 10]),
}


def _calls(model):
    rows, widths = MODELS[model]
    out = []
    for layer, (k, n) in enumerate(zip(widths[:-1], widths[1:])):
        name = f"{k}->{n}"
        out.append((name, "NN", rows, n, k, 0, 0))
        if layer > 0:
            out.append((name, "NT", rows, k, n, 0, 1))
        out.append((name, "TN", k, n, rows, 1, 0))
    return out


def _time(fn, reps):
    """Median and minimum wall seconds of one call (the minimum is the robust figure on a
    machine shared with other jobs: preemption only ever adds time)."""
    fn()
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), float(np.min(ts))


def _worker(models, threads, reps):
    from aenn import _core

    rng = np.random.default_rng(0)
    res = []
    for nt in threads:
        _core.set_num_threads(nt)
        time.sleep(0.05)
        for model in models:
            for name, kind, M, N, K, ta, tb in _calls(model):
                A = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
                B = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
                C = np.empty((M, N), np.float32)
                sec, best = _time(lambda: _core.gemm(C, A, B, ta, tb), reps)
                fl = 2.0 * M * N * K
                res.append(dict(model=model, layer=name, kind=kind, M=M, N=N, K=K, threads=nt,
                                ms=sec * 1e3, gflops=fl / sec / 1e9, ms_min=best * 1e3,
                                gflops_max=fl / best / 1e9))
    _core.set_num_threads(1)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--isa", nargs="+", default=None, help="generic avx2 avx512 (default: all supported)")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._worker:
        json.dump(_worker(args.models, args.threads, args.reps), sys.stdout)
        return

    from aenn import _core

    isas = args.isa
    if isas is None:
        isas = []
        for name in ("generic", "avx2", "avx512"):
            try:
                _core.set_isa(name)
                isas.append(name)
            except ValueError:
                pass
    allres = {}
    for isa in isas:
        env = dict(os.environ, AENN_ISA=isa)
        cmd = [sys.executable, __file__, "--_worker", "--reps", str(args.reps), "--models", *args.models,
               "--threads", *map(str, args.threads)]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        allres[isa] = json.loads(out)
        print(f"\n== ISA {isa} ==")
        print(f"{'model':5} {'layer':9} {'op':3} {'M':>5} {'N':>5} {'K':>5} {'thr':>3} {'ms':>8} {'GFLOP/s':>8} {'min ms':>8} {'best':>8}")
        totals = {}
        for r in allres[isa]:
            print(f"{r['model']:5} {r['layer']:9} {r['kind']:3} {r['M']:5d} {r['N']:5d} {r['K']:5d} "
                  f"{r['threads']:3d} {r['ms']:8.3f} {r['gflops']:8.1f} {r['ms_min']:8.3f} {r['gflops_max']:8.1f}")
            key = (r["model"], r["threads"])
            ms, mn, fl = totals.get(key, (0.0, 0.0, 0.0))
            totals[key] = (ms + r["ms"], mn + r["ms_min"], fl + 2.0 * r["M"] * r["N"] * r["K"])
        for (model, nt), (ms, mn, fl) in totals.items():
            print(f"total {model} threads={nt}: {ms:.3f} ms per step ({fl / ms / 1e6:.1f} GFLOP/s), "
                  f"sum of minima {mn:.3f} ms ({fl / mn / 1e6:.1f} GFLOP/s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(allres, f, indent=1)


if __name__ == "__main__":
    main()
