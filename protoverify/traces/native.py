"""Reader for protoverify's own JSONL events (docs/formats.md §1).

The format is ours, so the reader is strict: a missing required field or a
field of the wrong type makes the line a BadRecord rather than a guess.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._common import Item, Schema, read_jsonl, show, split_message
from .event import EVENT_KINDS, BadRecord, Event, ReadStats

_STR = (str,)
_OPTIONAL: dict[str, tuple[type, ...]] = {
    "seq": (int,), "ts": (int, float), "run": _STR, "agent": _STR, "id": _STR,
    "reason": _STR, "decision": (dict,), "protocol": _STR,
}


def _type_error(obj: dict[str, Any], key: str, types: tuple[type, ...]) -> str | None:
    v = obj.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, types):
        return f"field '{key}' must be {'/'.join(t.__name__ for t in types)}, got {type(v).__name__}"
    return None


def convert(obj: dict[str, Any], source: str, line: int) -> list[Item]:
    """One native event object -> one Event, or a BadRecord naming what is wrong."""
    def bad(reason: str) -> list[Item]:
        return [BadRecord(source, line, reason, show(repr(obj)))]

    kind = obj.get("kind")
    if kind is None:
        return bad("missing required field 'kind'")
    if kind not in EVENT_KINDS:
        return bad(f"unknown kind {kind!r} (expected one of {', '.join(EVENT_KINDS)})")
    # A decision is about a choice, not a message: only its `decision` object is required.
    required = ("decision",) if kind == "decision" else ("message", "sender", "recipients", "bindings")
    missing = [k for k in required if obj.get(k) is None]
    if missing:
        return bad("missing required field" + ("s " if len(missing) > 1 else " ")
                   + ", ".join(repr(k) for k in missing))
    for key, types in (("message", _STR), ("sender", _STR), ("bindings", (dict,)), *_OPTIONAL.items()):
        err = _type_error(obj, key, types)
        if err:
            return bad(err)
    recipients = obj.get("recipients", [])
    if recipients is None:
        recipients = []
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        return bad("field 'recipients' must be a list of strings")
    message = obj.get("message")
    protocol = obj.get("protocol")
    if message is not None and protocol is None:
        protocol, message = split_message(message)
    ts = obj.get("ts")
    return [Event(kind=kind, message=message, sender=obj.get("sender"),
                  recipients=tuple(recipients), bindings=obj.get("bindings") or {},
                  source=source, line=line, seq=obj.get("seq"),
                  ts=float(ts) if ts is not None else None, run=obj.get("run"),
                  agent=obj.get("agent"), id=obj.get("id"), reason=obj.get("reason"),
                  decision=obj.get("decision"), protocol=protocol)]


def read_native(path: str, schema: Schema | None = None,
                stats: ReadStats | None = None) -> Iterator[Event | BadRecord]:
    """Stream native events from `path`. `schema` is accepted for a uniform
    signature and not used: native events name their roles themselves."""
    return read_jsonl(path, lambda obj, line: convert(obj, path, line), stats)
