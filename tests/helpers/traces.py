"""Helpers for the reader tests: where the real corpus and the small inputs live."""
from __future__ import annotations

from pathlib import Path

from tests.helpers.paths import (
    TRACES,  # noqa: F401  (re-exported for reader tests)
    corpus_path,
)


def corpus_dir() -> Path:
    """../shared/corpus next to the repo root (where CI puts it), or skip."""
    return corpus_path()


def line_count(path: Path) -> int:
    """Physical lines, counting a last line that has no newline."""
    return len(path.read_bytes().decode("utf-8", "replace").splitlines())
