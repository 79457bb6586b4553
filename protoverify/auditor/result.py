"""What an audit returns (AuditResult) and the error it raises on bad input.

Kept apart from the driver so that `import protoverify` can name these types
without loading the Monitor and the readers.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..findings import SEVERITIES, Finding, Severity

if TYPE_CHECKING:
    from ..monitor.monitor import EnactmentStatus

#: `--fail-on`: the lowest severity that fails an audit, or never.
FailOn = Literal["error", "warning", "info", "never"]


class AuditInputError(Exception):
    """The audit cannot start or read an input (exit code 2 in the CLI)."""


@dataclass
class AuditResult:
    """Findings (iterate over it), summary counts and per-enactment status."""

    findings: list[Finding] = field(default_factory=list)
    events: int = 0
    records: int = 0
    complete: int = 0
    incomplete: int = 0
    statuses: list[EnactmentStatus] = field(default_factory=list)
    by_enactment: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)
    sources: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    protocols: list[str] = field(default_factory=list)
    delivery: str = "send"
    #: inputs that could not be audited (wholly or from some line on): each has a REC007 finding
    unread: list[str] = field(default_factory=list)
    #: "did you mean …": when almost every record fails, the likelier spec or format
    hints: list[str] = field(default_factory=list)

    def add(self, other: AuditResult) -> None:
        """Append another audit's findings, statuses, inputs and counts to this one (the
        per-enactment counter is the caller's: merging it depends on how inputs were split)."""
        self.findings.extend(other.findings)
        self.statuses.extend(other.statuses)
        self.events += other.events
        self.records += other.records
        self.complete += other.complete
        self.incomplete += other.incomplete
        self.sources.extend(other.sources)
        self.formats.update(other.formats)
        self.unread.extend(other.unread)
        self.protocols.extend(p for p in other.protocols if p not in self.protocols)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    @property
    def enactments(self) -> int:
        return self.complete + self.incomplete

    def counts(self) -> dict[str, int]:
        """Findings per severity, worst first (keys are the plain severity strings)."""
        c = Counter(f.severity for f in self.findings)
        return {s.value: c.get(s, 0) for s in SEVERITIES}

    def summary(self) -> dict[str, Any]:
        return {"events": self.events, "records": self.records, "enactments": self.enactments,
                "complete": self.complete, "incomplete": self.incomplete, "findings": self.counts()}

    def codes(self) -> Counter[str]:
        return Counter(f.code for f in self.findings)

    def failed(self, fail_on: Severity | FailOn = "error") -> bool:
        """True when some finding is at or above `fail_on` (never: always False)."""
        if fail_on == "never":
            return False
        limit = Severity(fail_on)
        return any(f.severity >= limit for f in self.findings)
