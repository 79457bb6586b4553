"""The fast native reader (the one format detection chooses) yields what `read_native` yields, line for line.

It decodes valid lines with msgspec and everything else through the reader's own
orjson path, so these tests aim at the seam: values msgspec and orjson read
differently, shapes msgspec refuses, line splitting across chunks, over-long
and unterminated lines, and random damage to a real log.
"""
from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protoverify.traces import BadRecord, ReadStats, _common, read_native
from protoverify.traces import native_fast as fastnative
from tests.helpers.faults import damage_ops, mutate

TRACES = Path(__file__).resolve().parents[2] / "traces"
GOOD = (TRACES / "native_good.jsonl").read_bytes()

_FIELDS = ("kind", "protocol", "message", "sender", "recipients", "bindings", "source", "line", "seq",
           "ts", "run", "agent", "id", "reason", "decision")


def _shape(it: Any) -> tuple:
    if isinstance(it, BadRecord):
        return ("bad", it.source, it.line, it.reason, it.text)
    # a message event's `decision` is never read (the Monitor reads it on decision events only)
    vals = tuple(getattr(it, f) if f != "decision" or it.kind == "decision" else None for f in _FIELDS)
    # compare values with their types: 1 == 1.0 == True must not hide a difference
    return ("event",) + tuple((type(v).__name__, repr(v)) for v in vals)


def _both(data: bytes) -> tuple[list, list, ReadStats, ReadStats]:
    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "log.jsonl")
        Path(path).write_bytes(data)
        s1, s2 = ReadStats(), ReadStats()
        want = [_shape(i) for i in read_native(path, stats=s1)]
        got = [_shape(i) for i in fastnative.read_native_fast(path, stats=s2)]
    return want, got, s1, s2


def _assert_same(data: bytes) -> None:
    want, got, s1, s2 = _both(data)
    assert got == want
    assert s2 == s1


_BASE = {"kind": "send", "message": "Purchase/rfq", "sender": "Buyer", "recipients": ["Seller"],
         "bindings": {"orderID": "o1", "item": "x"}}


def _line(**over: Any) -> bytes:
    obj = dict(_BASE)
    for k, v in over.items():
        if v is _DROP:
            obj.pop(k, None)
        else:
            obj[k] = v
    return orjson.dumps(obj)


_DROP = object()

EDGE_LINES = [
    _line(),
    _line(seq=3, ts=5, run="r", agent="a", id="i", reason="why", protocol="Purchase"),
    _line(ts=1.5, seq=None, run=None),
    _line(message="rfq"), _line(message="rfq", protocol="Purchase"),
    _line(kind="receive"), _line(kind="reject", reason="full"), _line(kind="drop"),
    _line(kind="decision", decision={"choice": None}), _line(kind="bogus"), _line(kind=_DROP),
    _line(seq=True), _line(seq="1"), _line(ts=True), _line(ts="now"), _line(run=1), _line(protocol=3),
    _line(decision={"x": 1}), _line(decision=[1]),
    _line(recipients=None), _line(recipients=[]), _line(recipients=["A", 1]), _line(recipients="Seller"),
    _line(bindings=None), _line(bindings=[]), _line(message=None), _line(sender=5),
    _line(bindings={"orderID": [1, 2], "item": {"a": None}}),
    _line(note="extra field"), _line(**{"(reader) line": 7, "(reader) source": "x"}),
    _line(**{"(reader) line": "seven"}),
    b'{"kind":"send","kind":"receive","message":"m","sender":"s","recipients":[],"bindings":{}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{},"seq":"x","seq":1}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":1,"a":"two"}}',
    # integers at and beyond 64 bits (orjson: int up to 2**64-1, then float)
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":9223372036854775807}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":9223372036854775808}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":18446744073709551616}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":-9223372036854775809}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":[123456789012345678901234]}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{},"seq":123456789012345678901234}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{},"ts":123456789012345678901234}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":1e400}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":1e-400,"b":-0,"c":-0.0}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":0.30000000000000004}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":"\\ud800"}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":"\\u0000\\n\\"\\u00e9"}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":"\xff"}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":NaN}}',
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":1,}}',
    b'\xef\xbb\xbf' + _line(), _line() + b"\r", b"  " + _line() + b" \t",
    b'{"kind":"send","message":"m","sender":"s","recipients":[],"bindings":{"a":' + b"[" * 2000 + b"]" * 2000
    + b"}}",
    b"", b"   ", b"\r", b"[1, 2]", b'"text"', b"null", b"{", b"not json",
]


