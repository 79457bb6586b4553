"""Findings: what the auditor reports, with stable, documented codes (like a linter's).

Every code belongs to one family and has a default severity; a checker profile
may change severities but never the meaning of a code. The table `CODES` is the
single source of the documentation (docs/auditing.md, SARIF rules, `--help`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._ordered import OrderedStrEnum


class Severity(OrderedStrEnum):
    """How bad a finding is, ordered (info < warning < error): `--fail-on` compares
    against it. The values are the strings of the reports and of checker profiles."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


#: Worst first: the order of counts in summaries and of the `--fail-on` choices.
SEVERITIES: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))

FAMILIES: tuple[str, ...] = ("record", "role", "causality", "integrity", "duplication",
                             "delivery", "completion", "decision", "policy")


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    family: str
    severity: Severity
    title: str
    description: str


def _c(code: str, family: str, severity: str, title: str, description: str) -> Code:
    return Code(code, family, Severity(severity), title, description)


CODES: dict[str, Code] = {c.code: c for c in (
    # record: the log line itself
    _c("REC001", "record", "error", "unreadable record",
       "The line is not a record of the format (invalid JSON, truncated last line, not an object, "
       "line too long, malformed datagram)."),
    _c("REC002", "record", "error", "missing field",
       "A field the format requires (kind, message, sender, recipients, bindings, …) is absent."),
    _c("REC003", "record", "error", "unknown message",
       "The message is not in the protocol (a hallucinated message), or names another protocol."),
    _c("REC004", "record", "error", "unknown parameter",
       "The bindings name a parameter the message does not have (a hallucinated parameter)."),
    _c("REC005", "record", "error", "missing parameter",
       "The message must carry this parameter (in or out) but the bindings lack it; a missing "
       "key parameter means the enactment cannot be identified."),
    _c("REC006", "record", "warning", "nil parameter carried",
       "The bindings give a value to a parameter the message declares nil (it must not carry it)."),
    _c("REC007", "record", "error", "input not audited",
       "A whole input could not be audited: missing, unreadable, not a log this package reads "
       "(an unrecognised format, a binary file named by its format), or its reading broke off "
       "(a corrupt compressed stream). The other inputs are still audited; the exit code is 2."),
    _c("REC008", "record", "error", "ambiguous message",
       "Several protocols audited together have a message of this name and the record does not "
       "say which it is (qualify it: `Protocol/message`, or a `protocol` field)."),
    # role: who acted
    _c("ROL001", "role", "error", "wrong sender role",
       "The sender is not the role that the protocol says sends this message."),
    _c("ROL002", "role", "error", "wrong recipients",
       "The recipients differ from the message's recipients in the protocol."),
    _c("ROL003", "role", "error", "agent plays two roles",
       "One agent acted as two different roles in one enactment."),
    # causality: information flow
    _c("CAU001", "causality", "error", "in parameter not known",
       "The sender did not know an `in` parameter when it sent the message (it never sent or "
       "received it in this enactment): the message is out of order or its enactment never began."),
    _c("CAU002", "causality", "error", "in value differs from known value",
       "The sender knew an `in` parameter with another value than the one the message carries "
       "(a hallucinated value)."),
    # integrity: one value per parameter
    _c("INT001", "integrity", "error", "out parameter already bound",
       "The message binds an `out` parameter that is already bound in the enactment (by the sender "
       "itself or by another role: a safety violation)."),
    _c("INT002", "integrity", "error", "nil parameter known",
       "The sender knew a parameter that the message declares `nil`."),
    _c("INT003", "integrity", "error", "conflicting values",
       "Two messages of one enactment carry different values for one parameter."),
    # duplication
    _c("DUP001", "duplication", "warning", "identical resend",
       "The same message was sent again in the enactment with the same bindings."),
    _c("DUP002", "duplication", "error", "conflicting resend",
       "The same message was sent again in the enactment with different bindings."),
    # delivery (only logs that record receipts, or exchange rejects/drops)
    _c("DEL001", "delivery", "warning", "sent, never received",
       "The log records receipts, but this message was never received by a recipient."),
    _c("DEL002", "delivery", "error", "received, never sent (forged)",
       "A receipt with no matching earlier send."),
    _c("DEL003", "delivery", "warning", "rejected by the exchange",
       "The exchange rejected the message (policy rule given in the finding)."),
    _c("DEL004", "delivery", "warning", "dropped",
       "The message was dropped (fault given in the finding)."),
    _c("DEL005", "delivery", "error", "received bindings differ from sent",
       "The receipt carries other values than the send it answers (tampered in transit)."),
    # completion (end of log)
    _c("CMP001", "completion", "warning", "incomplete: stalled",
       "At the end of the log the enactment is incomplete and some role could still send a "
       "message (the expected messages are listed)."),
    _c("CMP002", "completion", "error", "incomplete: deadlock",
       "At the end of the log the enactment is incomplete and no role can send anything."),
    _c("CMP003", "completion", "warning", "enactment retired",
       "The message carries a key binding of a complete multi-key enactment that was retired after "
       "`--retire-after` events without activity, so its checks could not be made (audit again with "
       "a larger horizon)."),
    # decision (LLM logs)
    _c("DEC001", "decision", "error", "reply not JSON",
       "The LLM reply could not be parsed as JSON."),
    _c("DEC002", "decision", "error", "choice out of range",
       "The choice is not the number of an offered option."),
    _c("DEC003", "decision", "error", "option not enabled",
       "The chosen option's message was not enabled for the role at that point."),
    _c("DEC004", "decision", "error", "params outside option",
       "The reply's params name parameters that the chosen option does not fill."),
    _c("DEC005", "decision", "warning", "declined with options",
       "The LLM declined (no choice) although options were available."),
    _c("DEC006", "decision", "info", "retry",
       "The decision is a retry after a rejected reply."),
    _c("DEC007", "decision", "error", "params missing",
       "The reply's params lack parameters that the chosen option must fill (e.g. empty params "
       "for an option with parameters to fill). Key parameters are not required: a runtime "
       "generates those the model leaves out."),
    _c("DEC008", "decision", "warning", "call failed",
       "The LLM call got no reply: it timed out, or the endpoint could not be reached or kept "
       "failing (the decision record says `failed`, and the error)."),
    _c("DEC009", "decision", "warning", "repeated choice",
       "The agent chose the same message, starting a new enactment, in three decisions in a row, "
       "although each of them also offered an option that continues an enactment (an option with "
       "bound values) and it took none: a loop (one finding per run of repeats, at its third "
       "decision)."),
    # policy (exchange logs; emitted when a checker profile defines a policy)
    _c("POL001", "policy", "error", "forbidden by policy",
       "A delivered message that the checker's policy forbids."),
)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation (or note) at one place of a log."""

    code: str
    severity: Severity
    text: str
    source: str | None = None
    line: int | None = None
    run: str | None = None
    enactment: str | None = None
    message: str | None = None
    role: str | None = None
    agent: str | None = None
    expected: str | None = None

    def __post_init__(self) -> None:
        if type(self.severity) is not Severity:  # a plain string from a caller or a profile
            object.__setattr__(self, "severity", Severity(self.severity))

    @property
    def family(self) -> str:
        return CODES[self.code].family

    @property
    def title(self) -> str:
        return CODES[self.code].title

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "family": self.family, "severity": self.severity.value,
                "source": self.source, "line": self.line, "run": self.run, "enactment": self.enactment,
                "message": self.message, "role": self.role, "agent": self.agent, "text": self.text,
                "expected": self.expected}

    def location(self) -> str:
        if self.source is None:
            return "<end>"
        return f"{self.source}:{self.line}" if self.line else self.source


def finding(code: str, text: str, **kw: Any) -> Finding:
    """A Finding with the code's default severity."""
    return Finding(code, CODES[code].severity, text, **kw)
