"""The curated corpus traces/: every log's findings are exactly those its README line names.

traces/README.md is the contract: one table row per log (or run directory) with its
specs and expected findings (`clean` or `CODE@line,line…`); every file in traces/ is
named by a row. The exchange runs regenerate byte for byte from scripts/make-traces.py.
"""
from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from protoverify.auditor.driver import audit
from tests.helpers.corpus import RUN_FILES, Row, log_rows, parse_expected, readme_table, sort_key, unquoted
from tests.helpers.paths import REPO, TRACES

ROWS = log_rows()


def test_readme_parses_into_rows():
    assert len(ROWS) >= 15
    assert any(r.expected == () for r in ROWS) and any(r.expected for r in ROWS)
    assert parse_expected("DEL003@17,5 CMP001@- CMP001@5") == (
        ("CMP001", None), ("CMP001", 5), ("DEL003", 5), ("DEL003", 17))
    with pytest.raises(AssertionError):
        parse_expected("CMP001 at 5")


def test_every_file_has_a_readme_line():
    specs = {unquoted(c[0])[0] for c in readme_table("Specs")}
    named = {r.name for r in ROWS} | specs
    run_dirs = {r.name for r in ROWS if r.name.endswith("/")}
    files = {p.relative_to(TRACES).as_posix() for p in TRACES.rglob("*") if p.is_file()} - {"README.md"}
    unnamed = sorted(f for f in files if f not in named and not any(f.startswith(d) for d in run_dirs))
    assert unnamed == [], f"files in traces/ without a README line: {unnamed}"
    assert [r.name for r in ROWS if not r.log.is_file()] == []
    for d in run_dirs:  # a run directory is its three files, nothing else
        assert sorted(p.name for p in (TRACES / d).iterdir()) == sorted(RUN_FILES)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_findings_are_those_of_the_readme(row: Row):
    for spec in row.specs:
        assert (REPO / spec).is_file(), f"{row.name}: spec {spec} missing"
    result = audit([str(REPO / s) for s in row.specs], [str(row.log)])
    assert result.unread == []
    got = tuple(sorted(((f.code, f.line) for f in result.findings), key=sort_key))
    assert Counter(got) == Counter(row.expected), f"{row.name}: audit gave {got}"


def test_corpus_shows_every_format_conformant_and_violating():
    from protoverify.traces.detect import detect_format

    kinds: dict[str, set[bool]] = {}
    for r in ROWS:
        kinds.setdefault(detect_format(str(r.log)), set()).add(r.expected == ())
    assert kinds["native"] == kinds["envelope"] == kinds["ahoy"] == kinds["adapter"] == {True, False}
    assert "ahoy-json" in kinds
    runs = {r.name for r in ROWS if r.name.startswith("runs/")}
    assert {"scripted", "adversarial", "simllm"} <= {part for n in runs for part in n.split("-")}


def test_corpus_is_small():
    size = sum(p.stat().st_size for p in TRACES.rglob("*") if p.is_file())
    assert size < 1_000_000, f"traces/ is {size:,} bytes"


def _make_traces() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_traces", REPO / "scripts" / "make-traces.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_runs_regenerate_identically(tmp_path: Path):
    mod = _make_traces()
    committed = {r.name.removeprefix("runs/").rstrip("/") for r in ROWS if r.name.startswith("runs/")}
    assert set(mod.RUNS) == committed
    for name in sorted(mod.RUNS):
        made = mod.make(name, tmp_path)
        for f in RUN_FILES:
            assert (made / f).read_bytes() == (TRACES / "runs" / name / f).read_bytes(), f"runs/{name}/{f} differs"
