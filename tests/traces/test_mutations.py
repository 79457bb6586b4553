"""Random damage to a valid native log never raises, and no line goes missing."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings

from protoverify.traces import BadRecord, Event, ReadStats, read_native
from tests.helpers.faults import damage_ops, mutate
from tests.helpers.traces import TRACES

GOOD = (TRACES / "native_good.jsonl").read_bytes()


@settings(max_examples=300, deadline=None)
@given(damage_ops)
def test_mutated_native_log(ops: list[tuple[int, int, int]]) -> None:
    data = mutate(GOOD, ops)
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
