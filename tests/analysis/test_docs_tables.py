"""docs/analysis.md lists exactly the frames' columns and the taxonomy the code has."""
from __future__ import annotations

import re

import pytest

from protoverify.analysis.columns import FRAMES
from protoverify.analysis.taxonomy import table
from tests.helpers.paths import REPO

DOC = (REPO / "docs" / "analysis.md").read_text(encoding="utf-8")


def _table_after(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table after `heading`."""
    start = DOC.index(heading)
    rows = []
    for line in DOC[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # header and rule


@pytest.mark.parametrize("frame", list(FRAMES))
def test_column_table(frame: str) -> None:
    rows = _table_after(f"### Columns of `{frame}`")
    assert rows == [[f"`{c}`", d, m] for c, d, m in FRAMES[frame]]


def test_taxonomy_table() -> None:
    rows = _table_after("## Failure-mode taxonomy")
    assert rows == [[f"`{r['mode']}`", r["title"], r["codes"], r["description"]] for r in table()]


def test_every_code_is_named_once_in_the_taxonomy_table() -> None:
    codes = [c for r in _table_after("## Failure-mode taxonomy") for c in re.findall(r"[A-Z]{3}\d{3}", r[2])]
    assert len(codes) == len(set(codes))
