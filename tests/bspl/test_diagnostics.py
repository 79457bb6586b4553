"""Each diagnostic code, on a minimal bad spec: code, line and column asserted.

Codes of the dialect decisions (docs/language.md) are asserted in both modes: the
warning (or silence) by default, the error with `strict=True`, at one location.
"""
from __future__ import annotations

import textwrap

import pytest

from protoverify.bspl import CODES, BSPLSyntaxError, parse, validate


def diagnose(text: str, strict: bool = False):
    text = textwrap.dedent(text).strip("\n")
    return validate(parse(text, "t.bspl"), text, strict=strict)


def only(diags, code):
    found = [d for d in diags if d.code == code]
    assert found, f"expected {code}, got {[(d.code, d.message) for d in diags]}"
    return found


GOOD = """
P {
  roles A, B
  parameters out ID key, out x
  A -> B: m[out ID key, out x]
}
"""

CASES = [
    # (code, spec, line, column)
    ("E002", """
P {
  roles A, B
  parameters out ID key
  A -> B: m[out ID key]
}
P {
  roles A, B
  parameters out ID key
  A -> B: m[out ID key]
}""", 6, 1),
    ("E003", """
P {
  roles A, B, A
  parameters out ID key
  A -> B: m[out ID key]
}""", 2, 15),
    ("E010", """
P {
  roles A, B
  parameters out ID key
  A -> C: m[out ID key]
}""", 4, 8),
    ("E011", """
P {
  roles A, B
  parameters out ID key
  A -> B: m[out ID key, out y]
}""", 4, 29),
    ("E012", """
P {
  roles A, B
  parameters out ID, out x
  A -> B: m[out ID, out x]
}""", 1, 1),
    ("E013", """
P {
  roles A, B
  parameters out ID key, out x
  A -> B: m[out ID key]
  B -> A: n[out x]
}""", 5, 11),
    ("E015", """
P {
  roles A, B
  parameters in ID key, out x
  A -> B: m[out ID key, out x]
}""", 4, 11),
    ("E016", """
P {
  roles A, B
  parameters out ID key
  Q(A, B, out ID)
}""", 4, 3),
    ("E017", """
Q {
  roles X, Y
  parameters out ID key
  X -> Y: q[out ID key]
}
P {
  roles A, B
  parameters out ID key
  Q(A, C, out ID)
}""", 9, 8),
    ("E018", """
P {
  roles A, B
  parameters out ID key
  P(A, B, out ID)
}""", 4, 3),
    ("E020", """
Q {
  roles X, Y
  parameters out ID key
  X -> Y: q[out ID key]
}
P {
  roles A, B
  parameters out ID key
  Q(A, B, out ID, out ID)
}""", 9, 3),
    ("E021", """
P {
  roles A, B
  parameters out ID key, opt x
  A -> B: m[out ID key, opt x]
}""", 4, 29),
    ("W101", """
P {
  roles A, B
  parameters out ID key
  private secret
  A -> B: m[out ID key, out secret]
}""", 4, 11),
    ("W102", """
P {
  roles A, B
  parameters out ID key, out x
  private y
  A -> B: m[out ID key, in y, out x]
}""", 4, 11),
    ("W103", """
P {
  roles A, B
  parameters out ID key
  private spare
  A -> B: m[out ID key]
}""", 4, 11),
    ("W104", """
P {
  roles A, B
  parameters out ID key, out x
  A -> B: m[out ID key, out x, x]
}""", 4, 32),
    ("W105", """
P {
  roles A, B, Idle
  parameters out ID key
  A -> B: m[out ID key]
}""", 2, 15),
]


