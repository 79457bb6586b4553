"""`check`: read spec files, validate them, and (with protoverify.verify) prove them.

Returns plain data (FileReport) that the CLI renders as text or JSON; nothing here prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bspl import BSPLError, Diagnostic, Specification, parse, read_source, validate


@dataclass
class ProtocolReport:
    """Everything `check` says about one protocol; `to_dict` is the JSON shape."""

    name: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # verification results, when run

    @property
    def wellformed(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "wellformed": self.wellformed,
                "diagnostics": [d.to_dict() for d in self.diagnostics], **self.extra}


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


def check_file(path: str | Path) -> FileReport:
    """Parse and validate one file; syntax and read errors become file-level diagnostics."""
    report = FileReport(str(path))
    try:
        text = read_source(path)
        spec = parse(text, str(path))
    except BSPLError as e:
        report.diagnostics.append(e.diagnostic)
        report.readable = False
        return report
    report.spec = spec
    diags = validate(spec, text)
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
    failed = unknown = False
    for r in reports:
        for p in r.protocols:
            if not p.wellformed:
                failed = True
            for prop in ("safety", "liveness"):
                verdict = (p.extra.get(prop) or {}).get("verdict")
                if verdict in ("unsafe", "nonlive"):
                    failed = True
                elif verdict == "unknown":
                    unknown = True
    return EXIT_FAILED if failed else EXIT_UNKNOWN if unknown else EXIT_OK
