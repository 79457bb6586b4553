"""Native, envelope and adapter readers on small hand-made inputs."""
from __future__ import annotations

from pathlib import Path

from protoverify.traces import BadRecord, Event, ReadStats, read, read_adapter, read_envelope, read_native
from tests.helpers.traces import TRACES, line_count


def _read(reader, path: Path, **kw) -> tuple[list[Event], list[BadRecord], ReadStats]:
    st = ReadStats()
    items = list(reader(str(path), stats=st, **kw))
    assert st.lines == line_count(path)
    assert st.unaccounted() == 0
    return ([i for i in items if isinstance(i, Event)], [i for i in items if isinstance(i, BadRecord)], st)


def test_native_good() -> None:
    ev, bad, st = _read(read_native, TRACES / "native_good.jsonl")
    assert not bad and st.irrelevant == 1  # the blank line
    assert [e.kind for e in ev] == ["send", "receive", "send", "reject", "decision"]
    assert ev[0].message == "Purchase/rfq" and ev[0].protocol == "Purchase"
    assert ev[0].recipients == ("Seller",) and ev[0].bindings == {"ID": "1", "item": "pen"}
    assert (ev[0].seq, ev[0].ts, ev[0].run, ev[0].agent, ev[0].id) == (1, 1.0, "r1", "alice", "m1")
    assert ev[0].line == 1 and ev[1].line == 2 and ev[2].line == 4
    assert ev[2].message == "quote" and ev[2].protocol is None
    assert ev[3].reason == "policy:high"
    assert ev[4].decision["choice"] == 0


def test_native_bad_lines_are_reported_with_reasons() -> None:
    ev, bad, st = _read(read_native, TRACES / "native_bad.jsonl")
    assert [e.line for e in ev] == [1, 9]
    reasons = {b.line: b.reason for b in bad}
    assert "unknown kind 'teleport'" in reasons[2]
    assert "missing required field 'sender'" in reasons[3]
    assert "missing required field 'kind'" in reasons[4]
    assert "recipients" in reasons[5]
    assert "'ts'" in reasons[6]
    assert "not a JSON object" in reasons[7]
    assert reasons[8].startswith("not valid JSON")
    assert reasons[10].startswith("truncated last line")
    assert all(b.source.endswith("native_bad.jsonl") and b.text for b in bad)
    assert st.bad == st.bad_lines == 8


def test_envelope_mapping() -> None:
    ev, bad, st = _read(read_envelope, TRACES / "envelope_mixed.jsonl")
    kinds = [(e.kind, e.message, e.line) for e in ev]
    assert kinds == [("send", "Purchase/rfq", 2), ("receive", "Purchase/rfq", 3),
                     ("send", "Purchase/quote", 5), ("reject", "Purchase/quote", 6),
                     ("send", "Purchase/accept", 7), ("drop", "Purchase/accept", 8)]
    send, recv = ev[0], ev[1]
    assert (send.sender, send.recipients, send.agent, send.id) == ("Buyer", ("Seller",), "buyer-1", "e1")
    assert (recv.agent, recv.recipients, recv.bindings) == ("seller-1", ("Seller",), {"ID": "1", "item": "pen"})
    assert ev[3].reason == "price-cap" and ev[5].reason == "network partition"
    assert st.irrelevant == 2  # capability, llm_call
    reasons = {b.line: b.reason for b in bad}
    assert "unknown envelope type 'teleport'" in reasons[9]
    assert "not seen" in reasons[10]
    assert "'from'" in reasons[11]
    assert reasons[12].startswith("truncated last line")


PURCHASE = {"rfq": ("Buyer", ("Seller",)), "quote": ("Seller", ("Buyer",)),
            "accept": ("Buyer", ("Seller",)), "reject": ("Buyer", ("Seller",)),
            "ship": ("Seller", ("Shipper",)), "deliver": ("Shipper", ("Buyer",))}


def purchase_schema(name: str):
    return PURCHASE.get(name.split("/")[-1]) if name.startswith("Purchase/") or "/" not in name else None


def test_adapter_mixed() -> None:
    ev, bad, st = _read(read_adapter, TRACES / "adapter_mixed.jsonl", schema=purchase_schema)
    assert [(e.message, e.line, e.sender) for e in ev] == [
        ("Purchase/rfq", 1, "Buyer"), ("Purchase/rfq", 1, "Buyer"), ("Purchase/quote", 2, "Seller"),
        ("Purchase/haggle", 5, None), ("Purchase/accept", 6, "Buyer")]
    assert ev[0].run == "s1" and ev[0].agent == "buyer" and ev[0].recipients == ("Seller",)
    reasons = sorted((b.line, b.reason) for b in bad)
    assert reasons[0][0] == 2 and "payload" in reasons[0][1]  # second entry of a good datagram
    assert reasons[1][0] == 3 and "datagram is not valid JSON" in reasons[1][1]
    assert reasons[2][0] == 4 and "from_agent" in reasons[2][1]
    assert reasons[3][0] == 7 and reasons[3][1].startswith("truncated last line")
    # line 2 produced an event and a BadRecord: it is counted once, as an event line
    assert st.event_lines == 4 and st.bad_lines == 3


def test_adapter_without_schema_has_no_roles() -> None:
    ev, _, _ = _read(read_adapter, TRACES / "adapter_mixed.jsonl")
    assert all(e.sender is None and e.recipients == () for e in ev)


def test_read_dispatches_by_content(tmp_path: Path) -> None:
    copy = tmp_path / "renamed.log"
    copy.write_bytes((TRACES / "envelope_mixed.jsonl").read_bytes())
    assert [e.kind for e in read(str(copy)) if isinstance(e, Event)][:2] == ["send", "receive"]


def test_streaming_memory_is_bounded(tmp_path: Path) -> None:
    import tracemalloc
    line = (TRACES / "native_good.jsonl").read_bytes().splitlines()[0] + b"\n"
    path = tmp_path / "big.jsonl"
    path.write_bytes(line * 100_000)
    tracemalloc.start()
    stats = ReadStats()
    n = sum(1 for _ in read_native(str(path), stats=stats))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n == stats.events == 100_000
    assert peak < 2_000_000  # a few lines' worth, not the 20 MB file
