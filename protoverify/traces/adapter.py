"""Reader for wire captures of the `bspl` adapter (docs/formats.md §4).

The wire carries no sender, recipient, id or role: only the message schema name,
its payload and the system. The capture adds the sending agent and the
destination address. Roles therefore come from the spec via `schema`; without
it, sender is None and the Monitor can only check information flow, not roles.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from ._common import Item, Schema, lookup_roles, read_jsonl, show, split_message
from .event import BadRecord, Event, ReadStats


def _convert(obj: dict[str, Any], path: str, line: int, schema: Schema | None) -> list[Item]:
    def bad(reason: str) -> list[Item]:
        return [BadRecord(path, line, reason, show(repr(obj)))]

    missing = [k for k in ("t", "from_agent", "datagram") if obj.get(k) is None]
    if missing:
        return bad("missing required field" + ("s " if len(missing) > 1 else " ")
                   + ", ".join(repr(k) for k in missing))
    t, agent, datagram = obj["t"], obj["from_agent"], obj["datagram"]
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        return bad("field 't' must be a number")
    if not isinstance(agent, str) or not isinstance(datagram, str):
        return bad("fields 'from_agent' and 'datagram' must be strings")
    try:
        entries = orjson.loads(datagram)
    except orjson.JSONDecodeError as e:
        return bad(f"datagram is not valid JSON: {e}")
    if isinstance(entries, dict):  # tolerate a single message not wrapped in a list
        entries = [entries]
    if not isinstance(entries, list):
        return bad("datagram is not a JSON array of messages")
    if not entries:
        return bad("datagram holds no messages")
    out: list[Item] = []
    for i, m in enumerate(entries, 1):
        where = f"datagram entry {i}/{len(entries)}"
        if not isinstance(m, dict):
            out.append(BadRecord(path, line, f"{where} is not an object", show(repr(m))))
            continue
        name, payload = m.get("schema"), m.get("payload")
        meta_field = m.get("meta")
        meta = meta_field if isinstance(meta_field, dict) else {}
        if not isinstance(name, str) or not name:
            out.append(BadRecord(path, line, f"{where}: missing 'schema'", show(repr(m))))
            continue
        if not isinstance(payload, dict):
            out.append(BadRecord(path, line, f"{where}: missing or non-object 'payload'", show(repr(m))))
            continue
        protocol, message = split_message(name)
        roles = lookup_roles(schema, protocol, message)
        system = meta.get("system")
        out.append(Event(kind="send", message=message, protocol=protocol,
                         sender=roles[0] if roles else None,
                         recipients=roles[1] if roles else (),
                         bindings=payload, source=path, line=line, ts=float(t),
                         run=system if isinstance(system, str) else None, agent=agent))
    return out


def read_adapter(path: str, schema: Schema | None = None,
                 stats: ReadStats | None = None) -> Iterator[Event | BadRecord]:
    """Stream one send event per message in each captured datagram.

    `schema(name) -> (sender role, recipient roles) | None` supplies the roles;
    `run` is the adapter's system id and `agent` the capturing sender.
    """
    return read_jsonl(path, lambda obj, line: _convert(obj, path, line, schema), stats)
