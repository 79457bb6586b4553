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


SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
COMMAND = re.compile(r"^\.venv/bin/protoverify (?P<args>.*?)\s+# exit (?P<code>\d)\b")
COMMANDS = [(doc, m.group("args"), int(m.group("code")))
            for doc in DOCS for block in SH_BLOCK.findall(doc.read_text(encoding="utf-8"))
            for line in block.splitlines() for m in [COMMAND.match(line.strip())] if m]


@pytest.mark.parametrize("doc,args,code", COMMANDS, ids=[f"{d.name}:{a[:60]}" for d, a, _ in COMMANDS])
def test_shell_example_runs(doc, args, code, monkeypatch, tmp_path):
    """Each `.venv/bin/protoverify … # exit N` line of the docs runs from the repo root and exits N."""
    import io
    import shlex

    from protoverify.cli import main

    monkeypatch.chdir(REPO)
    argv = shlex.split(args)
    if "-o" in argv:  # write reports into tmp, not into the repository
        i = argv.index("-o") + 1
        argv[i] = str(tmp_path / argv[i])
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, stdout=out, stderr=err) == code, err.getvalue()


def test_readme_commands_are_collected():
    readme = [a for d, a, _ in COMMANDS if d.name == "README.md"]
    assert any(a.startswith("audit") and "examples/logs/" in a for a in readme)
    for _, args, _ in COMMANDS:
        for word in args.split():
            if word.startswith(("examples/", "specs/")):
                assert (REPO / word).exists(), word
