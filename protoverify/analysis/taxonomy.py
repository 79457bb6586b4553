"""The failure-mode taxonomy: every finding code answers one question a researcher asks
about agents at a protocol ("did it hallucinate a message?", "did it act out of turn?").

Finding codes say *which rule* broke (docs/auditing.md); modes group them by *what the
agent did wrong*. Each code maps to exactly one mode, by its code alone (tests iterate
`protoverify.findings.CODES`, so a new code without a mode fails). Plain Python: no
pandas here, so the table can be read without the analysis dependencies.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..findings import CODES


@dataclass(frozen=True, slots=True)
class Mode:
    """One failure mode: a stable id (the value in DataFrames), a title and what it covers."""

    id: str
    title: str
    description: str


MODES: tuple[Mode, ...] = (
    Mode("hallucinated-message", "hallucinated message",
         "A message the protocol does not have, or not in the shape it has: an unknown message "
         "or parameter, a parameter missing, a nil parameter carried."),
    Mode("invented-value", "invented or wrong value",
         "A value that contradicts what the agent knew or what the enactment bound, or that the "
         "agent filled where its option asked for none."),
    Mode("out-of-turn", "acting out of turn",
         "A message the sender could not send then: an input it did not know, an output already "
         "bound, an option not enabled."),
    Mode("wrong-role", "wrong role",
         "A message sent by or to the wrong role, or one agent playing two roles."),
    Mode("completion", "premature or missing completion",
         "An enactment left incomplete at the end of the log (stalled or deadlocked)."),
    Mode("invalid-reply", "invalid reply",
         "An LLM reply the agent could not use: not JSON, a choice out of range, parameters "
         "missing; and the retries that follow."),
    Mode("declined", "declined when options existed",
         "The LLM chose nothing although some option was offered."),
    Mode("loop", "repeated choice / loop",
         "The agent kept starting new enactments with the same message while the ones it had "
         "started waited for it (DEC009)."),
    Mode("policy", "policy rejection",
         "The exchange refused a message, or the checker's policy forbids a delivered one."),
    Mode("delivery", "lost or duplicated delivery",
         "A message sent again, never received, received without a send, dropped, or altered "
         "in transit."),
    Mode("log-defect", "log or infrastructure defect",
         "Not the agent's protocol behaviour: an unreadable record or input, a record missing a "
         "field the format requires, an ambiguous message name, an LLM call that got no reply, a "
         "message of an enactment the audit had already retired (not checked)."),
)

#: Mode id -> Mode, in the order above (the order of tables and plot legends).
MODE_BY_ID: dict[str, Mode] = {m.id: m for m in MODES}
MODE_IDS: tuple[str, ...] = tuple(MODE_BY_ID)

#: Finding code -> mode id. Exactly the codes of `protoverify.findings.CODES`.
MODE_OF: dict[str, str] = {
    "REC001": "log-defect", "REC002": "log-defect", "REC003": "hallucinated-message",
    "REC004": "hallucinated-message", "REC005": "hallucinated-message", "REC006": "hallucinated-message",
    "REC007": "log-defect", "REC008": "log-defect",
    "ROL001": "wrong-role", "ROL002": "wrong-role", "ROL003": "wrong-role",
    "CAU001": "out-of-turn", "CAU002": "invented-value",
    "INT001": "out-of-turn", "INT002": "out-of-turn", "INT003": "invented-value",
    "DUP001": "delivery", "DUP002": "delivery",
    "DEL001": "delivery", "DEL002": "delivery", "DEL003": "policy", "DEL004": "delivery",
    "DEL005": "delivery",
    "CMP001": "completion", "CMP002": "completion", "CMP003": "log-defect",
    "DEC001": "invalid-reply", "DEC002": "invalid-reply", "DEC003": "out-of-turn",
    "DEC004": "invented-value", "DEC005": "declined", "DEC006": "invalid-reply",
    "DEC007": "invalid-reply", "DEC008": "log-defect", "DEC009": "loop",
    "POL001": "policy",
}


class UnknownCode(KeyError):
    """A finding code that `protoverify.findings.CODES` does not define."""


def mode_of(code: str) -> str:
    """The mode id of a finding code; raises UnknownCode for a code CODES does not have."""
    if code not in CODES:
        raise UnknownCode(f"unknown finding code {code!r} (known: {', '.join(CODES)})")
    return MODE_OF[code]


def codes_of(mode: str) -> tuple[str, ...]:
    """The codes of one mode, in the order of CODES."""
    if mode not in MODE_BY_ID:
        raise KeyError(f"unknown failure mode {mode!r} (modes: {', '.join(MODE_IDS)})")
    return tuple(c for c in CODES if MODE_OF.get(c) == mode)


def table() -> list[dict[str, str]]:
    """The taxonomy as rows (mode, title, codes, description): for docs and reports."""
    return [{"mode": m.id, "title": m.title, "codes": ", ".join(codes_of(m.id)), "description": m.description}
            for m in MODES]
