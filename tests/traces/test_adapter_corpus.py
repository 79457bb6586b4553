"""Adapter reader on the real wire captures, against independent counts and the
normalized trace that ships with them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from protoverify.traces import Event, ReadStats, read
from tests.traces.test_jsonl_readers import purchase_schema


@pytest.mark.parametrize("name", ["wire.jsonl", "wire.nodebug.jsonl", "wire.inject.jsonl"])
def test_one_send_per_datagram_entry(corpus: Path, name: str) -> None:
    path = corpus / "bspl-adapter" / name
    expected = sum(len(json.loads(json.loads(line)["datagram"]))
                   for line in path.read_text().splitlines() if line.strip())
    st = ReadStats()
    ev = list(read(str(path), schema=purchase_schema, stats=st))
    assert len(ev) == expected and all(isinstance(e, Event) and e.kind == "send" for e in ev)
    assert st.unaccounted() == 0 and st.bad == 0


def test_matches_normalized_trace(corpus: Path) -> None:
    golden = [json.loads(row) for row in (corpus / "bspl-adapter/trace.normalized.jsonl").read_text().splitlines()]
    ev = list(read(str(corpus / "bspl-adapter/wire.jsonl"), format="adapter", schema=purchase_schema))
    got = [(e.ts, e.run, e.message, e.sender, list(e.recipients), e.agent, e.bindings) for e in ev]
    want = [(g["t"], g["system"], g["message"], g["from_role"], g["to_roles"], g["from_agent"], g["payload"])
            for g in golden]
    assert got == want
