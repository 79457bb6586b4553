"""Hints that do no harm: every edit a diagnostic's hint proposes, applied, keeps the verdict.

For each code whose hint proposes an edit (drop a parameter, delete a copy, remove a
role ...), `EDITS` applies that edit to the protocol the diagnostic is about, and
the real verifier (`protoverify.verify`) must give the same safety and liveness
verdicts before and after. W108 proposes a repair of a nonlive protocol: making the
parameter `in` must make it live without changing its safety. The edits run on every
shipped fixture that triggers them and on generated protocols.
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from protoverify.bspl import CODES, BSPLError, Diagnostic, Protocol, Specification, flatten, parse, validate
from protoverify.bspl.model import Message
from protoverify.prover import verify
from tests.bspl.test_diagnostics import CASES, STRICT_CASES
from tests.helpers.paths import CORPUS, REPO, SPECS
from tests.helpers.strategies import bspl_protocols

Edit = Callable[[Protocol, Diagnostic], Protocol]


def _quoted(d: Diagnostic) -> str:
    """The first quoted name of a message: the parameter, role or message it is about."""
    return re.search(r"'([^']*)'", d.message).group(1)


def _at(span, d: Diagnostic) -> bool:
    return span is not None and (span.line, span.column) == (d.line, d.column)


def _without_param(p: Protocol, name: str) -> Protocol:
    """p with parameter `name` gone from its declarations and its messages."""
    body = tuple(replace(b, parameters=tuple(x for x in b.parameters if x.name != name))
                 if isinstance(b, Message) else b for b in p.body)
    return replace(p, public=tuple(x for x in p.public if x.name != name),
                   private=tuple(x for x in p.private if x.name != name), body=body)


def _drop_declaration(p: Protocol, d: Diagnostic) -> Protocol:
    return replace(p, public=tuple(x for x in p.public if not _at(x.span, d)),
                   private=tuple(x for x in p.private if not _at(x.span, d)))


def _drop_message_param(p: Protocol, d: Diagnostic) -> Protocol:
    body = tuple(replace(b, parameters=tuple(x for x in b.parameters if not _at(x.span, d)))
                 if isinstance(b, Message) else b for b in p.body)
    return replace(p, body=body)


def _drop_message(p: Protocol, d: Diagnostic) -> Protocol:
    return replace(p, body=tuple(b for b in p.body if not (isinstance(b, Message) and _at(b.span, d))))


def _drop_role(p: Protocol, d: Diagnostic) -> Protocol:
    return replace(p, roles=tuple(r for r in p.roles if r.name != _quoted(d)))


def _make_in(p: Protocol, d: Diagnostic) -> Protocol:
    name = _quoted(d)
    return replace(p, public=tuple(replace(x, adornment="in") if x.name == name else x for x in p.public))


#: code -> the edit its hint proposes; each must keep the verdict
EDITS: dict[str, Edit] = {
    "W101": lambda p, d: _without_param(p, _quoted(d)),  # drop it from private and its binder
    "W103": lambda p, d: _without_param(p, _quoted(d)),  # remove the declaration (nothing uses it)
    "W104": _drop_message_param,  # delete the unadorned parameter
    "W105": _drop_role,  # remove the idle role
    "W106": _drop_message,  # delete the identical copy
    "W107": _drop_declaration,  # delete the private declaration of a public parameter
    "W109": _drop_declaration,  # delete the repeated declaration
}
#: code -> the repair its hint proposes for a nonlive protocol
REPAIRS: dict[str, Edit] = {"W108": _make_in}
#: warnings whose hint proposes no edit (it explains)
NO_EDIT = {"W102"}


def test_every_warning_is_classified():
    warnings = {c for c, (sev, _, _) in CODES.items() if sev == "warning"}
    assert warnings == set(EDITS) | set(REPAIRS) | NO_EDIT


def _verdicts(spec: Specification, p: Protocol) -> tuple[str, str]:
    r = verify(flatten(spec, p), properties=("safety", "liveness"), timeout=20)
    return r.safety.verdict, r.liveness.verdict


def _edited(spec: Specification, p: Protocol, edit: Edit, d: Diagnostic) -> tuple[Specification, Protocol]:
    q = edit(p, d)
    assert q != p, f"{d.code}: the edit changed nothing: {d.format()}"
    return Specification(tuple(q if x.name == p.name else x for x in spec.protocols), spec.source), q


def check_hints(spec: Specification, text: str = "") -> list[str]:
    """Apply every proposed edit of every hint in `spec`; the codes checked."""
    checked: list[str] = []
    for d in validate(spec, text):
        if d.code not in EDITS and d.code not in REPAIRS:
            continue
        p = spec.get(d.protocol)
        if any(x.severity == "error" and x.protocol == p.name for x in validate(spec, text)):
            continue  # not verified before the edit either
        before = _verdicts(spec, p)
        spec2, q = _edited(spec, p, EDITS.get(d.code) or REPAIRS[d.code], d)
        assert not [x for x in validate(spec2) if x.severity == "error" and x.protocol == q.name], \
            f"{d.code}: the edit made {p.name} ill-formed"
        after = _verdicts(spec2, q)
        if d.code in EDITS:
            assert after == before, f"{d.code} edit changes the verdict {before} -> {after}: {d.format()}"
        else:
            assert before[1] == "nonlive" and after == (before[0], "live"), (d.format(), before, after)
        checked.append(d.code)
    return checked


def _fixture_files() -> list[Path]:
    files = sorted(SPECS.glob("*.bspl")) + sorted((REPO / "tests" / "fixtures").glob("**/*.bspl"))
    if CORPUS.exists():
        files += sorted(CORPUS.glob("**/*.bspl"))
    return files


def _texts() -> list[tuple[str, str]]:
    """(id, text) of every fixture that parses, and of the diagnostics' minimal specs."""
    out = []
    for path in _fixture_files():
        text = path.read_text(encoding="utf-8")
        if "expect-error" not in text and "bspl-1.1.0-error: Parse" not in text:
            out.append((f"{path.parent.name}/{path.name}", text))
    for c in CASES:
        out.append((f"case-{c[0]}", textwrap.dedent(c[1]).strip("\n")))
    for c in STRICT_CASES:
        out.append((f"case-{c[0]}-{c[1]}", textwrap.dedent(c[2]).strip("\n")))
    return [(i, t) for i, t in out if _parses(t)]


