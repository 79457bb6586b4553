"""The curated corpus traces/ as its README table describes it (tests/traces/test_corpus.py
asserts the table; the report tests render the corpus)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.helpers.paths import REPO, TRACES

if TYPE_CHECKING:
    from protoverify.auditor.result import AuditResult

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
    return tuple(sorted(out, key=sort_key))


def sort_key(f: tuple[str, int | None]) -> tuple[str, int]:
    return f[0], -1 if f[1] is None else f[1]


def readme_table(title: str) -> list[list[str]]:
    """The cells of the rows of the table under `## title` (header and rule left out)."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows[2:]]


def unquoted(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def log_rows() -> list[Row]:
    rows = []
    for cells in readme_table("Logs"):
        assert len(cells) == 4, f"traces/README.md row needs 4 cells: {cells}"
        (name,), specs = unquoted(cells[0]), tuple(unquoted(cells[1]))
        rows.append(Row(name, specs, parse_expected(cells[3])))
    return rows




def audit_corpus() -> list[AuditResult]:
    """Every log of the corpus audited with its specs (one audit per README row)."""
    from protoverify.auditor.driver import audit

    return [audit([str(REPO / s) for s in r.specs], [str(r.log)], record_enactments=True) for r in log_rows()]
