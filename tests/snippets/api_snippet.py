"""What a user writes against the documented API; tests/test_api_typing.py runs
`mypy --strict` on it (and it runs, from the repository root)."""
from __future__ import annotations

import protoverify
from protoverify import AuditResult, Diagnostic, Event, Finding, Report, Severity, Verdict


def main() -> int:
    spec: protoverify.Specification = protoverify.load("specs/purchase.bspl")
    problems: list[Diagnostic] = protoverify.validate(spec)
    for d in problems:
        print(d.format())
    flat: protoverify.FlatProtocol = protoverify.flatten(spec, "Purchase")
    report: Report = protoverify.verify(flat, ("safety", "liveness"), timeout=5.0, minimize=True)
    verdict: Verdict = report.safety.verdict
    print(report.summary(), verdict.failed, report.verdict >= Verdict.UNKNOWN)
    by_name: Report = protoverify.verify("Purchase", spec=spec)
    events: list[Event] = protoverify.simulate(flat, n=20, seed=1)  # conformant enactments
    result: AuditResult = protoverify.audit(flat, [events], delivery="send")
    damaged = protoverify.audit(spec, ["traces/native_good.jsonl"], protocol="Purchase", format="native")
    for f in damaged:
        finding: Finding = f
        worst: Severity = max(finding.severity, Severity.INFO)
        print(finding.location(), finding.code, worst.value, finding.text)
    counts: dict[str, int] = damaged.counts()
    missing = protoverify.audit("specs/purchase.bspl", "no-such.jsonl")
    unread: list[str] = missing.unread
    print(unread, [f.text for f in missing if f.code == "REC007"])
    try:
        protoverify.audit("no-such.bspl", "no-such.jsonl")
    except protoverify.AuditInputError as e:
        print(e)
    try:
        protoverify.load("P { roles")
    except protoverify.BSPLError as e:
        print(e.diagnostic.format())
    return 1 if result.failed("warning") or by_name.verdict.failed or not counts["error"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
