"""The parser accepts every protocol we ship, the bspl docs show, and the real corpus uses."""
from __future__ import annotations

import re

import pytest

from protoverify.bspl import BSPLSyntaxError, flatten, load, parse, read_source, validate
from tests.helpers.paths import CORPUS, REPO, SPECS, corpus_path

EXPECT = re.compile(r"^//\s*expect:\s*(?P<name>.+?)\s+wellformed=(?P<wf>true|false)", re.M)
DOCS = sorted((REPO / "tests/fixtures/bspl_docs").glob("*.bspl"))
SHIPPED = sorted(SPECS.glob("*.bspl")) + sorted((REPO / "tests/fixtures/bspl_quirks").glob("*.bspl"))
CORPUS_SPECS = sorted(CORPUS.glob("**/*.bspl")) if CORPUS.exists() else []


def test_there_is_something_to_accept():
    assert len(SHIPPED) >= 17 and len(DOCS) >= 1


def test_corpus_specs_are_found():
    corpus_path()  # skips locally, fails in CI, when the corpus (and so CORPUS_SPECS) is missing
    assert len(CORPUS_SPECS) >= 1


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_specs_match_their_recorded_wellformedness(path):
    text = read_source(path)
    spec = parse(text, str(path))
    expected = {m["name"]: m["wf"] == "true" for m in EXPECT.finditer(text)}
    assert set(expected) == set(spec.names), "every protocol needs an `// expect:` line"
    diags = validate(spec, text)
    for p in spec:
        errors = [d.format() for d in diags if d.protocol == p.name and d.severity == "error"]
        assert (not errors) == expected[p.name], errors
        if expected[p.name]:
            assert flatten(spec, p).messages


@pytest.mark.parametrize("path", DOCS + CORPUS_SPECS, ids=lambda p: p.name)
def test_reference_and_corpus_protocols_parse(path):
    if "expect-error: syntax" in read_source(path):  # a template of TODOs; bspl rejects it too
        with pytest.raises(BSPLSyntaxError):
            load(path)
        return
    spec = load(path)
    assert len(spec) >= 1
    for p in spec:
        assert p.roles and p.public


def test_unicode_arrows_comments_and_latex():
    text = r"""
    // a comment
    # another
    protocol Ship It {
      $\role$ A, B
      $\param$ out ID key, out x: int
      A $\mapsto$ B: go[out ID key]
      B → A: back[in ID key, out x]
      A ↦ B: done[in ID key, in x, nil y]
    }"""
    p = parse(text)["Ship It"]
    assert [m.name for m in p.messages] == ["go", "back", "done"]
    assert p.public[1].tags == ("int",)


def test_arrow_without_spaces_and_hyphenated_names():
    p = parse("P { roles A, B parameters out ID key A->B: accept-proposal[out ID key] }")["P"]
    assert p.messages[0].sender == "A" and p.messages[0].recipients == ("B",)
    assert p.messages[0].name == "accept-proposal"


def test_positions_are_kept():
    p = parse("P {\n  roles A, B\n  parameters out ID key\n  A -> B: m[out ID key]\n}")["P"]
    m = p.messages[0]
    assert (m.span.line, m.span.column) == (4, 11)
    assert (m.parameters[0].span.line, m.parameters[0].span.column) == (4, 17)
    assert (p.roles[1].span.line, p.roles[1].span.column) == (2, 12)