# (strict code, default code or None for silence, spec, line, column)
STRICT_CASES = [
    ("E003", "W109", """
P {
  roles A, B
  parameters out ID key, out x, out x
  A -> B: m[out ID key, out x]
}""", 3, 37),
    ("E004", "W107", """
P {
  roles A, B
  parameters out ID key, out x
  private x
  A -> B: m[out ID key, out x]
}""", 4, 11),
    ("E014", "W108", """
P {
  roles A, B
  parameters out ID key, out x
  A -> B: m[out ID key]
}""", 3, 30),
    ("E019", None, """
P {
  roles A, B
  parameters out ID key, out x
  A -> B: m[out ID key]
  B -> A: m[in ID key, out x]
}""", 5, 11),
    ("E019", "W106", """
P {
  roles A, B
  parameters out ID key
  A -> B: m[out ID key]
  A -> B: m[out ID key]
}""", 5, 11),
    ("E022", None, """
P {
  roles A, B
  parameters out ID key, out x
  A -> B: m[out ID key]
  B -> B: n[in ID key, out x]
}""", 5, 8),
]


def test_good_spec_has_no_diagnostics():
    assert diagnose(GOOD) == []


@pytest.mark.parametrize("code,spec,line,column", CASES, ids=[c[0] for c in CASES])
def test_each_code_located(code, spec, line, column):
    hits = only(diagnose(spec), code)
    assert (hits[0].line, hits[0].column) == (line, column), hits[0].format()
    d = hits[0]
    assert d.source == "t.bspl"
    assert d.severity == CODES[code][0]
    assert d.hint and d.excerpt.splitlines()[-1].strip().endswith("^")


@pytest.mark.parametrize("strict_code,code,spec,line,column", STRICT_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in STRICT_CASES])
def test_dialect_codes_in_both_modes(strict_code, code, spec, line, column):
    hits = only(diagnose(spec, strict=True), strict_code)
    assert (hits[0].line, hits[0].column) == (line, column), hits[0].format()
    assert hits[0].severity == "error"
    default = diagnose(spec)
    assert not [d for d in default if d.severity == "error"], [d.format() for d in default]
    if code is None:  # accepted silently
        assert not [d for d in default if (d.line, d.column) == (line, column)], default
    else:
        hit = only(default, code)[0]
        assert (hit.line, hit.column) == (line, column) and hit.severity == "warning"


def test_public_and_private_points_at_both_declarations():
    d = only(diagnose(STRICT_CASES[1][2]), "W107")[0]
    assert "3:30" in d.message and "4:11" in d.message


def test_conflicting_repeated_declaration_stays_an_error():
    spec = "P {\n  roles A, B\n  parameters out ID key, out x, in x\n  A -> B: m[out ID key, out x]\n}"
    d = only(diagnose(spec), "E003")[0]
    assert (d.line, d.column) == (3, 36) and "out at 3:30" in d.message


def test_every_code_has_a_case_here():
    covered = {c[0] for c in CASES} | {c[0] for c in STRICT_CASES} | {c[1] for c in STRICT_CASES}
    assert covered - {None} | {"E000", "E001"} == set(CODES)


@pytest.mark.parametrize("text,line,column,expected", [
    ("P { roles A B parameters out ID key }", 1, 13, "'parameters'"),
    ("P {\n  roles A, B\n  parameters out ID key\n  A -> : m[out ID key]\n}", 4, 8, "a name"),
    ("P { roles A", 1, 12, "'parameters'"),
    ("P { roles A, B parameters out ID key A -> B: m[out ID key, out x}", 1, 65, "']'"),
    ("P { roles A, B parameters out ID key A -> B: m[out ID key] ", 1, 60, "'}'"),
    ("P { roles A, B parameters out ID key A ~> B: m[out ID key] }", 1, 40, "'->'"),
])
def test_syntax_error_located_with_expectation(text, line, column, expected):
    with pytest.raises(BSPLSyntaxError) as info:
        parse(text, "s.bspl")
    err = info.value
    assert (err.line, err.column) == (line, column), str(err)
    assert err.diagnostic.code == "E001"
    assert any(expected in w for w in err.expected) or expected in str(err), str(err)
    # lark-style excerpt: the offending line and a caret under the column
    src, caret = err.diagnostic.excerpt.splitlines()
    assert caret.index("^") == src.index("|") + 1 + column


def test_recursion_is_a_diagnostic_not_recursionerror():
    text = "A { roles X, Y parameters out ID key B(X, Y, out ID) }\n" \
           "B { roles X, Y parameters out ID key A(X, Y, out ID) }"
    codes = [d.code for d in validate(parse(text), text)]
    assert codes.count("E018") == 2
