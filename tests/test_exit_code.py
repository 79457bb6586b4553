"""`check`'s exit code, read from Report objects, is the rule it always was:
2 unreadable input, else 1 if any protocol is ill-formed or unsafe or nonlive,
else 3 if any verdict is unknown, else 0."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protoverify.bspl import Diagnostic
from protoverify.check import FileReport, ProtocolReport, exit_code
from protoverify.prover.result import LivenessResult, Report, SafetyResult, Verdict

SAFETY = ["safe", "unsafe", "unknown", "skipped"]
LIVENESS = ["live", "nonlive", "unknown", "skipped"]

protocol = st.tuples(st.booleans(), st.sampled_from(SAFETY), st.sampled_from(LIVENESS), st.booleans())
files = st.lists(st.tuples(st.booleans(), st.lists(protocol, max_size=4)), max_size=4)


def _build(spec: list) -> list[FileReport]:
    reports = []
    for readable, protos in spec:
        fr = FileReport("f.bspl", readable=readable)
        for wellformed, s, lv, verified in protos:
            diags = [] if wellformed else [Diagnostic("E010", "bad", "f.bspl", 1, 1, "P")]
            result = Report("P", SafetyResult(s), LivenessResult(lv)) if verified else None
            fr.protocols.append(ProtocolReport("P", diags, result))
        reports.append(fr)
    return reports


def _expected(spec: list) -> int:
    if any(not readable for readable, _ in spec):
        return 2
    protos = [p for _, ps in spec for p in ps]
    verdicts = [v for wf, s, lv, verified in protos if verified for v in (s, lv)]
    if any(not wf for wf, *_ in protos) or {"unsafe", "nonlive"} & set(verdicts):
        return 1
    return 3 if "unknown" in verdicts else 0


@given(files)
def test_exit_code_matches_the_rule(spec: list) -> None:
    assert exit_code(_build(spec)) == _expected(spec)


def test_verdict_strings_are_coerced_and_serialized_as_strings() -> None:
    r = Report("P", SafetyResult("unsafe"), LivenessResult("unknown"))
    assert r.safety.verdict is Verdict.UNSAFE and r.verdict is Verdict.UNSAFE
    assert r.to_dict()["safety"]["verdict"] == "unsafe" and type(r.to_dict()["safety"]["verdict"]) is str
