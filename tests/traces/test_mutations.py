"""Random damage to a valid native log never raises, and no line goes missing."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st

from tracehelp import TRACES
from protoverify.traces import BadRecord, Event, ReadStats, read_native

GOOD = (TRACES / "native_good.jsonl").read_bytes()


def _mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    buf = bytearray(data)
    for op, pos, val in ops:
        if not buf:
            buf.extend(b"{")
        i = pos % len(buf)
        if op == 0:
            buf[i] = val
        elif op == 1:
            buf.insert(i, val)
        elif op == 2:
            del buf[i]
        elif op == 3:  # truncate
            del buf[i:]
        else:  # duplicate or drop a line
            lines = bytes(buf).split(b"\n")
            j = pos % len(lines)
            lines.insert(j, lines[j]) if val % 2 else lines.pop(j)
            buf = bytearray(b"\n".join(lines))
    return bytes(buf)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10_000), st.integers(0, 255)), max_size=12))
def test_mutated_native_log(ops: list[tuple[int, int, int]]) -> None:
    data = _mutate(GOOD, ops)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.jsonl"
        path.write_bytes(data)
        stats = ReadStats()
        items = list(read_native(str(path), stats=stats))
    expected_lines = len(data.split(b"\n")) - (1 if data.endswith(b"\n") or not data else 0)
    assert stats.lines == expected_lines
    assert stats.unaccounted() == 0
    assert stats.events == sum(isinstance(i, Event) for i in items)
    assert stats.bad == sum(isinstance(i, BadRecord) for i in items)
    assert all(1 <= i.line <= stats.lines for i in items)
