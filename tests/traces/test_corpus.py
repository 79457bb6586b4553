"""The curated corpus traces/: every log's findings are exactly those its README line names.

traces/README.md is the contract: one table row per log (or run directory) with its
specs and expected findings (`clean` or `CODE@line,line…`); every file in traces/ is
named by a row. The exchange runs regenerate byte for byte from scripts/make-traces.py.
"""
from __future__ import annotations

import importlib.util
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from protoverify.auditor.driver import audit
from tests.helpers.paths import REPO, TRACES

README = TRACES / "README.md"
RUN_FILES = ("exchange.jsonl", "summary.json", "injections.jsonl")


@dataclass(frozen=True)
class Row:
    name: str  # relative to traces/; a run directory ends with "/"
    specs: tuple[str, ...]
    expected: tuple[tuple[str, int | None], ...]

    @property
    def log(self) -> Path:
        return TRACES / self.name / "exchange.jsonl" if self.name.endswith("/") else TRACES / self.name


def parse_expected(cell: str) -> tuple[tuple[str, int | None], ...]:
    """`clean` or `CODE@1,2 CODE@-` -> sorted (code, line) pairs, repeats kept."""
    if cell == "clean":
        return ()
    out: list[tuple[str, int | None]] = []
    for item in cell.split():
        m = re.fullmatch(r"([A-Z]{3}\d{3})@([\d,\-]+)", item)
        assert m, f"bad expected findings {item!r} in traces/README.md"
        out.extend((m.group(1), None if n == "-" else int(n)) for n in m.group(2).split(","))
    return tuple(sorted(out, key=_key))


def _key(f: tuple[str, int | None]) -> tuple[str, int]:
    return f[0], -1 if f[1] is None else f[1]


def _table(title: str) -> list[list[str]]:
    """The cells of the rows of the table under `## title` (header and rule left out)."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows[2:]]


def _unquote(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def log_rows() -> list[Row]:
    rows = []
    for cells in _table("Logs"):
        assert len(cells) == 4, f"traces/README.md row needs 4 cells: {cells}"
        (name,), specs = _unquote(cells[0]), tuple(_unquote(cells[1]))
        rows.append(Row(name, specs, parse_expected(cells[3])))
    return rows


ROWS = log_rows()


def test_readme_parses_into_rows():
    assert len(ROWS) >= 15
    assert any(r.expected == () for r in ROWS) and any(r.expected for r in ROWS)
    assert parse_expected("DEL003@17,5 CMP001@- CMP001@5") == (
        ("CMP001", None), ("CMP001", 5), ("DEL003", 5), ("DEL003", 17))
    with pytest.raises(AssertionError):
        parse_expected("CMP001 at 5")


def test_every_file_has_a_readme_line():
    named = {r.name for r in ROWS} | {"specs/" + _unquote(c[0])[0].removeprefix("specs/") for c in _table("Specs")}
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
    got = tuple(sorted(((f.code, f.line) for f in result.findings), key=_key))
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
