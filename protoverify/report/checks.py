"""Render `check` results for CI: issues (diagnostics and disproved properties) with
`--select`/`--ignore`/per-file ignores, as SARIF 2.1.0 or JUnit XML, and the exit code.

Verification verdicts become issues with codes of their own (V001 unsafe, V002
nonlive, V003 inconclusive, V004 dead message) so that one filter and one
`--fail-on` govern everything `check` reports.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import TYPE_CHECKING, Any

import orjson

from .._version import __version__

if TYPE_CHECKING:
    from ..check import FileReport

#: The codes of verification results (the bspl diagnostics have theirs in protoverify.bspl).
VERIFY_CODES: dict[str, tuple[str, str, str]] = {
    "V001": ("error", "unsafe", "Two roles can bind the same parameter: the protocol is unsafe."),
    "V002": ("error", "nonlive", "Some enactment can get stuck before it completes: the protocol is nonlive."),
    "V003": ("warning", "inconclusive", "A solver query ran out of time; raise --timeout to decide it."),
    "V004": ("warning", "dead message", "A message can never be sent in any enactment."),
}
_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing `check` reports, located in its spec file."""

    code: str
    severity: str
    text: str
    source: str
    line: int = 0
    column: int = 0
    protocol: str | None = None


def _sentence(text: str) -> str:
    from . import sentence

    return sentence(text)


def _matches(code: str, patterns: Sequence[str]) -> bool:
    """A code matches a pattern equal to it or a prefix of it (`W1` is W100-W199, `V` every V code)."""
    return any(code.startswith(p.strip().upper()) for p in patterns if p.strip())


@dataclass
class Filter:
    """`--select`/`--ignore` codes (prefixes), and `GLOB:CODE,CODE` per-file ignores."""

    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    per_file: Sequence[str] = ()

    def keeps(self, issue: Issue) -> bool:
        if self.select and not _matches(issue.code, self.select):
            return False
        if _matches(issue.code, self.ignore):
            return False
        for spec in self.per_file:
            glob, _, codes = spec.rpartition(":")
            if glob and (fnmatch(issue.source, glob) or fnmatch(issue.source.rsplit("/", 1)[-1], glob)) \
                    and _matches(issue.code, codes.split(",")):
                return False
        return True


def issues(reports: Sequence[FileReport], keep: Filter | None = None) -> list[Issue]:
    """Every diagnostic and every disproved (or undecided) property, in file order."""
    out: list[Issue] = []
    for r in reports:
        spans = {p.name: p.span for p in r.spec} if r.spec is not None else {}
        for d in r.diagnostics:
            out.append(Issue(d.code, d.severity, _sentence(d.message), r.path, d.line, d.column, d.protocol))
        for p in r.protocols:
            for d in p.diagnostics:
                out.append(Issue(d.code, d.severity, _sentence(d.message), r.path, d.line, d.column, p.name))
            res = p.result
            if res is None or res.skipped:
                continue
            span = spans.get(p.name)
            at: dict[str, Any] = {"source": r.path, "line": span.line if span else 0,
                                  "column": span.column if span else 0, "protocol": p.name}
            s, lv = res.safety, res.liveness
            if s.verdict.value == "unsafe":
                who = f" by {' and '.join(s.roles)}" if s.roles else ""
                out.append(Issue("V001", "error", f"Protocol {p.name} is unsafe: parameter {s.parameter} "
                                 f"can be bound twice{who}.", **at))
            if lv.verdict.value == "nonlive":
                miss = f"; it never binds {', '.join(lv.missing)}" if lv.missing else ""
                out.append(Issue("V002", "error", f"Protocol {p.name} is nonlive: an enactment can get "
                                 f"stuck before it completes{miss}.", **at))
            for what, v in (("safety", s.verdict.value), ("liveness", lv.verdict.value)):
                if v == "unknown":
                    out.append(Issue("V003", "warning", f"The {what} of protocol {p.name} is undecided: a "
                                     "solver query ran out of time (raise --timeout).", **at))
            for m in res.dead:
                out.append(Issue("V004", "warning", f"Message {m} of protocol {p.name} can never be sent.", **at))
    return [i for i in out if keep is None or keep.keeps(i)]


