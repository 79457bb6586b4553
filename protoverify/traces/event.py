"""The normalized Event: what every log reader produces and the Monitor consumes.

One record type for all formats keeps the Monitor ignorant of where a log came
from; `source`/`line` let every finding point back at the exact input line.
`Event` is a frozen msgspec Struct (cheap to build, and the fast native reader
decodes JSON straight into a subclass of it: traces/native_fast.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import msgspec

EventKind = Literal["send", "receive", "reject", "drop", "decision"]
EVENT_KINDS: tuple[str, ...] = ("send", "receive", "reject", "drop", "decision")


class Event(msgspec.Struct, frozen=True):
    """One thing that happened in an enactment, normalized across formats.

    `message` is `Protocol/message` or a bare message name; `bindings` holds the
    parameter values exactly as carried. `decision` is set only for
    `kind == "decision"` (see docs/formats.md for its fields).
    """

    kind: EventKind
    message: str | None
    sender: str | None
    recipients: tuple[str, ...] = ()
    bindings: dict[str, Any] = msgspec.field(default_factory=dict)
    source: str = "<memory>"
    line: int = 0
    seq: int | None = None
    ts: float | None = None
    run: str | None = None
    agent: str | None = None
    id: str | None = None
    reason: str | None = None
    decision: dict[str, Any] | None = None
    protocol: str | None = None


@dataclass(frozen=True, slots=True)
class BadRecord:
    """An input line a reader could not turn into events: never dropped silently."""

    source: str
    line: int
    reason: str
    text: str = ""


@dataclass(slots=True)
class ReadStats:
    """What a reader did with each input line, so every line is accounted for."""

    lines: int = 0
    events: int = 0
    irrelevant: int = 0
    bad: int = 0
    # Each input line lands in exactly one of these three, so that
    # `lines == event_lines + irrelevant + bad_lines` proves none was dropped.
    event_lines: int = 0
    bad_lines: int = 0

    def unaccounted(self) -> int:
        """Lines neither turned into events, counted irrelevant, nor reported bad (should be 0)."""
        return self.lines - self.event_lines - self.irrelevant - self.bad_lines
