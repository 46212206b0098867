"""Practical-work notebooks: build one with AENN_QUICK=1 into a temporary copy and check it ran;
check every committed notebook was executed from its current source without error.

notebooks/build.py writes the executed notebook next to itself, so the test copies build.py and
the sources to tmp_path and runs the copy; the committed notebooks are never touched.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = os.environ.get("AENN_DATA_DIR") or os.environ.get("AENN_TEST_DATA", "/work/shared/data")

needs_mnist = pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED, "mnist")),
                                 reason="MNIST data folder not available (set AENN_DATA_DIR)")
SOURCES = sorted(p.stem for p in (ROOT / "notebooks" / "src").glob("*.py"))


def _build_quick(tmp_path, name):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    copy = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", copy, ignore=shutil.ignore_patterns("*.ipynb"))
    env = dict(os.environ, AENN_QUICK="1", AENN_DATA_DIR=SHARED)
    env.pop("MPLBACKEND", None)  # let ipykernel choose its inline backend so figures are captured
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, str(copy / "build.py"), name], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = copy / f"{name}.ipynb"
    assert out.exists()
    return json.loads(out.read_text())


def _outputs(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            yield cell, cell.get("outputs", [])


@pytest.mark.slow
@needs_mnist
@pytest.mark.parametrize("name", ["dit406_mnist_classifiers"])
def test_notebook_executes_quick(tmp_path, name):
    nb = _build_quick(tmp_path, name)
    code_cells = [c for c, _ in _outputs(nb)]
    assert code_cells and all(c.get("execution_count") for c in code_cells), "a code cell did not run"
    errors = [o for _, outs in _outputs(nb) for o in outs if o.get("output_type") == "error"]
    assert not errors, errors[0].get("ename", "") + ": " + errors[0].get("evalue", "")
    text = "".join("".join(o.get("text", "")) for _, outs in _outputs(nb) for o in outs)
    assert "QUICK = True" in text
    images = sum("image/png" in o.get("data", {}) for _, outs in _outputs(nb) for o in outs)
    assert images >= 1, "no figure was produced"
    if name == "dit406_mnist_classifiers":
        # the summaries print the Keras parameter counts of the three architectures
        for count in ("55,050", "545,810", "34,826"):
            assert count in text, count
        acc = [line for line in text.splitlines() if line.startswith("Test accuracy:")]
        assert acc and 0.5 < float(acc[0].split(":")[1]) <= 1.0, acc


@pytest.mark.parametrize("name", SOURCES)
def test_committed_notebook_matches_its_source(name):
    """The executed notebook was built from the current source, ran without error, and the source
    reads the QUICK switch."""
    sys.path.insert(0, str(ROOT / "notebooks"))
    try:
        from build import parse_percent
    finally:
        sys.path.pop(0)
    text = (ROOT / "notebooks" / "src" / f"{name}.py").read_text()
    assert 'QUICK = os.environ.get("AENN_QUICK") == "1"' in text
    assert "import aenn as keras" in text
    path = ROOT / "notebooks" / f"{name}.ipynb"
    if not path.exists():
        pytest.skip(f"{name}.ipynb not built")
    nb = json.loads(path.read_text())
    cells = parse_percent(text)
    assert [k for k, _ in cells] == [c["cell_type"] for c in nb["cells"]]
    for (kind, body), cell in zip(cells, nb["cells"]):
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if kind == "code":
            assert src == body, f"{name}: a code cell differs from the source; rebuild the notebook"
            assert cell.get("execution_count"), f"{name}: a code cell was not executed"
            assert not [o for o in cell["outputs"] if o.get("output_type") == "error"]
