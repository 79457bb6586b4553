"""`check`: read spec files, validate them, and (with protoverify.verify) prove them.

Returns plain data (FileReport) that the CLI renders as text or JSON; nothing here prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bspl import BSPLError, Diagnostic, Specification, parse, read_source, validate
from .prover.result import Report, Verdict

#: The version of the `check --format json` document; bumped when a key changes meaning.
JSON_VERSION = 1


@dataclass
class ProtocolReport:
    """Everything `check` says about one protocol; `to_dict` is the JSON shape."""

    name: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: The verification Report when `check` was asked to verify; an ill-formed
    #: protocol gets an empty Report whose verdicts are `skipped`.
    result: Report | None = None

    @property
    def wellformed(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "wellformed": self.wellformed,
                             "diagnostics": [d.to_dict() for d in self.diagnostics]}
        if self.result is not None:
            d.update(self.result.to_dict())
        return d


@dataclass
class FileReport:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)  # file-level (syntax, unreadable)
    protocols: list[ProtocolReport] = field(default_factory=list)
    spec: Specification | None = None
    readable: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "diagnostics": [d.to_dict() for d in self.diagnostics],
                "protocols": [p.to_dict() for p in self.protocols]}


def to_document(reports: list[FileReport]) -> dict[str, Any]:
    """The JSON document of `check --format json`: `{"version": 1, "files": [...]}`."""
    return {"version": JSON_VERSION, "files": [r.to_dict() for r in reports]}


def check_file(path: str | Path, verify: bool = False, timeout: float = 5.0,
               strict: bool = False, text: str | None = None) -> FileReport:
    """Parse and validate one file; syntax and read errors become file-level diagnostics.

    With `verify`, prove every well-formed protocol (protoverify.verify: safety, liveness,
    enactability, `timeout` seconds per solver query); ill-formed ones get a Report
    whose verdicts are "skipped". The Report goes to `ProtocolReport.result`.
    `strict` makes the dialect bspl accepts but a careful author may not mean an error
    (`validate(..., strict=True)`; docs/language.md, "Dialect decisions").
    `text`: the spec's text, read from elsewhere (standard input) and named `path`.
    """
    report = _check_file(path, strict, text)
    if verify and report.spec is not None:
        for p in report.protocols:
            verify_protocol(report.spec, p, timeout)
    return report


def verify_protocol(spec: Specification, p: ProtocolReport, timeout: float) -> None:
    """Set `p.result`: the verification Report, or a skipped one when p is ill-formed."""
    if not p.wellformed:
        p.result = Report(p.name)
        return
    from .bspl import flatten
    from .prover import verify

    try:
        flat = flatten(spec, p.name)
    except BSPLError as e:  # validate should have caught it; report rather than crash
        p.diagnostics.append(e.diagnostic)
        p.result = Report(p.name)
        return
    p.result = verify(flat, timeout=timeout)


def _check_file(path: str | Path, strict: bool = False, text: str | None = None) -> FileReport:
    report = FileReport(str(path))
    try:
        if text is None:
            text = read_source(path)
        spec = parse(text, str(path))
    except BSPLError as e:
        report.diagnostics.append(e.diagnostic)
        report.readable = False
        return report
    report.spec = spec
    diags = validate(spec, text, strict=strict)
    by_protocol: dict[str | None, list[Diagnostic]] = {}
    for d in diags:
        by_protocol.setdefault(d.protocol, []).append(d)
    report.diagnostics.extend(by_protocol.pop(None, []))
    for p in spec:
        report.protocols.append(ProtocolReport(p.name, by_protocol.get(p.name, [])))
    return report


EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_UNKNOWN = 0, 1, 2, 3


def exit_code(reports: list[FileReport]) -> int:
    """2 if any input was unreadable, else 1 if any protocol failed, else 3 if any was inconclusive."""
    if any(not r.readable for r in reports):
        return EXIT_INPUT
    protocols = [p for r in reports for p in r.protocols]
    if any(not p.wellformed for p in protocols):
        return EXIT_FAILED
    worst = max((p.result.verdict for p in protocols if p.result is not None), default=Verdict.SKIPPED)
    return EXIT_FAILED if worst.failed else EXIT_UNKNOWN if worst is Verdict.UNKNOWN else EXIT_OK
