"""Render audit results: text, JSON, JUnit XML, SARIF 2.1.0 (all pure: they return strings)."""
from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

import orjson

from .._version import __version__
from ..findings import CODES, Finding

FORMATS = ("text", "json", "junit", "sarif")


def render(result: Any, fmt: str) -> str:
    return {"text": to_text, "json": to_json, "junit": to_junit, "sarif": to_sarif}[fmt](result)


# ------------------------------------------------------------------ text
def _group_key(f: Finding) -> tuple[str, str]:
    return (f.run or "", f.enactment or "")


def to_text(result: Any) -> str:
    """Findings grouped by enactment (run / keys), each with its log line, then a summary."""
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in result.findings:
        groups[_group_key(f)].append(f)
    lines: list[str] = []
    for (run, enact), fs in sorted(groups.items(), key=lambda kv: (kv[0][1] != "", kv[0])):
        if enact:
            lines.append(f"enactment {enact}" + (f" (run {run})" if run else ""))
        else:
            lines.append("records" if not run else f"run {run}")
        for f in sorted(fs, key=lambda f: (f.source or "\uffff", f.line or 0, -f.severity.rank)):
            who = "/".join(x for x in (f.role, f.agent) if x)
            lines.append(f"  {f.location()}: {f.severity} {f.code} [{f.family}] {f.text}"
                         + (f"  ({who})" if who else ""))
            if f.expected:
                lines.append(f"      expected: {f.expected}")
    s = result.summary()
    lines.append(f"{plural(s['events'], 'event')} ({plural(s['records'], 'record')}) in "
                 f"{plural(s['enactments'], 'enactment')}: "
                 f"{s['complete']} complete, {s['incomplete']} incomplete; {counts_text(s['findings'])}")
    lines.extend(f"hint: {h}" for h in getattr(result, "hints", ()))
    return "\n".join(lines)


def plural(n: int, word: str) -> str:
    """`1 error`, `2 errors`."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def counts_text(c: dict[str, int]) -> str:
    """`1 error, 2 warnings, 0 notes` from `AuditResult.counts()`."""
    return f"{plural(c['error'], 'error')}, {plural(c['warning'], 'warning')}, {plural(c['info'], 'note')}"


def sentence(text: str) -> str:
    """A full sentence: capitalised, ending with a full stop."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


# ------------------------------------------------------------------ json
def to_dict(result: Any) -> dict[str, Any]:
    return {"summary": result.summary(), "hints": list(getattr(result, "hints", ())),
            "protocols": list(result.protocols), "delivery": result.delivery,
            "sources": [{"path": p, "format": result.formats.get(p)} for p in result.sources],
            "findings": [f.to_dict() for f in result.findings],
            "enactments": [{"run": s.run, "enactment": s.enactment, "status": s.status,
                            "source": s.source, "first_line": s.first_line, "last_line": s.last_line,
                            "events": s.events, "missing": list(s.missing),
                            "findings": result.by_enactment.get((s.run, s.enactment), 0)}
                           for s in result.statuses]}


def to_json(result: Any) -> str:
    return orjson.dumps(to_dict(result), option=orjson.OPT_INDENT_2).decode()


