"""Execute docs/notebooks/failure-modes.ipynb with this venv's python and store its outputs.

    .venv/bin/python scripts/run-notebook.py [NOTEBOOK]

The kernel is this interpreter, declared in a kernel spec in a temporary directory (no
Jupyter installation needed beyond the dev extra). tests/analysis/test_notebook.py runs
the same code without writing the outputs back.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "docs" / "notebooks" / "failure-modes.ipynb"
KERNEL = "protoverify-venv"


def kernel_dir(root: Path) -> Path:
    """A kernel spec for this interpreter under `root` (put `root` on JUPYTER_PATH)."""
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "protoverify (venv)", "language": "python"}), encoding="utf-8")
    return root


def execute(path: Path) -> tuple[nbformat.NotebookNode, float]:
    """The notebook at `path` executed (cwd: its folder), and the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = str(kernel_dir(Path(tmp)))
        try:
            t0 = time.perf_counter()
            NotebookClient(nb, kernel_name=KERNEL, resources={"metadata": {"path": str(path.parent)}}).execute()
            return nb, time.perf_counter() - t0
        finally:
            if old is None:
                del os.environ["JUPYTER_PATH"]
            else:
                os.environ["JUPYTER_PATH"] = old


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else NOTEBOOK
    nb, seconds = execute(path)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (protoverify)", "language": "python", "name": "python3"}
    for cell in nb.cells:  # execution details that change on every run stay out of the repository
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)
    print(f"{path}: executed in {seconds:.1f} s, {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
