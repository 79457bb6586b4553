"""Helpers for the reader tests: where the real corpus and the small inputs live."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TRACES = REPO / "traces"


def corpus_dir() -> Path:
    """../shared/corpus next to the repo root (where CI puts it), or skip."""
    path = REPO.parent / "shared" / "corpus"
    if not path.is_dir():
        pytest.skip(f"real-log corpus not found at {path} (CI provides it at ../shared/corpus)")
    return path


def line_count(path: Path) -> int:
    """Physical lines, counting a last line that has no newline."""
    return len(path.read_bytes().decode("utf-8", "replace").splitlines())