# ------------------------------------------------------------------ junit
def to_junit(result: Any) -> str:
    """One testsuite per protocol run set, one testcase per enactment (failures: its findings);
    findings outside any enactment (unreadable records, unknown messages) form one more testcase."""
    from xml.sax.saxutils import escape, quoteattr  # here: it loads urllib and http (~12 ms at start-up)

    by: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in result.findings:
        by[_group_key(f)].append(f)
    cases: list[str] = []
    seen: set[tuple[str, str]] = set()
    failures = 0

    def case(name: str, classname: str, fs: list[Finding], status: str | None) -> None:
        nonlocal failures
        bad = [f for f in fs if f.severity == "error"]  # warnings/notes go to system-out
        body = ""
        if bad or fs:
            worst = bad or fs
            if bad:
                failures += 1
                msg = "; ".join(f"{f.code} {f.text}" for f in worst[:3])
                detail = "\n".join(f"{f.location()}: {f.severity} {f.code} {f.text}"
                                   + (f" (expected: {f.expected})" if f.expected else "") for f in fs)
                body = (f"<failure message={quoteattr(msg)} type={quoteattr(worst[0].code)}>"
                        f"{escape(detail)}</failure>")
            else:
                detail = "\n".join(f"{f.location()}: {f.severity} {f.code} {f.text}" for f in fs)
                body = f"<system-out>{escape(detail)}</system-out>"
        if status not in (None, "complete"):
            body = f"<properties><property name=\"status\" value={quoteattr(status)}/></properties>" + body
        cases.append(f'    <testcase name={quoteattr(name)} classname={quoteattr(classname)}>{body}</testcase>')

    for st in result.statuses:
        key = (st.run or "", st.enactment)
        seen.add(key)
        case(st.enactment, f"{'.'.join(result.protocols) or 'audit'}.{st.run or 'run'}", by.get(key, []),
             st.status)
    for key, fs in by.items():
        if key not in seen:
            case(key[1] or "records", f"{'.'.join(result.protocols) or 'audit'}.{key[0] or 'log'}", fs, None)
    n = len(cases)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    suite = (f'<testsuites name="protoverify audit" tests="{n}" failures="{failures}" errors="0">\n'
             f'  <testsuite name={quoteattr("audit " + ", ".join(result.protocols))} tests="{n}" '
             f'failures="{failures}" errors="0" skipped="0">\n')
    return head + suite + "\n".join(cases) + ("\n" if cases else "") + "  </testsuite>\n</testsuites>\n"


# ------------------------------------------------------------------ sarif
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str | None) -> str:
    if not path:
        return "unknown"
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        rel = path
    if rel.startswith(".."):
        rel = os.path.abspath(path)
        return "file://" + rel.replace(os.sep, "/") if rel.startswith("/") else rel.replace(os.sep, "/")
    return rel.replace(os.sep, "/")


def to_sarif_dict(result: Any) -> dict[str, Any]:
    codes = list(CODES.values())
    index = {c.code: i for i, c in enumerate(codes)}
    rules = [{"id": c.code, "name": c.title.title().replace(" ", "").replace(",", "").replace(":", ""),
              "shortDescription": {"text": c.title},
              "fullDescription": {"text": c.description},
              "help": {"text": f"{c.description} See docs/auditing.md, code {c.code}."},
              "defaultConfiguration": {"level": _LEVEL[c.severity]},
              "properties": {"family": c.family, "tags": [c.family]}} for c in codes]
    results = []
    for f in result.findings:
        r: dict[str, Any] = {"ruleId": f.code, "ruleIndex": index[f.code], "level": _LEVEL[f.severity],
                             "message": {"text": sentence(f.text) + (f" Expected: {sentence(f.expected)}"
                                                                     if f.expected else "")}}
        loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": _uri(f.source)}}}
        if f.line:
            loc["physicalLocation"]["region"] = {"startLine": int(f.line)}
        if f.enactment or f.message:
            loc["logicalLocations"] = [{"name": f.enactment or f.message,
                                        "fullyQualifiedName": "/".join(x for x in (f.run, f.enactment, f.message) if x),
                                        "kind": "object"}]
        r["locations"] = [loc]
        r["properties"] = {k: v for k, v in (("family", f.family), ("run", f.run), ("enactment", f.enactment),
                                             ("message", f.message), ("role", f.role), ("agent", f.agent),
                                             ("expected", f.expected)) if v is not None}
        results.append(r)
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "protoverify", "version": __version__,
                                          "rules": rules}},
                      "artifacts": [{"location": {"uri": _uri(p)}} for p in result.sources],
                      "columnKind": "unicodeCodePoints",
                      "results": results,
                      "properties": {"summary": result.summary(), "protocols": list(result.protocols)}}]}


def to_sarif(result: Any) -> str:
    return orjson.dumps(to_sarif_dict(result), option=orjson.OPT_INDENT_2).decode()
