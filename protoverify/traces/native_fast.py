"""A fast path for native JSONL in the audit hot loop.

Same results as `protoverify.traces.native.read_native`, line for line, but
cheaper per line:

* the file is read in 1 MB chunks and split into lines in C (not `readline`);
* a plainly valid message event is decoded *and type-checked* by msgspec into
  a `NativeEvent` struct, which is the event the Monitor gets (no dict to
  inspect in Python, no second object to fill);
* anything msgspec does not accept exactly as the reader would (a missing or
  mistyped field, an unknown field, a decision, bad JSON, a huge integer that
  orjson reads as a float, a binding value that is a list or object) goes through the reader's own orjson + `convert`
  path, so its result and error texts are the reader's.
"""
from __future__ import annotations

from typing import Annotated, Any, Iterator, Literal

import msgspec
import orjson

from ..traces._common import MAX_LINE, TEXT_CAP, show
from ..traces.event import BadRecord, ReadStats
from ..traces.native import _OPTIONAL, convert

_MSG_KINDS = frozenset(("send", "receive", "reject", "drop"))
_CHUNK = 1 << 20
#: orjson reads an integer beyond 64 bits as a float, msgspec as an int: such lines
#: (and, to keep it simple, any beyond int64) take the orjson path
_Int = Annotated[int, msgspec.Meta(ge=-(1 << 63), le=(1 << 63) - 1)]
#: scalar binding values only: a list or object value could hide a huge integer
#: from the check above, so such lines take the orjson path too
_Value = str | _Int | float | bool | None


class NativeEvent(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A valid native message event, as `read_native` would return it (duck-typed Event).

    Unknown fields are refused (such lines take the orjson path, which ignores
    them) so that msgspec never skips a value without validating it. `source`
    and `line` are set by the reader; a line that has a key of their JSON names decodes the same (they are overwritten).
    `gc=False`: it holds only strings, numbers and JSON containers, never itself.
    """

    kind: Literal["send", "receive", "reject", "drop"]
    message: str
    sender: str
    recipients: tuple[str, ...]
    bindings: dict[str, _Value]
    seq: _Int | None = None
    ts: float | None = None
    run: str | None = None
    agent: str | None = None
    id: str | None = None
    reason: str | None = None
    declared_protocol: str | None = msgspec.field(default=None, name="protocol")
    source: str = msgspec.field(default="", name="(reader) source")
    line: int = msgspec.field(default=0, name="(reader) line")

    @property
    def decision(self) -> None:
        """Message events carry no decision (a decision field takes the orjson path)."""
        return None

    @property
    def protocol(self) -> str | None:
        """The `protocol` field, else the qualifier of `message` (computed on use: the
        single-protocol audit never asks)."""
        p = self.declared_protocol
        if p is not None:
            return p
        m = self.message
        return m.split("/", 1)[0] if "/" in m else None


assert set(_OPTIONAL) == {"seq", "ts", "run", "agent", "id", "reason", "protocol", "decision"}, \
    "NativeEvent must declare every optional field of the native format"

_decode = msgspec.json.Decoder(NativeEvent).decode


def _chunks(f: Any) -> Iterator[tuple[list[bytes], bool]]:
    """The file's lines (without their newline), a chunk's worth at a time, with
    `ended`: False when the last line of the list is the file's unterminated last
    line. A line of MAX_LINE bytes or more comes as its first MAX_LINE bytes, which
    the caller reports as over-long (the rest is skipped, never held in memory)."""
    tail = b""
    skipping = False
    while True:
        data = f.read(_CHUNK)
        if not data:
            if tail:
                yield [tail], False
            return
        if skipping:
            nl = data.find(b"\n")
            if nl < 0:
                continue
            skipping = False
            data = data[nl + 1:]
        buf = tail + data if tail else data
        lines = buf.split(b"\n")
        tail = lines.pop()
        if len(tail) >= MAX_LINE:
            lines.append(tail[:MAX_LINE])
            tail = b""
            skipping = True
        if lines:
            yield lines, True


def read_native_fast(path: str, stats: ReadStats) -> Iterator[Any]:
    """Stream native events (and BadRecords) from `path`, counting lines in `stats`."""
    decode = _decode
    no = 0
    with open(path, "rb") as f:
        for lines, ended in _chunks(f):
            good = 0
            last = len(lines) - 1
            try:
                for i, line in enumerate(lines):
                    no += 1
                    if len(line) < MAX_LINE:
                        try:
                            ev = decode(line)
                        except (msgspec.DecodeError, ValueError, RecursionError):
                            pass
                        else:
                            ev.source = path
                            ev.line = no
                            good += 1
                            yield ev
                            continue
                    yield from _slow_line(line, no, path, stats, ended or i < last)
            finally:
                stats.lines += good
                stats.events += good
                stats.event_lines += good
    return


#: exact types per optional field (orjson yields exact builtins; bool is excluded as the reader does)
_OPT_TYPES: dict[str, frozenset[type]] = {k: frozenset(t) for k, t in _OPTIONAL.items()}


def _as_event(obj: dict[str, Any], path: str, no: int) -> NativeEvent | None:
    """A valid message event that msgspec refused only for its shape (an unknown
    field, a huge integer, a list value...), built as msgspec would have built it
    (`message` keeps its protocol qualifier); None for anything `convert` must judge."""
    get = obj.get
    kind, m, s, rc, b = get("kind"), get("message"), get("sender"), get("recipients"), get("bindings")
    if kind not in _MSG_KINDS or type(m) is not str or type(s) is not str or type(rc) is not list \
            or type(b) is not dict or not all(type(x) is str for x in rc):
        return None
    for key, types in _OPT_TYPES.items():
        v = get(key)
        if v is not None and type(v) not in types:
            return None
    ts = get("ts")
    return NativeEvent(kind, m, s, tuple(rc), b, seq=get("seq"), ts=float(ts) if ts is not None else None,
                       run=get("run"), agent=get("agent"), id=get("id"), reason=get("reason"),
                       declared_protocol=get("protocol"), source=path, line=no)


def _slow_line(line: bytes, no: int, path: str, stats: ReadStats, ended: bool) -> list[Any]:
    """One line as the reader sees it (orjson + `convert`), with its accounting
    (the caller has not counted it)."""
    stats.lines += 1
    if len(line) >= MAX_LINE:
        stats.bad += 1
        stats.bad_lines += 1
        return [BadRecord(path, no, f"line longer than {MAX_LINE} bytes", show(line[:MAX_LINE][:TEXT_CAP]))]
    data = line.rstrip(b"\r")  # what `iter_lines` gives `read_jsonl`, so error positions match
    if not data.strip():
        stats.irrelevant += 1
        return []
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        why = "truncated last line (no newline at end)" if not ended else "not valid JSON"
        stats.bad += 1
        stats.bad_lines += 1
        return [BadRecord(path, no, f"{why}: {e}", show(data))]
    if type(obj) is dict:
        ev = _as_event(obj, path, no)
        if ev is not None:
            stats.events += 1
            stats.event_lines += 1
            return [ev]
        items = convert(obj, path, no)
    else:
        items = [BadRecord(path, no, f"not a JSON object (got {type(obj).__name__})",
                           show(data))]
    if any(isinstance(it, BadRecord) for it in items):
        stats.bad += len(items)
        stats.bad_lines += 1
    elif items:
        stats.events += len(items)
        stats.event_lines += 1
    else:
        stats.irrelevant += 1
    return items
