"""Model -> canonical text -> model is the identity; the parser never fails unexpectedly."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protoverify.bspl import BSPLError, BSPLSyntaxError, canonical, parse, validate
from protoverify.bspl.model import Message, Parameter, Protocol, Reference, Role, Specification

KEYWORDS = {"protocol", "roles", "parameters", "private", "in", "out", "nil", "any", "opt", "key"}
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}(-[a-z0-9]{1,3})?", fullmatch=True).filter(
    lambda s: s not in KEYWORDS)
tags = st.lists(st.from_regex(r"[a-z]{1,5}", fullmatch=True).filter(lambda s: s not in KEYWORDS),
                max_size=2).map(tuple)


def parameters(adornments):
    return st.builds(Parameter, names, st.sampled_from(adornments), st.booleans(), tags)


@st.composite
def protocols(draw, name):
    roles = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    public = draw(st.lists(parameters(("in", "out", "nil", "any", "opt", None)), min_size=1,
                           max_size=4, unique_by=lambda p: p.name))
    private = draw(st.lists(parameters((None, "out")), max_size=2, unique_by=lambda p: p.name))
    body = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            body.append(Message(draw(names), draw(st.sampled_from(roles)),
                                tuple(draw(st.lists(st.sampled_from(roles), min_size=1, max_size=2))),
                                tuple(draw(st.lists(parameters(("in", "out", "nil", None)), max_size=4)))))
        else:
            args = tuple(draw(st.lists(parameters(("in", "out", None)), min_size=1, max_size=4)))
            split = draw(st.booleans())
            role_args = tuple(Parameter(r) for r in draw(st.lists(st.sampled_from(roles), min_size=1,
                                                                      max_size=2))) if split else None
            body.append(Reference(draw(st.lists(names, min_size=1, max_size=2).map(" ".join)),
                                  args, role_args))
    return Protocol(name, tuple(Role(r) for r in roles), tuple(public), tuple(private), tuple(body))


@st.composite
def specifications(draw):
    pnames = draw(st.lists(st.lists(names, min_size=1, max_size=3).map(" ".join), min_size=1,
                           max_size=3, unique=True))
    return Specification(tuple(draw(protocols(n)) for n in pnames))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(specifications())
def test_canonical_text_round_trips(spec):
    text = canonical(spec)
    again = parse(text)
    assert again == spec, text
    assert canonical(again) == text
    validate(again, text)  # never raises, whatever the references say


SEED = """
Purchase Unsafe {
  roles Buyer, Seller  // two roles
  parameters out ID key, out item: string, out price: int  # typed
  private resp
  Buyer -> Seller: rfq[out ID key, out item]
  Seller → Buyer: quote[in ID key, in item, out price]
  Buyer ↦ Seller, Seller: accept[in ID, in price, out resp]
  Sub(Buyer, Seller | in ID key, out price)
}
"""


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_text_parses_or_raises_located_error(data):
    text = SEED
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = data.draw(st.text(alphabet=st.sampled_from(list("{}[](),:|->→ \nabkeyoutin#/$\\")),
                                  min_size=1, max_size=3))
        if op == "insert":
            text = text[:i] + chunk + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + len(chunk):]
        else:
            text = text[:i] + chunk + text[i + len(chunk):]
    try:
        spec = parse(text, "m.bspl")
    except BSPLSyntaxError as e:
        lines = text.splitlines() or [""]
        assert 1 <= e.line <= max(len(lines), 1) + 1
        assert e.column >= 1
        return
    for d in validate(spec, text):  # a parsed spec validates without raising
        assert d.code and d.source == "m.bspl"


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_random_text_never_crashes(text):
    try:
        spec = parse(text, "r.bspl")
    except BSPLError as e:
        assert e.diagnostic.code == "E001"
    else:
        validate(spec, text)
