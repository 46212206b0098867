"""Builds the executed practical-work notebooks from their sources in notebooks/src/.

Each source is a plain Python file in the "percent" format: cells start with a line `# %%`
(code) or `# %% [markdown]` (text, every line starting with `# `). The script turns a source into
a notebook, executes it top to bottom with a Jupyter kernel (nbclient), and writes
notebooks/<name>.ipynb with every output and figure, so what is committed is what ran.

Usage:
    python notebooks/build.py NAME [NAME ...]   # e.g. dit406_mnist_classifiers
    python notebooks/build.py --all
    AENN_QUICK=1 python notebooks/build.py NAME # the reduced-epochs setting used by tests
    python notebooks/build.py --text-only NAME  # copy edited text cells into the executed notebook

Needs the [notebooks] extra (nbformat, nbclient, ipykernel, matplotlib, pandas, scikit-learn).
"""

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"


def parse_percent(text):
    """Splits a percent-format source into (kind, source) cells."""
    cells, kind, lines = [], None, []

    def flush():
        if kind is not None:
            body = "\n".join(lines).strip("\n")
            if body:
                cells.append((kind, body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind = "markdown" if "[markdown]" in line else "code"
            lines = []
            continue
        if kind == "markdown":
            line = line[2:] if line.startswith("# ") else line.lstrip("#")
        lines.append(line)
    flush()
    return cells


def build(name, timeout):
    import nbformat
    from nbclient import NotebookClient

    source = SRC / f"{name}.py"
    if not source.exists():
        raise SystemExit(f"no notebook source {source}")
    nb = nbformat.v4.new_notebook()
    for kind, body in parse_percent(source.read_text()):
        cell = nbformat.v4.new_markdown_cell(body) if kind == "markdown" else nbformat.v4.new_code_cell(body)
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    start = time.time()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}})
    client.execute()
    out = write_notebook(nb, name)
    print(f"{out.relative_to(HERE.parent)}: executed in {time.time() - start:.0f} s")


def write_notebook(nb, name):
    """Writes notebooks/<name>.ipynb through a temporary file renamed into place (an interrupted
    write never leaves half a notebook); returns its path."""
    import nbformat

    out = HERE / f"{name}.ipynb"
    tmp = out.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    os.replace(tmp, out)
    return out


def refresh_text(name):
    """Copies the source's text (markdown) cells into the executed notebook and keeps every code
    cell and its outputs: for an answer edited to quote the numbers printed above it. Refuses when
    a code cell differs from the source, since then the notebook must run again."""
    import nbformat

    out = HERE / f"{name}.ipynb"
    nb = nbformat.read(str(out), as_version=4)
    cells = parse_percent((SRC / f"{name}.py").read_text())
    if [k for k, _ in cells] != [c.cell_type for c in nb.cells]:
        raise SystemExit(f"{name}: the source's cells changed; rebuild the notebook")
    for (kind, body), cell in zip(cells, nb.cells):
        if kind == "code" and cell.source != body:
            raise SystemExit(f"{name}: a code cell changed; rebuild the notebook")
        if kind == "markdown":
            cell.source = body
    write_notebook(nb, name)
    print(f"{out.relative_to(HERE.parent)}: text cells refreshed")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    parser.add_argument("--text-only", action="store_true",
                        help="only copy the text cells of the source into the executed notebook")
    args = parser.parse_args(argv)
    names = sorted(p.stem for p in SRC.glob("*.py")) if args.all else args.names
    if not names:
        parser.error("name a notebook or pass --all")
    for name in names:
        if args.text_only:
            refresh_text(name)
        else:
            build(name, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
