"""benchmarks/run.py --rounds: the per-(model, framework) medians and the ratios taken within
each round (a pure function of the runs; no benchmark is timed here)."""

import importlib.util
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def run_module():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(model, fw, rnd, seconds, rss=100.0):
    return {"model": model, "framework": fw, "round": rnd, "seconds_per_epoch": seconds,
            "peak_rss_mb": rss, "params": 1, "samples": 10, "batch_size": 2,
            "flop_per_epoch": 1e9}


def test_combine_rounds_takes_medians_of_within_round_ratios(run_module):
    runs = [_run("m", "aenn", 0, 1.0), _run("m", "torch", 0, 3.0, rss=300.0),
            _run("m", "aenn", 1, 2.0), _run("m", "torch", 1, 4.0, rss=310.0),   # a slow minute
            _run("m", "aenn", 2, 1.0), _run("m", "torch", 2, 2.5)]
    out = {r["framework"]: r for r in run_module.combine_rounds(runs)}
    assert out["aenn"]["seconds_per_epoch"] == 1.0
    assert out["torch"]["seconds_per_epoch"] == 3.0
    assert out["torch"]["round_ratios_vs_aenn"] == [3.0, 2.0, 2.5]
    assert out["torch"]["ratio_vs_aenn"] == 2.5          # not 3.0 / 1.0
    assert out["torch"]["peak_rss_mb"] == 310.0
    table = run_module.format_table(list(out.values()), {}, None)
    assert "| m | 1 | torch | 10 | 2 | 3.000 | 2.50x |" in table


def test_a_framework_without_aenn_has_no_ratio(run_module):
    out = run_module.combine_rounds([_run("m", "torch", 0, 3.0), _run("m", "torch", 1, 5.0)])
    assert out[0]["seconds_per_epoch"] == 4.0 and "ratio_vs_aenn" not in out[0]
