"""A fast path for native JSONL in the audit hot loop.

Same results as `protoverify.traces.native.read_native` (whose `convert` it
calls for every line that is not a plainly valid message event, so error texts
are the reader's own), but a valid line costs one `orjson.loads`, a few type
checks and the refill of one reusable event object: the Monitor keeps no
reference to the events it is given, only to their bindings.
"""
from __future__ import annotations

from typing import Any, Iterator

import orjson

from ..traces._common import MAX_LINE, show
from ..traces.event import BadRecord, ReadStats
from ..traces.native import _OPTIONAL, convert

_MSG_KINDS = frozenset(("send", "receive", "reject", "drop"))


class FastEvent:
    """Duck-typed Event, refilled for every line (never kept by the Monitor)."""

    __slots__ = ("kind", "message", "sender", "recipients", "bindings", "source", "line", "seq", "ts",
                 "run", "agent", "id", "reason", "decision", "protocol")

    def __init__(self, source: str) -> None:
        self.source = source
        self.decision = None


#: exact types per optional field (orjson yields exact builtins; bool is excluded as the reader does)
_OPT_TYPES: dict[str, frozenset[type]] = {k: frozenset(t) for k, t in _OPTIONAL.items()}
_REQUIRED = frozenset(("kind", "message", "sender", "recipients", "bindings"))


def _optional_ok(obj: dict[str, Any]) -> bool:
    opt = _OPT_TYPES
    for key, v in obj.items():
        t = opt.get(key)
        if t is not None and v is not None and type(v) not in t:
            return False
    return True


def read_native_fast(path: str, stats: ReadStats) -> Iterator[Any]:
    ev = FastEvent(path)
    loads = orjson.loads
    kinds = _MSG_KINDS
    get = dict.get
    with open(path, "rb") as f:
        readline = f.readline
        no = 0
        while True:
            chunk = readline(MAX_LINE)
            if not chunk:
                return
            no += 1
            stats.lines += 1
            ended = chunk[-1:] == b"\n"
            if not ended and len(chunk) >= MAX_LINE:
                while True:  # skip the rest of the over-long line
                    more = readline(MAX_LINE)
                    if not more or more.endswith(b"\n"):
                        break
                stats.bad += 1
                stats.bad_lines += 1
                yield BadRecord(path, no, f"line longer than {MAX_LINE} bytes", show(chunk[:300]))
                continue
            try:
                obj = loads(chunk)
            except orjson.JSONDecodeError as e:
                if not chunk.strip():
                    stats.irrelevant += 1
                    continue
                why = "truncated last line (no newline at end)" if not ended else "not valid JSON"
                stats.bad += 1
                stats.bad_lines += 1
                yield BadRecord(path, no, f"{why}: {e}", show(chunk.rstrip(b"\r\n")))
                continue
            if type(obj) is dict:
                kind = get(obj, "kind")
                if kind in kinds:
                    m, s, rc, b = get(obj, "message"), get(obj, "sender"), get(obj, "recipients"), get(obj, "bindings")
                    if type(m) is str and type(s) is str and type(rc) is list and type(b) is dict \
                            and (len(obj) == 5 or _optional_ok(obj)) and all(type(x) is str for x in rc):
                        ev.kind = kind
                        ev.message = m
                        ev.sender = s
                        ev.recipients = tuple(rc)
                        ev.bindings = b
                        ev.line = no
                        ev.seq = get(obj, "seq")
                        ts = get(obj, "ts")
                        ev.ts = float(ts) if ts is not None else None
                        ev.run = get(obj, "run")
                        ev.agent = get(obj, "agent")
                        ev.id = get(obj, "id")
                        ev.reason = get(obj, "reason")
                        p = get(obj, "protocol")
                        ev.protocol = p if p is not None else (m.split("/", 1)[0] if "/" in m else None)
                        stats.events += 1
                        stats.event_lines += 1
                        yield ev
                        continue
                items = convert(obj, path, no)
            else:
                items = [BadRecord(path, no, f"not a JSON object (got {type(obj).__name__})",
                                   show(chunk.rstrip(b"\r\n")))]
            if any(isinstance(it, BadRecord) for it in items):
                stats.bad += len(items)
                stats.bad_lines += 1
            elif items:
                stats.events += len(items)
                stats.event_lines += 1
            else:
                stats.irrelevant += 1
            yield from items
