"""Side-by-side training benchmarks: aenn, PyTorch and Keras 3 (torch backend) in one run.

Every framework trains the same model on the same data (MNIST from AENN_DATA_DIR, or NAB
windows), with the same batch size, epochs and thread count. Each (model, framework) pair runs in
its own subprocess so that thread settings and memory peaks do not leak between them. The table
gives seconds per epoch (the median of the timed epochs, after one warm-up epoch), the ratio to
aenn, aenn's GFLOP/s and share of the machine's nominal FP32 peak, and the peak resident memory.

Usage:
    python benchmarks/run.py                      # every model, every framework installed
    python benchmarks/run.py --models mlp --epochs 2 --threads 2
Results: benchmarks/results/<date>-<host>.json, and the table on stdout (paste it into
benchmarks/README.md with the machine description printed above it).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from models import MODELS  # noqa: E402


def run_one(model, framework, epochs, threads, samples):
    """Runs one (model, framework) pair in this process; returns a result dict."""
    spec = MODELS[model]
    x, y = spec["data"](samples)
    runner = spec[framework]
    times = runner(x, y, epochs=epochs, threads=threads)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    timed = sorted(times[1:]) if len(times) > 1 else times
    median = timed[len(timed) // 2]
    return {
        "model": model, "framework": framework, "epoch_seconds": times,
        "seconds_per_epoch": median, "samples": int(x.shape[0]),
        "batch_size": spec["batch_size"], "threads": threads,
        "peak_rss_mb": peak_kb / 1024.0, "data_mb": (x.nbytes + y.nbytes) / 2**20,
        "flop_per_epoch": spec["flop_per_sample"] * x.shape[0],
    }


def machine():
    import aenn

    info = aenn.show_config(print_it=False) if hasattr(aenn, "show_config") else {}
    return {"python": platform.python_version(), "platform": platform.platform(), **info}


def peak_gflops(info, threads):
    """Nominal FP32 peak: threads x GHz x FLOP/cycle (2 FMA units x lanes x 2)."""
    ghz = info.get("cpu_ghz") or 2.1
    lanes = 16 if "avx512f" in info.get("simd", []) else 8 if "avx2" in info.get("simd", []) else 4
    return threads * ghz * 2 * lanes * 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--frameworks", nargs="*", default=["aenn", "torch", "keras"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--samples", type=int, default=None, help="training samples (default all)")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "FRAMEWORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        result = run_one(args.one[0], args.one[1], args.epochs, args.threads, args.samples)
        print("RESULT " + json.dumps(result))
        return

    info = machine()
    print(json.dumps({k: info[k] for k in info if k in ("cpu", "simd", "isa", "threads")}))
    results = []
    for model in args.models:
        for fw in args.frameworks:
            if fw not in MODELS[model]:
                continue
            cmd = [sys.executable, __file__, "--one", model, fw, "--epochs", str(args.epochs),
                   "--threads", str(args.threads)]
            if args.samples:
                cmd += ["--samples", str(args.samples)]
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                       AENN_NUM_THREADS=str(args.threads), KERAS_BACKEND="torch")
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                print(f"{model}/{fw}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            results.append(json.loads(line[0][7:]))

    peak = peak_gflops(info, args.threads)
    print(f"\n| model | framework | s/epoch | vs aenn | GFLOP/s | % of peak | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        base = next((q for q in results if q["model"] == r["model"] and q["framework"] == "aenn"), None)
        ratio = r["seconds_per_epoch"] / base["seconds_per_epoch"] if base else float("nan")
        gf = r["flop_per_epoch"] / r["seconds_per_epoch"] / 1e9
        print(f"| {r['model']} | {r['framework']} | {r['seconds_per_epoch']:.3f} | {ratio:.2f}x | "
              f"{gf:.1f} | {100 * gf / peak:.0f}% | {r['peak_rss_mb']:.0f} |")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = HERE / "results" / f"{stamp}-{platform.node()}.json"
    out.write_text(json.dumps({"machine": info, "peak_gflops": peak, "results": results}, indent=1))
    print(f"\nwrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
