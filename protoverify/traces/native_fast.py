"""The native JSONL reader that format detection chooses: `read_native`, faster.

Same results as `protoverify.traces.native.read_native` (the strict reference
reader), line for line, and the same accounting, but cheaper per line:

* the file is read in 256 KB chunks and split into lines in C (not `readline`);
* a plainly valid message event is decoded *and type-checked* by msgspec
  straight into a `NativeEvent`, a subclass of `Event` whose field types are
  narrowed to what the reader would accept (no dict to inspect in Python, no
  second object to fill);
* anything msgspec does not accept exactly as the reader would (a missing or
  mistyped field, an unknown field, a decision, bad JSON, a huge integer that
  orjson reads as a float, a binding value that is a list or object) goes
  through the reader's own path (`_common.jsonl_items` + `native.convert`), so
  its result, error texts and accounting are the reader's.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any, Literal, Union

import msgspec

from ._common import MAX_LINE, TEXT_CAP, Item, Line, Schema, account, account_events, jsonl_items
from ._open import open_log
from .event import BadRecord, Event, ReadStats
from .native import _OPTIONAL, convert

_MSG_KINDS = frozenset(("send", "receive", "reject", "drop"))
#: bytes read at a time: 256 KB of lines stay in the CPU's cache while they are read
#: (1 MB chunks took 60% longer to split into lines and free)
_CHUNK = 1 << 18
#: orjson reads an integer beyond 64 bits as a float, msgspec as an int: such lines
#: (and, to keep it simple, any beyond int64) take the orjson path
_Int = Annotated[int, msgspec.Meta(ge=-(1 << 63), le=(1 << 63) - 1)]
#: scalar binding values only: a list or object value could hide a huge integer
#: from the check above, so such lines take the orjson path too
_Value = str | _Int | float | bool | None


#: Event's own storage of `protocol`, which NativeEvent's property reads
_PROTOCOL_SLOT = Event.__dict__["protocol"]


# mypy models Structs as dataclasses and refuses a mutable subclass and a property
# over a field; msgspec allows both (the property shadows the field's slot accessor).
class NativeEvent(Event, frozen=False, forbid_unknown_fields=True, gc=False):  # type: ignore[misc]
    """An `Event` decoded by msgspec from a valid native message line.

    Only the fields whose accepted types are narrower than `Event`'s are
    redeclared; the others are Event's own. Unknown fields are refused (such
    lines take the reader's path, which ignores them) so that msgspec never
    skips a value without validating it. `source` and `line` are set by the
    reader (hence not frozen): their JSON names are ones no log uses.
    `gc=False`: it holds only strings, numbers and JSON containers, never itself.
    """

    kind: Literal["send", "receive", "reject", "drop"]
    message: str
    sender: str
    recipients: tuple[str, ...]
    bindings: dict[str, _Value]
    source: str = msgspec.field(default="", name="(reader) source")
    line: int = msgspec.field(default=0, name="(reader) line")
    seq: _Int | None = None
    decision: None = None  # message events carry none (a decision takes the reader's path)

    @property  # type: ignore[misc]
    def protocol(self) -> str | None:
        """The line's `protocol` field, else the qualifier of `message`, as `read_native`
        gives it. Derived on use rather than at decode time (the single-protocol audit
        never asks), so the stored field (what `repr` and `==` see) keeps the line's own."""
        p: str | None = _PROTOCOL_SLOT.__get__(self)
        if p is not None:
            return p
        m = self.message
        return m.split("/", 1)[0] if "/" in m else None


assert set(_OPTIONAL) <= set(NativeEvent.__struct_fields__), \
    "NativeEvent must have every optional field of the native format"

_decode = msgspec.json.Decoder(NativeEvent).decode


