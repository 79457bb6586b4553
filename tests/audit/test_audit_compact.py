"""The compact replay of native logs (`protoverify.monitor.compact`) changes nothing.

An audit of a native log file goes through `CompactSends` while its events are plain
conformant sends, then hands the state to the Monitor; an audit of the same events
given as an iterable goes through the Monitor alone. Both must give the same
findings (codes, sources, lines, texts, expected texts), statuses and counts, on
simulated logs with agents, damaged event by event (drops, duplicates, swaps, values
copied across enactments, wrong senders, agents in two roles), damaged byte by byte,
and split over two files, with a small memory of retired enactments so that late
duplicates meet both retired and forgotten enactments.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from protoverify.auditor.driver import AuditResult, Replay, audit
from protoverify.bspl import FlatProtocol, flatten, load
from protoverify.monitor import Monitor
from protoverify.monitor.compact import CompactSends
from protoverify.monitor.simulate import Simulator, to_native
from protoverify.traces.detect import read
from protoverify.traces.event import Event
from tests.helpers.events import damage, event_ops, with_fields
from tests.helpers.faults import damage_ops, mutate
from tests.helpers.paths import REPO


def _flat(path: Path, name: str) -> FlatProtocol:
    return flatten(load(path), name)


PROTOCOLS = {
    "purchase": _flat(REPO / "specs" / "purchase.bspl", "Purchase"),
    "logistics": _flat(REPO / "specs" / "logistics.bspl", "Logistics"),
    "contract-net": _flat(REPO / "specs" / "contract-net.bspl", "Contract Net"),
    "ahoy-logistics": _flat(REPO / "tests" / "fixtures" / "ahoy" / "purchase-logistics.bspl", "Logistics"),
}


def _events(flat: FlatProtocol, seed: int, n: int) -> list[Event]:
    """Simulated enactments, each event naming its agent (one per role and enactment)."""
    sim = Simulator(flat, random.Random(seed), delivery="send", run=f"r{seed % 3}")
    out = []
    for e in sim.enactments(n, concurrency=3):
        first = sorted(e.bindings.items())[:1]
        out.append(with_fields(e, agent=f"{e.sender}@{first}"))
    return out


def _write(path: Path, events: list[Event]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(to_native(e)) + b"\n" for e in events))
    return path


def _summary(r: AuditResult) -> tuple[Any, ...]:
    return (r.findings, r.statuses, r.complete, r.incomplete, r.events)


def _same_both_ways(flat: FlatProtocol, paths: list[Path], keep_closed: int) -> AuditResult:
    """Audit the files (compact replay, then the Monitor) and their events read back (the
    Monitor alone); assert the results agree."""
    files = audit(flat, [str(p) for p in paths], format="native", delivery="send", keep_closed=keep_closed)
    try:
        items = [it for p in paths for it in read(str(p), format="native")]
    except Exception:  # a file damaged beyond a log: nothing to compare, draw another
        reject()
    alone = audit(flat, [items], delivery="send", keep_closed=keep_closed)
    assert _summary(files) == _summary(alone), (
        [(f.code, f.line) for f in files.findings], [(f.code, f.line) for f in alone.findings])
    return files


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(PROTOCOLS)), seed=st.integers(0, 2**16), n=st.integers(1, 8),
       keep=st.sampled_from([0, 1, 3, 10000]), split=st.integers(0, 60),
       ops=st.lists(event_ops, max_size=5))
def test_compact_replay_changes_nothing_on_damaged_logs(tmp_path, name, seed, n, keep, split, ops):
    flat = PROTOCOLS[name]
    events = damage(_events(flat, seed, n), ops)
    cut = split % (len(events) + 1)
    paths = [_write(tmp_path / "a.jsonl", events[:cut]), _write(tmp_path / "b.jsonl", events[cut:])]
    result = _same_both_ways(flat, paths, keep)
    if not ops and name != "ahoy-logistics":
        assert result.findings == [] and result.complete == n


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(PROTOCOLS)), seed=st.integers(0, 2**16), n=st.integers(1, 8),
       agents=st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=60),
       keep=st.sampled_from([0, 2, 10000]))
def test_compact_replay_changes_nothing_with_agents_in_several_roles(tmp_path, name, seed, n, agents, keep):
    """Agents drawn from a small pool: the same agent plays several roles across
    enactments (allowed) and within one (ROL003)."""
    flat = PROTOCOLS[name]
    events = [with_fields(e, agent=agents[i % len(agents)]) for i, e in enumerate(_events(flat, seed, n))]
    _same_both_ways(flat, [_write(tmp_path / "log.jsonl", events)], keep)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(PROTOCOLS)), seed=st.integers(0, 2**16), ops=damage_ops,
       keep=st.sampled_from([1, 10000]))
def test_compact_replay_changes_nothing_on_byte_damaged_logs(tmp_path, name, seed, ops, keep):
    flat = PROTOCOLS[name]
    data = b"".join(orjson.dumps(to_native(e)) + b"\n" for e in _events(flat, seed, 5))
    path = tmp_path / "log.jsonl"
    path.write_bytes(mutate(data, ops))
    _same_both_ways(flat, [path], keep)


def test_a_clean_log_is_replayed_in_compact_form_to_the_end(tmp_path):
    """Every line of a clean Purchase log is taken by the compact replay, which then hands
    the Monitor its open enactments only (the retired ones need no history at the end)."""
    flat = PROTOCOLS["purchase"]
    events = _events(flat, 3, 40)
    path = _write(tmp_path / "log.jsonl", events[:-1])  # the last enactment left open
    replay = Replay([flat], None, "send", {}, False, 10000)
    replay.feed(str(path), "native", None, None)
    compact = replay._compact
    assert compact is not None and compact.active and compact.taken == len(events) - 1
    assert compact.open and compact.closed and not replay.router.monitor("Purchase").open
    replay.settle()
    mon = replay.router.monitor("Purchase")
    assert not compact.active and len(mon.open) == 1 and not mon.closed and mon.complete_count == 39
    assert replay.result.complete == 39 and [f.code for f in mon.finish()] == ["CMP001"]


def test_the_monitor_takes_over_with_the_exact_state(tmp_path):
    """A duplicate of a retired enactment's message stops the compact replay: the Monitor
    then holds the same open and retired contexts (values, knowledge, sends, agents,
    lines) as a Monitor that replayed every event itself."""
    flat = PROTOCOLS["purchase"]
    events = _events(flat, 5, 12)
    first = next(e for e in events if e.message.endswith("rfq"))
    log = events + [first]
    path = _write(tmp_path / "log.jsonl", log)
    replay = Replay([flat], None, "send", {}, False, 10000)
    replay.feed(str(path), "native", None, None)
    assert replay._compact is not None and not replay._compact.active
    mon = replay.router.monitor("Purchase")
    ref = Monitor(flat, delivery="send")
    for ev in read(str(path), format="native"):
        assert isinstance(ev, Event)
        ref.apply(ev)
    assert replay.result.findings and [f.code for f in replay.result.findings] == ["DUP001"]

    def state(m: Monitor) -> list[Any]:
        return [[(k, c.values, c.bound_by, c.know, {n: (s.bindings, s.line, s.source, s.role, s.pending, s.new)
                                                     for n, s in c.sent.items()},
                  c.agents, c.nout, c.source, c.first_line, c.last_line, c.events, c.closed, c.pending)
                 for k, c in d.items()] for d in (m.open, m.closed)]

    assert state(mon) == state(ref) and mon.complete_count == ref.complete_count


def test_compact_replay_applies_to_plain_protocols_delivered_at_send_time():
    assert CompactSends.applies(Monitor(PROTOCOLS["purchase"]))
    assert CompactSends.applies(Monitor(PROTOCOLS["contract-net"]))
    assert not CompactSends.applies(Monitor(PROTOCOLS["purchase"], delivery="receive"))
    assert not CompactSends.applies(Monitor(PROTOCOLS["purchase"], fast_path=False))
    assert not CompactSends.applies(Monitor(PROTOCOLS["ahoy-logistics"]))  # several key sets


RECEIPT_TEXTS = [
    None,  # no receipt
    b'{"kind": "receive", "message": "Purchase/rfq", "sender": "Buyer", "recipients": ["Seller"], '
    b'"bindings": {"orderID": "x", "item": "y"}}',
    b'not json, but "kind":"receive" in it',
    b'{"kind"\n  :\n "receive"',  # a receipt pattern across lines
    b'{"kind": "send", "note": {"kind": "receive"}}',
    b'"kind"',  # a line that only starts the pattern
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), text=st.sampled_from(RECEIPT_TEXTS), at=st.integers(0, 10_000),
       ops=st.lists(event_ops, max_size=2),
       two=st.booleans())
def test_receipts_are_found_while_reading(tmp_path, seed, text, at, ops, two):
    """With no delivery given, an audit of native logs picks the delivery `_has_receipts`
    picks (receipts in any input: at receipt), though it reads the logs only once."""
    from protoverify.auditor.receipts import _has_receipts

    flat = PROTOCOLS["purchase"]
    lines = [orjson.dumps(to_native(e)) for e in damage(_events(flat, seed, 4), ops)]
    if text is not None:
        lines.insert(at % (len(lines) + 1), text)
    cut = len(lines) // 2 if two else len(lines)
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    paths[0].write_bytes(b"".join(x + b"\n" for x in lines[:cut]))
    paths[1].write_bytes(b"".join(x + b"\n" for x in lines[cut:]))
    names = [str(p) for p in paths]
    delivery = "receive" if any(_has_receipts(p, "native") for p in names) else "send"
    found = audit(flat, names, format="native", keep_closed=3)
    told = audit(flat, names, format="native", delivery=delivery, keep_closed=3)
    assert found.delivery == delivery
    assert _summary(found) == _summary(told)


@pytest.mark.parametrize("chunk", [37, 256, 1 << 18])
def test_chunks_and_over_long_lines(tmp_path, monkeypatch, chunk):
    """Lines across chunk boundaries and lines too long to read (the first or last of a
    chunk) are replayed as the reader reads them, and a receipt in an over-long line is
    still found (by a scan of the file)."""
    from protoverify.traces import _common
    from protoverify.traces import native_fast as fastnative

    monkeypatch.setattr(fastnative, "_CHUNK", chunk)
    monkeypatch.setattr(fastnative, "MAX_LINE", 400)
    monkeypatch.setattr(_common, "MAX_LINE", 400)
    flat = PROTOCOLS["purchase"]
    lines = [orjson.dumps(to_native(e)) for e in _events(flat, 11, 6)]
    long_send = orjson.dumps(to_native(with_fields(_events(flat, 12, 1)[0], bindings={"orderID": "o" * 500,
                                                                                "item": "x"})))
    long_receipt = b'{"kind": "receive", "note": "' + b"r" * 500 + b'"}'
    for extra in (long_send, long_receipt):
        for at in (0, 3, len(lines)):
            log = lines[:at] + [extra] + lines[at:]
            path = tmp_path / "log.jsonl"
            path.write_bytes(b"\n".join(log) + b"\n")
            found = audit(flat, [str(path)], format="native", keep_closed=2)
            if extra is long_send:
                assert found.delivery == "send"
                assert _summary(found) == _summary(_same_both_ways(flat, [path], 2))
            else:
                assert found.delivery == "receive"
                items = list(read(str(path), format="native"))
                assert _summary(found) == _summary(audit(flat, [items], delivery="receive", keep_closed=2))


def test_the_receipt_watch_keeps_no_lines(tmp_path):
    """Malformed lines the compact replay does not take (a hostile log may hold any
    number) are searched as they come and dropped: what the watch holds after many is
    what it holds after one, and a receipt after them is still found."""
    import tracemalloc

    from protoverify.auditor.receipts import _OVERLAP, _ReceiptsFound, _ReceiptWatch

    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"kind": "receive"}\n')

    def held(n: int) -> tuple[int, _ReceiptWatch]:
        tracemalloc.start()
        try:
            watch = _ReceiptWatch(str(path), True, True)
            before = tracemalloc.get_traced_memory()[0]
            for k in range(n):
                watch.line(b'{"malformed": %d, ' % k + b"x" * 20_000 + b'"kind"', False)
            return tracemalloc.get_traced_memory()[0] - before, watch
        finally:
            tracemalloc.stop()

    one, _ = held(1)
    many, watch = held(3000)  # 60 MB of lines
    assert many <= one + 1024
    assert watch.lines and not watch.rescan  # still searching line by line, no rescan needed
    assert len(watch.tail) <= _OVERLAP
    with pytest.raises(_ReceiptsFound):
        watch.line(b'  : "receive"', False)  # completes the pattern the last line started
