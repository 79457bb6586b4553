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


def test_every_python_block_is_collected():
    """A block the pattern misses (a stray space after the fence, CRLF) would silently go untested."""
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        fences = sum(line.strip().startswith("```python") for line in text.splitlines())
        assert len(BLOCK.findall(text)) == fences, doc.name
    assert {doc.name for doc, _, _ in EXAMPLES} >= {"README.md"}
