"""Side-by-side benchmarks: aenn, PyTorch and Keras 3 (torch backend) in one run.

Every framework trains the same model on the same data (MNIST or NAB windows from
AENN_DATA_DIR), with the same batch size, epochs and thread count. Each (model, framework) pair
runs in its own subprocess so that thread settings and memory peaks do not leak between them.
The table gives seconds per epoch (the median of the epochs after the first, which is a
warm-up, when there are at least two), the ratio to aenn, GFLOP/s and share of the machine's
nominal FP32 peak (threads x GHz x 2 FMA units x vector lanes x 2, from `aenn.show_config()`),
and the peak resident memory of the subprocess. "predict_*" rows time one inference pass over
the data. `import` rows give the time of `import aenn` / `import torch` / `import keras` in a
fresh interpreter, minus the time of `import numpy` (best of --import-repeats).

Usage:
    AENN_DATA_DIR=/path/to/data python benchmarks/run.py           # everything
    python benchmarks/run.py --models mlp_b32 dense_dae_b256 --epochs 2 --threads 2
    python benchmarks/run.py --samples 6000                        # subsample (say so!)
    python benchmarks/run.py --profile --models mlp_b32            # aenn per-layer profile
    python benchmarks/run.py --plan-share --frameworks aenn       # time outside the C step
Results: benchmarks/results/<date>-<host>.json and a Markdown table on stdout (paste it into
benchmarks/README.md together with the machine line printed above it).
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from models import MODELS

FRAMEWORKS = ("aenn", "torch", "keras")
IMPORTS = {"aenn": "import aenn", "torch": "import torch",
           "keras": "import keras"}


def _plan_share(spec, x, y, epochs, threads):
    """Trains with every `_core.plan_step` call timed; prints, for the epochs after the first,
    the time per step inside that one C call and outside it (the fit loop's Python), without
    the per-layer profile's bookkeeping (which adds to the time outside C)."""
    import aenn

    step = aenn._core.plan_step
    spans = []

    def timed(*args):
        t = time.perf_counter()
        try:
            return step(*args)
        finally:
            spans.append(time.perf_counter() - t)

    aenn._core.plan_step = timed
    try:
        times = spec["aenn"](x, y, epochs=epochs, threads=threads)
    finally:
        aenn._core.plan_step = step
    if not spans or len(times) < 2:
        print("plan share: the C plan did not run (or one epoch only)", file=sys.stderr)
        return times
    per_epoch = (len(spans) + 1) // len(times)  # the fit's first step runs in Python
    later = spans[-per_epoch * (len(times) - 1):]
    wall = sum(times[1:])
    in_c = sum(later)
    print(f"plan share: {len(later)} steps, {1e3 * wall / len(later):.3f} ms/step: "
          f"{1e3 * in_c / len(later):.3f} ms in plan_step, {1e3 * (wall - in_c) / len(later):.3f} "
          f"ms outside it ({100 * (wall - in_c) / wall:.1f}% of the step)", file=sys.stderr)
    return times


def run_one(model, framework, epochs, threads, samples, profile=False, plan_share=False):
    """Runs one (model, framework) pair in this process; returns a result dict."""
    spec = MODELS[model]
    x, y = spec["data"](samples)
    if profile and framework == "aenn":
        from aenn.models import profiler

        with profiler.Profiler() as prof:
            times = spec[framework](x, y, epochs=epochs, threads=threads)
        print(prof.format(), file=sys.stderr)
    elif plan_share and framework == "aenn":
        times = _plan_share(spec, x, y, epochs, threads)
    else:
        times = spec[framework](x, y, epochs=epochs, threads=threads)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    timed = sorted(times[1:]) if len(times) > 1 else times
    median = timed[len(timed) // 2]
    return {
        "model": model, "framework": framework, "kind": spec["kind"], "epoch_seconds": times,
        "seconds_per_epoch": median, "samples": int(x.shape[0]),
        "batch_size": spec["batch_size"], "threads": threads, "params": spec["params"],
        "peak_rss_mb": peak_kb / 1024.0, "data_mb": (x.nbytes + y.nbytes) / 2**20,
        "flop_per_epoch": spec["flop_per_sample"] * x.shape[0],
    }


def import_seconds(framework, repeats, env):
    """Best-of-`repeats` time of `import <framework>` in a fresh interpreter, minus numpy's.

    Timed with bytecode caches, as a user's install has them (pip compiles the .pyc files of a
    package it installs; an editable install writes them on the first import): the child may
    write them even where PYTHONDONTWRITEBYTECODE is set, and one untimed import goes first.
    Without the caches every import compiles the sources (aenn: ~0.2 s instead of ~0.04 s).
    """
    code = ("import time, numpy; t = time.perf_counter(); {stmt}; "
            "print(time.perf_counter() - t)")
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    best = None
    for i in range(repeats + 1):
        proc = subprocess.run([sys.executable, "-c", code.format(stmt=IMPORTS[framework])], check=False,
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return None
        if i == 0:
            continue  # the warm-up: writes any missing caches
        t = float(proc.stdout.strip().splitlines()[-1])
        best = t if best is None else min(best, t)
    return best


def machine(threads):
    import aenn

    info = aenn.show_config(print_it=False)
    info = {k: v for k, v in info.items() if k != "num_threads"}
    info["python"] = platform.python_version()
    try:
        import torch

        info["torch_version"] = torch.__version__
    except ImportError:
        pass
    try:
        out = subprocess.run([sys.executable, "-c", "import keras; print(keras.__version__)"],
                             capture_output=True, text=True, check=False,
                             env=dict(os.environ, KERAS_BACKEND="torch"))
        info["keras_version"] = out.stdout.strip() or None
    except OSError:
        pass
    info["load_average"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return info


def peak_gflops(info, threads):
    from aenn.config import peak_fp32_gflops

    return peak_fp32_gflops(cores=threads, ghz=info.get("cpu_ghz"),
                            lanes=info.get("vector_width_fp32") or 4)


def format_table(results, imports, peak):
    lines = [("| model | params | framework | samples | batch | s/epoch | vs aenn | GFLOP/s | "
             "% of peak | peak MB |"), "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "ratio_vs_aenn" in r:  # --rounds: the median of the per-round ratios
            ratio = f"{r['ratio_vs_aenn']:.2f}x"
        else:
            base = next((q for q in results if q["model"] == r["model"]
                         and q["framework"] == "aenn"), None)
            ratio = (f"{r['seconds_per_epoch'] / base['seconds_per_epoch']:.2f}x" if base
                     else "-")
        gf = r["flop_per_epoch"] / r["seconds_per_epoch"] / 1e9
        share = f"{100 * gf / peak:.1f}%" if peak else "-"
        lines.append(f"| {r['model']} | {r['params']:,} | {r['framework']} | {r['samples']} | "
                     f"{r['batch_size']} | {r['seconds_per_epoch']:.3f} | {ratio} | {gf:.2f} | "
                     f"{share} | {r['peak_rss_mb']:.0f} |")
    if imports:
        base = imports.get("aenn")
        for fw, t in imports.items():
            ratio = f"{t / base:.2f}x" if base and t is not None else "-"
            shown = "failed" if t is None else f"{t:.3f}"
            lines.append(f"| import (s, minus numpy) | - | {fw} | - | - | {shown} | {ratio} | "
                         "- | - | - |")
    return "\n".join(lines)


def combine_rounds(runs):
    """One result per (model, framework) from several rounds: the median s/epoch over the rounds,
    and the median over the rounds of (this framework's time / aenn's time in the same round)."""
    out = []
    for model in dict.fromkeys(r["model"] for r in runs):
        mine = [r for r in runs if r["model"] == model]
        aenn = {r["round"]: r["seconds_per_epoch"] for r in mine if r["framework"] == "aenn"}
        for fw in dict.fromkeys(r["framework"] for r in mine):
            rs = [r for r in mine if r["framework"] == fw]
            agg = dict(rs[0], round=None)
            agg["round_seconds"] = [r["seconds_per_epoch"] for r in rs]
            agg["seconds_per_epoch"] = statistics.median(agg["round_seconds"])
            agg["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rs)
            ratios = [r["seconds_per_epoch"] / aenn[r["round"]] for r in rs if r["round"] in aenn]
            if ratios:
                agg["round_ratios_vs_aenn"] = ratios
                agg["ratio_vs_aenn"] = statistics.median(ratios)
            out.append(agg)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--frameworks", nargs="*", default=list(FRAMEWORKS),
                        choices=list(FRAMEWORKS))
    parser.add_argument("--epochs", type=int, default=3,
                        help="epochs per run; the first is a warm-up when there are >= 2")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--samples", type=int, default=None,
                        help="use only the first N samples (default: all)")
    parser.add_argument("--import-repeats", type=int, default=5,
                        help="fresh interpreters per import timing (0: skip)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every framework of a model this many times, alternating "
                             "(aenn, torch, keras, aenn, ...); report the median s/epoch and the "
                             "median of the ratios taken within each round (robust to a machine "
                             "whose speed drifts)")
    parser.add_argument("--profile", action="store_true",
                        help="print aenn's per-layer profile (time in C vs outside) per model")
    parser.add_argument("--plan-share", action="store_true",
                        help="time aenn's compiled C step (the models `fit` runs as one C call "
                             "per step) against the whole step: the share outside C")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "FRAMEWORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        result = run_one(args.one[0], args.one[1], args.epochs, args.threads, args.samples,
                         args.profile, args.plan_share)
        print("RESULT " + json.dumps(result))
        return

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               AENN_NUM_THREADS=str(args.threads), KERAS_BACKEND="torch",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    info = machine(args.threads)
    peak = peak_gflops(info, args.threads)
    print(f"machine: {info['cpu_model']}, {info.get('cpu_ghz') or '?'} GHz, "
          f"{info['physical_cores']} physical cores, SIMD {' '.join(info['simd_features'])}; "
          f"aenn isa {info['isa']}; {args.threads} threads; nominal FP32 peak for "
          f"{args.threads} cores {peak and round(peak, 1)} GFLOP/s; Python {info['python']}, "
          f"NumPy {info['numpy_version']}, torch {info.get('torch_version')}, "
          f"keras {info.get('keras_version')}; load average {info['load_average']}",
          flush=True)
    results, runs = [], []
    for model, rnd, fw in ((m, k, f) for m in args.models for k in range(args.rounds)
                           for f in args.frameworks):
        cmd = [sys.executable, __file__, "--one", model, fw, "--epochs", str(args.epochs),
               "--threads", str(args.threads)]
        if args.samples:
            cmd += ["--samples", str(args.samples)]
        if args.profile:
            cmd += ["--profile"]
        if args.plan_share:
            cmd += ["--plan-share"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
        if args.plan_share and fw == "aenn":
            share = [l for l in proc.stderr.splitlines() if l.startswith("plan share")]
            print(f"{model} (aenn) {share[-1] if share else 'plan share: not reported'}",
                  flush=True)
        if args.profile and fw == "aenn":
            prof = [l for l in proc.stderr.splitlines()
                    if not l.lstrip().startswith(("Warning", "warnings."))]
            print(f"\n{model} (aenn profile)\n" + "\n".join(prof[-40:]), flush=True)
        if proc.returncode != 0 or not line:
            print(f"{model}/{fw}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        r = json.loads(line[0][7:])
        r["round"] = rnd
        runs.append(r)
        print(f"{model:<28} {fw:<6} {r['seconds_per_epoch']:8.3f} s/epoch  "
              f"(epochs {', '.join(f'{t:.2f}' for t in r['epoch_seconds'])})"
              + (f"  round {rnd + 1}" if args.rounds > 1 else ""), flush=True)
    results = runs if args.rounds == 1 else combine_rounds(runs)
    imports = {}
    if args.import_repeats > 0:
        for fw in args.frameworks:
            imports[fw] = import_seconds(fw, args.import_repeats, env)
    table = format_table(results, imports, peak)
    print("\n" + table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = HERE / "results" / f"{stamp}-{platform.node()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": info, "threads": args.threads, "epochs": args.epochs,
                               "samples": args.samples, "peak_gflops": peak,
                               "rounds": args.rounds, "results": results,
                               "runs": runs if args.rounds > 1 else None,
                               "import_seconds": imports,
                               "table": table}, indent=1))
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
