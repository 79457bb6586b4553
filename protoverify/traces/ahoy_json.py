"""Reader for the two Ahoy JSON extractions that carry protocol content.

- demo4 `*_analysis.json`: `protocol_messages[].raw_line` quotes the agent's
  `Sending message:` lines (the debug log itself was not kept) -> `send`s.
  Its `llm_decisions` only point at "Consulting LLM" lines: no content.
- `demo3_extracted*.json`: `decision_events[]`, each with the cumulative
  `message_history` (type, sender, receiver, parameters, protocol), the options
  offered, the LLM's reasoning and choice -> `decision`s, plus `send`/`receive`
  for history entries of the agent's roles, de-duplicated like the text reader.

Unlike the line formats these are single JSON documents: read whole (capped at
MAX_DOC bytes), and the whole document counts as one record for line
accounting. Each event's `line` is the document line of the entry it came from.
Other Ahoy JSON (metrics, run summaries, injected-event lists) holds no
messages or decisions; detection rejects it with a message saying so.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson

from ._common import Item, Schema, account, lookup_roles, show
from ._open import open_log
from ._pyrepr import ReprError
from .ahoy import _ts, check_choice, display_value, extract_reply, parse_send
from .event import BadRecord, Event, EventKind, ReadStats

MAX_DOC = 64 * 1024 * 1024
_ERR_LINE = re.compile(r"line (\d+)")


def kind_of(doc: Any) -> str | None:
    """'analysis' | 'extracted' | None for a parsed Ahoy JSON document."""
    if isinstance(doc, dict):
        if isinstance(doc.get("protocol_messages"), list):
            return "analysis"
        if isinstance(doc.get("decision_events"), list):
            return "extracted"
    return None


class _Lines:
    """Line numbers of successive occurrences of a key in the document text."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def next(self, needle: str) -> int:
        i = self.text.find(needle, self.pos)
        if i < 0:
            return self.line
        self.line += self.text.count("\n", self.pos, i)
        self.pos = i + 1
        return self.line


def _analysis(doc: dict[str, Any], path: str, text: str, schema: Schema | None) -> Iterator[Item]:
    where = _Lines(text)
    for i, pm in enumerate(doc["protocol_messages"]):
        line = where.next('"raw_line"')
        raw = pm.get("raw_line") if isinstance(pm, dict) else None
        if not isinstance(raw, str):
            yield BadRecord(path, line, f"protocol_messages[{i}] has no 'raw_line'", show(repr(pm)))
            continue
        try:
            name, bindings, meta = parse_send(raw)
        except ReprError as e:
            yield BadRecord(path, line, f"protocol_messages[{i}]: {e}", show(raw))
            continue
        protocol = meta.get("system") if isinstance(meta.get("system"), str) else None
        spec = lookup_roles(schema, protocol, name)
        yield Event(kind="send", message=f"{protocol}/{name}" if protocol else name, protocol=protocol,
                    sender=spec[0] if spec else None, recipients=spec[1] if spec else (),
                    bindings=bindings, source=path, line=line, ts=_ts(raw))