def _chunks(f: Any) -> Iterator[tuple[list[bytes], bool]]:
    """The file's lines (without their newline), a chunk's worth at a time, with
    `ended`: False when the last line of the list is the file's unterminated last
    line. A line of MAX_LINE bytes or more comes as its first MAX_LINE bytes, which
    the caller reports as over-long (the rest is skipped, never held in memory).
    A line longer than a chunk is gathered in `parts` and joined once its newline
    comes (joining at each read would copy it over and over)."""
    parts: list[bytes] = []  # the line being read, before its newline
    size = 0  # their length
    skipping = False
    while True:
        data = f.read(_CHUNK)
        if not data:
            if parts:
                yield [b"".join(parts)], False
            return
        if skipping:
            nl = data.find(b"\n")
            if nl < 0:
                continue
            skipping = False
            data = data[nl + 1:]
            if not data:
                continue
        if b"\n" not in data:  # stops at the first newline: cheap unless a line is long
            parts.append(data)
            size += len(data)
            if size >= MAX_LINE:
                yield [b"".join(parts)[:MAX_LINE]], True
                parts.clear()
                size = 0
                skipping = True
            continue
        if parts:
            parts.append(data)
            data = b"".join(parts)
            parts.clear()
        lines = data.split(b"\n")
        tail = lines.pop()
        size = len(tail)
        if size >= MAX_LINE:
            lines.append(tail[:MAX_LINE])
            size = 0
            skipping = True
        elif tail:
            parts.append(tail)
        if lines:
            yield lines, True


def native_chunks(f: Any) -> Iterator[tuple[list[bytes], bool, int, int]]:
    """`_chunks` for a replay that reads the lines itself (`line_items` for the lines
    it does not take), with bounds `lo, hi`: `lines[lo:hi]` are all shorter than
    MAX_LINE. When _CHUNK < MAX_LINE only the first and last line of a chunk can be
    longer (the others come from one read of _CHUNK bytes); else (small limits, in
    tests) the chunk is cut at each longer line."""
    for lines, ended in _chunks(f):
        if _CHUNK < MAX_LINE:
            yield (lines, ended, 1 if len(lines[0]) >= MAX_LINE else 0,
                   len(lines) - 1 if len(lines[-1]) >= MAX_LINE else len(lines))
            continue
        first = 0
        for j, line in enumerate(lines):
            if len(line) >= MAX_LINE:
                if j > first:
                    yield lines[first:j], True, 0, j - first
                yield [line], ended or j < len(lines) - 1, 0, 0
                first = j + 1
        if first < len(lines):
            yield lines[first:], ended, 0, len(lines) - first


def line_items(line: bytes, no: int, path: str, stats: ReadStats, terminated: bool) -> list[Item]:
    """Line `no` of `path` as `read_native_fast` reads it, accounted in `stats`
    (`chunk_items` of that one line). `terminated`: the line ends with a newline."""
    return list(chunk_items([line], no - 1, path, stats, terminated))


def decode_event(line: bytes, path: str, no: int) -> NativeEvent:
    """The event of a line that `read_native_fast` reads as a plainly valid message
    event (ValueError if it is not one)."""
    try:
        ev = _decode(line)
    except (msgspec.DecodeError, RecursionError) as e:
        raise ValueError(f"{path}:{no}: not a plain message event: {e}") from None
    ev.source = path
    ev.line = no
    return ev


#: One send a `send_decoder` takes: the message names it goes by, its sender, its
#: recipients (in this order), the parameters it carries, and what its struct's
#: `plan` attribute holds.
SendShape = tuple[tuple[str, ...], str, tuple[str, ...], tuple[str, ...], object]
#: Event fields a send line may carry besides kind, message, sender, recipients and bindings
_OTHER_FIELDS = ("seq", "ts", "run", "agent", "id", "reason", "decision", "protocol")


