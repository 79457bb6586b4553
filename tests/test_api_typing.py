"""The documented API is typed: a user's snippet passes `mypy --strict`, and
mypy catches misuse of it (so the types are real, not `Any`).

mypy runs with `--follow-imports=silent`: the snippet's own typing is judged,
not the package's internals.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

SNIPPET = REPO / "tests" / "snippets" / "api_snippet.py"

pytest.importorskip("mypy", reason="mypy is in the dev extras: pip install -e '.[dev]'")


def mypy(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                           "--no-error-summary", "--cache-dir", str(tmp_path / "cache"), str(path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True)


def test_user_snippet_passes_mypy_strict(tmp_path: Path) -> None:
    proc = mypy(SNIPPET, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_user_snippet_runs() -> None:
    proc = subprocess.run([sys.executable, str(SNIPPET)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no such log file" in proc.stdout


def test_mypy_catches_misuse(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import protoverify\n"
        "spec = protoverify.load('specs/purchase.bspl')\n"
        "r: int = protoverify.verify('Purchase', spec=spec)\n"
        "protoverify.verify('Purchase', timeot=5)\n"
        "protoverify.audit(spec, 'x.jsonl', format='xml')\n"
        "n: str = protoverify.audit(spec, 'x.jsonl').events\n")
    out = mypy(bad, tmp_path).stdout
    for line, code in ((3, "assignment"), (4, "call-arg"), (5, "arg-type"), (6, "assignment")):
        assert f"bad.py:{line}: error" in out and f"[{code}]" in out, out
