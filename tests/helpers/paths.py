"""Shared test locations: the repo, its specs, and the corpus beside it in ../shared."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"
TRACES = REPO / "traces"
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


def required() -> bool:
    """True where a missing oracle or corpus must fail, not skip (CI sets PROTOVERIFY_REQUIRE_ALL=1)."""
    return os.environ.get("PROTOVERIFY_REQUIRE_ALL", "") not in ("", "0")


def missing(reason: str) -> None:
    """Skip locally with the reason; fail where everything is required (CI)."""
    if required():
        pytest.fail(f"{reason} (PROTOVERIFY_REQUIRE_ALL is set: a missing input is a failure)")
    pytest.skip(reason, allow_module_level=True)


def corpus_path(*parts: str) -> Path:
    """A path in ../shared/corpus, or skip the test saying why (CI has it beside the clone)."""
    p = CORPUS.joinpath(*parts)
    if not p.exists():
        missing(f"corpus not found at {p} (expected ../shared beside the repo)")
    return p
