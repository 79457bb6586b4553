"""The typed envelope: what an agent hands to its gateway (docs/formats.md §2).

An envelope built by `Envelope.from_wire` has passed the entry checks that need
no protocol (types and shape); the policy checks it against the protocol. Its
`record` is the `envelope` line of the log, read unchanged by
`protoverify.traces.envelope`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Party = tuple[str, str]  # (agent, role)
SCALARS = (str, int, float, bool)


class EnvelopeError(ValueError):
    """An envelope that cannot enter the exchange; `rule` names the failed check."""

    def __init__(self, rule: str, text: str) -> None:
        super().__init__(text)
        self.rule = rule


@dataclass(slots=True)
class Envelope:
    """One typed message in transit. `conversation` groups the enactments of one
    negotiation (FIPA conversation-id); `reply_by` is a bid deadline (FIPA reply-by)."""

    id: str
    protocol: str
    message: str
    sender: Party
    to: tuple[Party, ...]
    payload: dict[str, Any]
    ts: float = 0.0
    run: str = ""
    gateway: str = ""
    topic: str = ""
    in_reply_to: str | None = None
    reply_by: float | None = None
    conversation: str | None = None

    @classmethod
    def from_wire(cls, obj: Any) -> Envelope:
        """Validate a decoded JSON object on entry; raise EnvelopeError(rule='schema')."""
        if not isinstance(obj, Mapping):
            raise EnvelopeError("schema", "envelope is not an object")
        for f in ("id", "protocol", "message"):
            if not isinstance(obj.get(f), str) or not obj.get(f):
                raise EnvelopeError("schema", f"field {f!r} must be a non-empty string")
        frm = _party(obj.get("from"))
        to_raw = obj.get("to")
        if frm is None:
            raise EnvelopeError("schema", "field 'from' must be {agent, role}")
        if not isinstance(to_raw, list) or not to_raw:
            raise EnvelopeError("schema", "field 'to' must be a non-empty list of {agent, role}")
        parties = [_party(p) for p in to_raw]
        to = tuple(p for p in parties if p is not None)
        if len(to) != len(parties):
            raise EnvelopeError("schema", "field 'to' must be a non-empty list of {agent, role}")
        payload = obj.get("payload")
        if not isinstance(payload, Mapping):
            raise EnvelopeError("schema", "field 'payload' must be an object")
        for k, v in payload.items():
            if not isinstance(v, SCALARS):
                raise EnvelopeError("schema", f"payload value of {k!r} must be a string, number or boolean")
        rb = obj.get("reply_by")
        if rb is not None and (isinstance(rb, bool) or not isinstance(rb, (int, float))):
            raise EnvelopeError("schema", "field 'reply_by' must be a number")
        return cls(id=obj["id"], protocol=obj["protocol"], message=obj["message"], sender=frm,
                   to=to, payload=dict(payload), in_reply_to=obj.get("in_reply_to"),
                   reply_by=rb, conversation=obj.get("conversation"))

    def wire(self) -> dict[str, Any]:
        """The JSON object an agent would send (before the gateway stamps it)."""
        d = self.record()
        for k in _STAMPS:
            del d[k]
        return d

    def record(self, type_: str = "envelope", **extra: Any) -> dict[str, Any]:
        """The log line (docs/formats.md §2) of this envelope as `type_`: what the gateway
        stamps (`_STAMPS`), then the agent's fields in the order of the wire form."""
        s, to = self.sender, self.to
        d: dict[str, Any] = {
            "v": 1, "type": type_, "id": self.id, "ts": self.ts, "run": self.run, "gateway": self.gateway,
            "topic": self.topic, "protocol": self.protocol, "message": self.message,
            "from": {"agent": s[0], "role": s[1]},
            "to": [{"agent": to[0][0], "role": to[0][1]}] if len(to) == 1 else [{"agent": a, "role": r} for a, r in to],
            "payload": self.payload}
        if self.in_reply_to is not None:
            d["in_reply_to"] = self.in_reply_to
        if self.reply_by is not None:
            d["reply_by"] = self.reply_by
        if self.conversation is not None:
            d["conversation"] = self.conversation
        if extra:
            d.update(extra)
        return d


#: the fields of a log record that the gateway stamps (not in the wire form; `id` is in both)
_STAMPS = ("v", "type", "ts", "run", "gateway", "topic")


def _party(p: Any) -> Party | None:
    if not isinstance(p, Mapping):
        return None
    a, r = p.get("agent"), p.get("role")
    if not isinstance(a, str) or not a or not isinstance(r, str) or not r:
        return None
    return a, r
