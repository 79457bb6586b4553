"""Fixtures for the reader tests (helpers live in tracehelp.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.traces import corpus_dir


@pytest.fixture
def corpus() -> Path:
    return corpus_dir()
