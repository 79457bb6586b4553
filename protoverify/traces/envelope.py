"""Reader for exchange envelopes (docs/formats.md §2).

`envelope` is the send; `deliver` the receive (one event per addressee);
`reject`/`drop` keep the exchange's reason. `capability` and `llm_call` say
nothing about the protocol's information flow and are counted irrelevant.
A `decision` line (an LLM agent's call, written by `protoverify.agents.llm`) is one
`decision` event, checked like an Ahoy decision (DEC001-DEC009).
A `deliver`/`reject`/`drop` may carry only the envelope `id`: the message is then
taken from the most recent envelopes with that id (a bounded cache, so memory
does not grow with the log); an id not in the cache is a BadRecord.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from ._common import Item, Schema, read_jsonl, show, split_message
from .event import BadRecord, Event, EventKind, ReadStats

IRRELEVANT_TYPES = ("capability", "llm_call")
MESSAGE_TYPES = ("envelope", "deliver", "reject", "drop")
CACHE_SIZE = 65536


def _party(p: Any) -> tuple[str | None, str | None] | None:
    """`{"agent":…, "role":…}` -> (agent, role); None when not that shape."""
    if not isinstance(p, dict):
        return None
    agent, role = p.get("agent"), p.get("role")
    if (agent is not None and not isinstance(agent, str)) or (role is not None and not isinstance(role, str)):
        return None
    return agent, role


class _Reader:
    def __init__(self, path: str, schema: Schema | None) -> None:
        self.path = path
        self.schema = schema
        self.sent: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def bad(self, line: int, reason: str, obj: Any) -> list[Item]:
        return [BadRecord(self.path, line, reason, show(repr(obj)))]

    def convert(self, obj: dict[str, Any], line: int) -> list[Item]:
        typ = obj.get("type")
        if typ is None:
            return self.bad(line, "missing required field 'type'", obj)
        if typ in IRRELEVANT_TYPES:
            return []
        if typ == "decision":
            return self.decision(obj, line)
        if typ not in MESSAGE_TYPES:
            return self.bad(line, f"unknown envelope type {typ!r}", obj)
        v = obj.get("v", 1)
        if v != 1:
            return self.bad(line, f"unsupported envelope version {v!r} (this reader knows v 1)", obj)
        eid = obj.get("id")
        if not isinstance(eid, str) or not eid:
            return self.bad(line, "missing required field 'id'", obj)
        ts = obj.get("ts")
        if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float))):
            return self.bad(line, "field 'ts' must be a number", obj)

        rec = obj
        if typ != "envelope" and "message" not in obj:
            cached = self.sent.get(eid)
            if cached is None:
                return self.bad(line, f"{typ} of envelope id {eid!r} that was not seen (recently)", obj)
            rec = {**cached, **{k: v for k, v in obj.items() if v is not None}}
        missing = [k for k in ("message", "from", "payload") if rec.get(k) is None]
        if missing:
            return self.bad(line, "missing required field" + ("s " if len(missing) > 1 else " ")
                            + ", ".join(repr(k) for k in missing), obj)
        if not isinstance(rec["message"], str):
            return self.bad(line, "field 'message' must be a string", obj)
        if not isinstance(rec["payload"], dict):
            return self.bad(line, "field 'payload' must be an object", obj)
        frm = _party(rec["from"])
        to_raw = rec.get("to") or []
        parties = [_party(p) for p in to_raw] if isinstance(to_raw, list) else [None]
        to = [p for p in parties if p is not None]
        if frm is None or len(to) != len(parties):
            return self.bad(line, "'from'/'to' must be {agent, role} objects", obj)
        protocol, message = split_message(rec["message"], rec.get("protocol"))
        if typ == "envelope":
            self.sent[eid] = {k: rec.get(k) for k in ("message", "protocol", "from", "to", "payload", "run")}
            if len(self.sent) > CACHE_SIZE:
                self.sent.popitem(last=False)
        common: dict[str, Any] = dict(message=message, protocol=protocol, sender=frm[1], bindings=rec["payload"],
                      source=self.path, line=line, ts=float(ts) if ts is not None else None,
                      run=rec.get("run"), id=eid)
        recipients = tuple(r for _, r in to if r is not None)
        if typ == "envelope":
            return [Event(kind="send", recipients=recipients, agent=frm[0], **common)]
        if typ == "deliver":
            # One receive per addressee: what each of them knows grows separately.
            receives: list[Item] = [Event(kind="receive", recipients=(role,) if role else (), agent=agent, **common)
                                    for agent, role in to]
            return receives or self.bad(line, "deliver with no 'to'", obj)
        policy = obj.get("policy")
        rule = policy.get("rule") if isinstance(policy, dict) else None
        reason = obj.get("reason") or rule or obj.get("fault") or typ
        kind: EventKind = "reject" if typ == "reject" else "drop"
        return [Event(kind=kind, recipients=recipients, agent=frm[0], reason=str(reason), **common)]


    def decision(self, obj: dict[str, Any], line: int) -> list[Item]:
        """An LLM agent's decision: `decision` object as in docs/formats.md §3, plus `agent`, `role`."""
        d = obj.get("decision")
        if not isinstance(d, dict):
            return self.bad(line, "decision line without a 'decision' object", obj)
        ts = obj.get("ts")
        msg = d.get("message")
        protocol, message = split_message(msg, obj.get("protocol")) if isinstance(msg, str) else (None, None)
        return [Event(kind="decision", message=message, protocol=protocol or obj.get("protocol"),
                      sender=d.get("role"), source=self.path, line=line,
                      ts=float(ts) if isinstance(ts, (int, float)) and not isinstance(ts, bool) else None,
                      run=obj.get("run"), agent=d.get("agent"), id=obj.get("id"), decision=d)]


def read_envelope(path: str, schema: Schema | None = None,
                  stats: ReadStats | None = None) -> Iterator[Event | BadRecord]:
    """Stream events from an exchange envelope log. Roles come from `from`/`to`;
    `schema` is accepted for a uniform signature and not used."""
    return read_jsonl(path, _Reader(path, schema).convert, stats)
