"""The Python examples in the README and docs run as written (from the repo root)."""
from __future__ import annotations

import re

import pytest

from tests.helpers.paths import REPO

BLOCK = re.compile(r"```python\n(.*?)```", re.S)
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
EXAMPLES = [(doc, n, code) for doc in DOCS
            for n, code in enumerate(BLOCK.findall(doc.read_text(encoding="utf-8")))]


@pytest.mark.parametrize("doc,n,code", EXAMPLES, ids=[f"{d.name}#{n}" for d, n, _ in EXAMPLES])
def test_python_example_runs(doc, n, code, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    exec(compile(code, f"{doc.name}#{n}", "exec"), {"__name__": "__docs__"})  # our own docs, not input


def test_there_are_examples():
    assert len(EXAMPLES) >= 2