def send_decoder(shapes: Sequence[SendShape]) -> tuple[Callable[[bytes], Any], dict[str, str]]:
    """A decoder that takes only lines `read_native_fast` decodes as a plain send of
    one of `shapes` with exactly that sender, those recipients (in that order) and
    those carried parameters (scalar values), and raises msgspec.DecodeError on any
    other line; and the attribute name of each parameter in its `bindings`.

    The decoder returns a struct with NativeEvent's fields except `message` and
    `source`/`line`, `bindings` being a struct with one attribute per carried
    parameter (parameter names need not be identifiers: `Load.ticket`), and the
    shape's payload as the class attribute `plan`. The shape checks of a send
    (message known, roles, parameters present and not extra) are thus made in C by
    msgspec. Every line it takes, the NativeEvent decoder takes too (the same
    fields, types no wider), with the same values.
    """
    fields = {f.name: f for f in msgspec.structs.fields(NativeEvent)}
    other = [(n, fields[n].type, fields[n].default) for n in _OTHER_FIELDS]
    attr = {p: f"p{i}" for i, p in enumerate(sorted({p for shape in shapes for p in shape[3]}))}
    members: list[type] = []
    for n, (tags, sender, recipients, carried, payload) in enumerate(shapes):
        bindings = msgspec.defstruct(f"Bindings{n}", [(attr[p], _Value, msgspec.field(name=p)) for p in carried],
                                     forbid_unknown_fields=True, gc=False)
        recips = tuple.__class_getitem__(tuple(Literal[r] for r in recipients)) if recipients else tuple[()]
        for tag in tags:
            members.append(msgspec.defstruct(
                f"Send{n}", [("kind", Literal["send"]), ("sender", Literal[sender]),
                             ("recipients", recips), ("bindings", bindings), *other],
                tag_field="message", tag=tag, forbid_unknown_fields=True, gc=False, kw_only=True,
                namespace={"plan": payload}))
    return msgspec.json.Decoder(Union.__getitem__(tuple(members))).decode, attr


def read_native_fast(path: str, schema: Schema | None = None,
                     stats: ReadStats | None = None) -> Iterator[Event | BadRecord]:
    """Stream native events (and BadRecords) from `path`, as `read_native` does.
    `schema` is accepted for the uniform reader signature and not used."""
    stats = stats if stats is not None else ReadStats()
    no = 0
    with open_log(path) as f:
        for lines, ended in _chunks(f):
            yield from chunk_items(lines, no, path, stats, ended)
            no += len(lines)


def chunk_items(lines: list[bytes], no: int, path: str, stats: ReadStats,
                ended: bool) -> Iterator[Event | BadRecord]:
    """The items of consecutive lines of `path` (numbered from `no + 1`; `ended`: the
    last one ends with a newline), accounted in `stats` (`read_native_fast`'s loop)."""
    decode = _decode
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
        account_events(stats, good)


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
    return NativeEvent(kind=kind, message=m, sender=s, recipients=tuple(rc), bindings=b,
                       source=path, line=no, seq=get("seq"),
                       ts=float(ts) if ts is not None else None, run=get("run"), agent=get("agent"),
                       id=get("id"), reason=get("reason"), protocol=get("protocol"))


def _convert(path: str) -> Any:
    def conv(obj: dict[str, Any], no: int) -> list[Item]:
        ev = _as_event(obj, path, no)
        return [ev] if ev is not None else convert(obj, path, no)
    return conv


def _slow_line(line: bytes, no: int, path: str, stats: ReadStats, ended: bool) -> list[Item]:
    """One line as the reader sees it (`jsonl_items` with `convert`), accounted as
    `read_jsonl` accounts it (the caller has not counted it)."""
    if len(line) >= MAX_LINE:
        ln = Line(no, line[:MAX_LINE][:TEXT_CAP], ended, too_long=True)
    else:
        ln = Line(no, line.rstrip(b"\r"), ended)  # what `iter_lines` gives `read_jsonl`
    items = jsonl_items(path, ln, _convert(path))
    stats.lines += 1
    account(stats, items)
    return items