def test_edge_lines_one_by_one() -> None:
    for line in EDGE_LINES:
        _assert_same(line + b"\n")
        _assert_same(line)  # as an unterminated last line


def test_edge_lines_together() -> None:
    _assert_same(b"\n".join(EDGE_LINES) + b"\n")
    _assert_same(b"\n".join(EDGE_LINES))


def test_real_native_logs() -> None:
    for name in ("native_good.jsonl", "native_bad.jsonl"):
        _assert_same((TRACES / name).read_bytes())


def test_lines_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastnative, "_CHUNK", 37)
    _assert_same(b"\n".join(EDGE_LINES) + b"\n")
    _assert_same(GOOD)


@pytest.mark.parametrize("chunk", [16, 64, 1 << 20])
def test_over_long_lines(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(fastnative, "_CHUNK", chunk)
    monkeypatch.setattr(fastnative, "MAX_LINE", 120)
    monkeypatch.setattr(_common, "MAX_LINE", 120)
    long = _line(bindings={"orderID": "o" * 200, "item": "x"})
    exact = _line(bindings={"orderID": "o1", "item": "x" * 70})
    for data in (long + b"\n" + _line() + b"\n", _line() + b"\n" + long, long,
                 exact[:119] + b"\n" + exact[:120] + b"\n" + exact[:121] + b"\n" + _line(),
                 b"x" * 119, b"x" * 120, b"x" * 500 + b"\n\n" + b"y" * 130):
        _assert_same(data)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300).map(lambda b: b.replace(b"\r", b"\n")) | st.binary(max_size=300),
       chunk=st.integers(1, 64), limit=st.integers(1, 100))
def test_chunks_are_the_lines_cut_at_the_limit(data: bytes, chunk: int, limit: int) -> None:
    """`_chunks` gives every line of the file once, in order, with whether a newline
    ends it; a line of `limit` bytes or more comes as at least its first `limit` (read
    no further, it is not known to end)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fastnative, "_CHUNK", chunk)
        mp.setattr(fastnative, "MAX_LINE", limit)
        got = [(line, k < len(lines) - 1 or ended)
               for lines, ended in fastnative._chunks(io.BytesIO(data)) for k, line in enumerate(lines)]
    want = [(line, True) for line in data.split(b"\n")]
    last = want.pop()[0]
    if last:
        want.append((last, False))
    assert len(got) == len(want)
    for (line, ended), (full, terminated) in zip(got, want, strict=True):
        if len(full) < limit:
            assert line == full
            assert ended == terminated
        else:
            assert len(line) >= limit and full.startswith(line)


@settings(max_examples=300, deadline=None)
@given(damage_ops)
def test_mutated_native_log(ops: list[tuple[int, int, int]]) -> None:
    _assert_same(mutate(GOOD, ops))


def test_detection_chooses_the_fast_reader_and_it_yields_events(tmp_path: Path) -> None:
    from protoverify.traces import Event, detect, read

    path = tmp_path / "log.jsonl"
    path.write_bytes(GOOD)
    assert detect.READERS[detect.detect_format(str(path))] is fastnative.read_native_fast
    items = list(read(str(path)))
    events = [e for e in items if isinstance(e, Event)]
    assert events and len(events) == len([i for i in items if not isinstance(i, BadRecord)])
    assert any(type(e) is fastnative.NativeEvent for e in events)
