"""docs/notebooks/failure-modes.ipynb runs from top to bottom with the venv's python as its
kernel (nbclient; a failing cell fails the test), and its figures render as PNGs."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers.paths import REPO

NOTEBOOK = REPO / "docs" / "notebooks" / "failure-modes.ipynb"
KERNEL = "protoverify-test"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec for this interpreter, found through JUPYTER_PATH (nothing installed)."""
    spec = tmp_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "protoverify test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return KERNEL


def _pngs(nb: nbformat.NotebookNode) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "image/png" in o.get("data", {})]


def test_notebook_runs_and_draws(kernel: str) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name=kernel, resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    pngs = _pngs(nb)
    assert len(pngs) >= 7 and all(p.startswith(PNG) and len(p) > 5000 for p in pngs)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "every claim below holds for these runs" in text


def test_committed_notebook_is_small_and_executed() -> None:
    """Outputs are committed (so the note reads with its figures), at a size a repository takes."""
    assert NOTEBOOK.stat().st_size < 600_000
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert len(_pngs(nb)) >= 7