def exit_code(reports: Sequence[FileReport], found: Sequence[Issue], fail_on: str) -> int:
    """2 when a file is unreadable; 1 when an issue is at or above `fail_on`; 3 when a
    verdict is undecided (and nothing failed); else 0."""
    if any(not r.readable for r in reports):
        return 2
    if fail_on != "never" and any(_RANK.get(i.severity, 2) >= _RANK[fail_on] for i in found):
        return 1
    if any(i.code == "V003" for i in found):
        return 3
    return 0


def _title(code: str) -> tuple[str, str]:
    if code in VERIFY_CODES:
        return VERIFY_CODES[code][1], VERIFY_CODES[code][2]
    from ..bspl.diagnostics import CODES

    entry = CODES.get(code)
    return (entry[1], _sentence(entry[2])) if entry else (code, code)


def _level(severity: str) -> str:
    return {"error": "error", "warning": "warning"}.get(severity, "note")


def to_sarif(reports: Sequence[FileReport], found: Sequence[Issue]) -> str:
    """SARIF 2.1.0: one rule per code seen, one result per issue, every message a sentence."""
    from . import _uri

    codes = sorted({i.code for i in found})
    index = {c: n for n, c in enumerate(codes)}
    rules = []
    for c in codes:
        title, help_text = _title(c)
        rules.append({"id": c, "name": title.title().replace(" ", "").replace("-", ""),
                      "shortDescription": {"text": _sentence(title)},
                      "help": {"text": f"{help_text} See docs/language.md and docs/ci.md."}})
    results = []
    for i in found:
        region = {"startLine": i.line, "startColumn": max(i.column, 1)} if i.line else None
        loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": _uri(i.source)}}}
        if region:
            loc["physicalLocation"]["region"] = region
        if i.protocol:
            loc["logicalLocations"] = [{"name": i.protocol, "kind": "module"}]
        results.append({"ruleId": i.code, "ruleIndex": index[i.code], "level": _level(i.severity),
                        "message": {"text": i.text}, "locations": [loc]})
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "protoverify", "version": __version__, "rules": rules}},
                     "artifacts": [{"location": {"uri": _uri(r.path)}} for r in reports],
                     "columnKind": "unicodeCodePoints", "results": results}]}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()


def to_junit(reports: Sequence[FileReport], found: Sequence[Issue], fail_on: str) -> str:
    """One testsuite per spec file, one testcase per protocol (failures: its issues at or
    above `fail_on`); a file-level problem is one more testcase."""
    from xml.sax.saxutils import quoteattr  # here: it loads urllib and http (~12 ms at start-up)

    limit = _RANK.get(fail_on, 3)
    suites: list[str] = []
    total = fails = 0
    for r in reports:
        cases: list[str] = []
        nfail = 0
        names: list[str | None] = [p.name for p in r.protocols]
        if not r.readable or any(i.protocol is None and i.source == r.path for i in found):
            names.insert(0, None)
        for name in names:
            mine = [i for i in found if i.source == r.path and i.protocol == name]
            bad = [i for i in mine if _RANK.get(i.severity, 2) >= limit]
            label = name or "file"
            body = "".join(f'      <failure type={quoteattr(i.code)} message={quoteattr(i.text)}>'
                           f"{_xml(f'{i.source}:{i.line}: {i.severity} {i.code}: {i.text}')}</failure>\n"
                           for i in bad)
            cases.append(f"    <testcase name={quoteattr(label)} classname={quoteattr(r.path)}"
                         + (f">\n{body}    </testcase>" if body else " />"))
            nfail += bool(bad)
        total += len(cases)
        fails += nfail
        suites.append(f"  <testsuite name={quoteattr(r.path)} tests=\"{len(cases)}\" failures=\"{nfail}\" "
                      f"errors=\"0\" skipped=\"0\">\n" + "\n".join(cases) + "\n  </testsuite>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="protoverify check" tests="{total}" failures="{fails}" errors="0">\n'
            + "\n".join(suites) + ("\n" if suites else "") + "</testsuites>\n")


def _xml(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text)