def _extracted(doc: dict[str, Any], path: str, text: str, schema: Schema | None) -> Iterator[Item]:
    rules = (doc.get("metrics") or {}).get("completion_rules") or {}
    roles = dict(k.split(":", 1) for k in rules if isinstance(k, str) and ":" in k)  # protocol -> role
    agent = "ahoy"
    seen: Counter[tuple[Any, ...]] = Counter()
    where = _Lines(text)
    for i, ev in enumerate(doc["decision_events"]):
        line = where.next('"decision_number"')
        if not isinstance(ev, dict):
            yield BadRecord(path, line, f"decision_events[{i}] is not an object", show(repr(ev)))
            continue
        in_block: Counter[tuple[Any, ...]] = Counter()
        for h in ev.get("message_history") or []:
            if not isinstance(h, dict) or not isinstance(h.get("type"), str):
                yield BadRecord(path, line, f"decision_events[{i}]: history entry without 'type'",
                                show(repr(h)))
                continue
            p = h.get("protocol")
            message = f"{p}/{h['type']}" if p else h["type"]
            to = tuple(r.strip() for r in str(h.get("receiver", "")).split(",") if r.strip())
            b = {k: display_value(v) if isinstance(v, str) else v
                 for k, v in (h.get("parameters") or {}).items()}
            key = (message, h.get("sender"), to, tuple(sorted((k, repr(v)) for k, v in b.items())))
            in_block[key] += 1
            if in_block[key] <= seen[key]:
                continue
            seen[key] = in_block[key]
            mine = roles.get(p) if isinstance(p, str) else None
            kind: EventKind | None = "send" if h.get("sender") == mine else "receive" if mine in to else None
            if kind is None:
                continue  # between two other roles: not this agent's view
            if not to:
                spec = lookup_roles(schema, p, message)
                to = spec[1] if spec else ()
            yield Event(kind=kind, message=message, protocol=p, sender=h.get("sender"), recipients=to,
                        bindings=b, source=path, line=line, agent=agent)
        options = [{"number": o.get("option_number"), "message": o.get("message_type"),
                    "bound": o.get("bound_params") or {},
                    "fill": [str(x).strip("'\"") for x in o.get("missing_params") or []]}
                   for o in ev.get("available_options") or [] if isinstance(o, dict)]
        raw = ev.get("llm_reasoning")
        parsed = extract_reply(raw)[0] if isinstance(raw, str) else None
        reply = {"choice": ev.get("llm_choice"), "params": ev.get("llm_choice_params") or {}}
        if parsed is None and ev.get("llm_choice") is not None:
            # The extraction cuts `llm_reasoning` (the fenced reply loses its closing
            # brace), but its `llm_choice` is what the harness parsed from the full reply.
            parsed = reply
        choice, params, error, chosen = check_choice(reply, options)
        protocol = chosen["message"].split("/", 1)[0] if chosen and "/" in str(chosen["message"]) else None
        yield Event(kind="decision", message=chosen["message"] if chosen else None, protocol=protocol,
                    sender=roles.get(protocol) if protocol else None, source=path, line=line, agent=agent,
                    decision={"agent": agent, "role": roles.get(protocol) if protocol else None,
                              "options": options, "raw": raw, "parsed": parsed, "choice": choice,
                              "params": params, "error": error, "latency_s": None, "model": None,
                              "declined": error is None and choice is None,
                              "message_sent": ev.get("message_sent")})


def read_ahoy_json(path: str, schema: Schema | None = None,
                   stats: ReadStats | None = None) -> Iterator[Event | BadRecord]:
    """Events from an Ahoy analysis/extraction JSON document (see module doc)."""
    stats = stats if stats is not None else ReadStats()
    with open_log(path) as f:  # a compressed document is bounded by its decompressed size
        data = b"" if os.path.getsize(path) > MAX_DOC else f.read(MAX_DOC + 1)
        if not data or len(data) > MAX_DOC:
            n = sum(1 for _ in f) if not data else data.count(b"\n") + sum(1 for _ in f)
            if data or n:
                stats.lines += n
                stats.bad += 1
                stats.bad_lines += n
                yield BadRecord(path, 1, f"JSON document larger than {MAX_DOC} bytes")
                return
    nlines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    stats.lines += nlines
    items: list[Item]
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        m = _ERR_LINE.search(str(e))
        items = [BadRecord(path, int(m.group(1)) if m else 1, f"not valid JSON: {e}")]
    else:
        text = data.decode("utf-8", "replace")
        k = kind_of(doc)
        if k == "analysis":
            items = list(_analysis(doc, path, text, schema))
        elif k == "extracted":
            items = list(_extracted(doc, path, text, schema))
        else:
            keys = sorted(doc)[:8] if isinstance(doc, dict) else type(doc).__name__
            items = [BadRecord(path, 1, f"JSON document without protocol_messages or decision_events ({keys})")]
    account(stats, items, nlines)
    yield from items