def _parses(text: str) -> bool:
    """Syntax-error specs (the diagnostics' E000 cases) have nothing to hint at."""
    try:
        parse(text, "<fixture>")
    except BSPLError:
        return False
    return True


TEXTS = _texts()


@pytest.mark.parametrize("text", [t for _, t in TEXTS], ids=[i for i, _ in TEXTS])
def test_proposed_edits_keep_the_verdict_on_fixtures(text: str):
    check_hints(parse(text, "<fixture>"), text)


def test_every_edit_was_tried_on_some_fixture():
    checked: set[str] = set()
    for _, text in TEXTS:
        checked |= {d.code for d in validate(parse(text, "<fixture>"), text)}
    assert set(EDITS) | set(REPAIRS) <= checked


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(bspl_protocols())
def test_proposed_edits_keep_the_verdict_on_generated_protocols(text: str):
    check_hints(parse(text, "<generated>"), text)


def test_mutual_exclusion_parameter_gets_no_drop_hint_because_dropping_it_breaks_safety():
    text = (REPO / "tests" / "fixtures" / "dialect" / "mutual-exclusion.bspl").read_text(encoding="utf-8")
    spec = parse(text)
    resp = spec["Resp"]
    assert not [d for d in validate(spec, text) if d.protocol == "Resp"]
    dropped = _without_param(resp, "resp")
    assert _verdicts(spec, resp) == ("safe", "live")
    assert _verdicts(Specification((dropped,)), dropped) == ("unsafe", "live")


@pytest.mark.parametrize("text", [
    # a nil use tests the parameter: dropping it would enable `late` after `m`
    "P { roles A, B parameters out ID key, out x private s\n"
    " A -> B: m[out ID key, out s]\n B -> A: late[in ID key, nil s, out x]\n"
    " B -> A: other[in ID key, out x] }",
    # a private key identifies enactments
    "P { roles A, B parameters out ID key, out x private s key\n"
    " A -> B: m[out ID key, out s key, out x] }",
])
def test_no_drop_hint_where_the_parameter_does_work(text: str):
    assert "W101" not in {d.code for d in validate(parse(text), text)}
