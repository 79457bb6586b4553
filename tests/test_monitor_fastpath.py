"""The fast path changes nothing: `Monitor(fast_path=True)` and `Monitor(fast_path=False)`
give the same findings (codes, lines, texts, expected texts) and the same enactment
statuses on simulated logs (sends and, with delivery="receive", receives; with and
without the agents that play the roles, as the exchange's online Monitors see them),
on logs damaged event by event, and on logs damaged byte
by byte then read back (tests/helpers/faults.py), for protocols of one key and of
several keys (sub-enactments, key chains, public inputs)."""
from __future__ import annotations

import random
from typing import Any

import orjson
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from protoverify.bspl import flatten, load
from protoverify.monitor import Monitor
from protoverify.monitor.simulate import Simulator, to_native
from protoverify.traces.detect import read
from protoverify.traces.event import Event
from tests.audit.test_key_contexts import ORDERS, RELAY, RELAY_LIVE
from tests.helpers.events import damage, event_ops, with_fields
from tests.helpers.faults import damage_ops, mutate
from tests.helpers.paths import REPO

PACK = """
Pack {
  roles M, P
  parameters in orderID key, in note, out package
  M -> P: request[in orderID key, in note, out contents]
  P -> M: packed[in orderID key, in contents, out package]
}
"""


def _flat(text: str, name: str | None = None):
    s = load(text)
    return flatten(s, name or s.names[0])


PROTOCOLS = {
    "purchase": _flat((REPO / "specs" / "purchase.bspl").read_text()),
    "logistics": _flat((REPO / "specs" / "logistics.bspl").read_text(), "Logistics"),
    "ahoy-logistics": _flat((REPO / "tests" / "fixtures" / "ahoy" / "purchase-logistics.bspl").read_text(),
                            "Logistics"),
    "relay": _flat(RELAY),
    "relay-live": _flat(RELAY_LIVE),
    "orders": _flat(ORDERS),
    "pack": _flat(PACK),
    "contract-net": _flat((REPO / "specs" / "contract-net.bspl").read_text()),
}


def _both(flat, events: list[Event], delivery: str) -> tuple[list[Any], list[Any]]:
    out = []
    for fast in (True, False):
        statuses: list[Any] = []
        mon = Monitor(flat, delivery=delivery, keep_closed=3, on_status=statuses.append, fast_path=fast)
        found = [f for e in events for f in mon.apply(e)] + mon.finish()
        out.append((found, statuses, mon.complete_count, mon.incomplete_count))
    return out[0], out[1]


def _simulated(flat, seed: int, delivery: str, n: int) -> list[Event]:
    sim = Simulator(flat, random.Random(seed), delivery=delivery)
    return list(sim.enactments(n, concurrency=3))


@settings(max_examples=80, deadline=None)
@given(name=st.sampled_from(sorted(PROTOCOLS)), seed=st.integers(0, 2**16),
       delivery=st.sampled_from(["send", "receive"]), n=st.integers(1, 6),
       ops=st.lists(event_ops, max_size=6))
def test_fast_path_changes_nothing_on_simulated_and_damaged_logs(name, seed, delivery, n, ops):
    flat = PROTOCOLS[name]
    events = _simulated(flat, seed, delivery, n)
    fast, slow = _both(flat, events, delivery)
    assert fast == slow
    if name not in ("relay",):  # Relay is nonlive: its simulated logs end in deadlock findings
        assert fast[0] == [], [(f.code, f.line, f.text) for f in fast[0]]
    damaged = damage(events, ops)
    fast, slow = _both(flat, damaged, delivery)
    assert fast == slow, (name, [(f.code, f.line) for f in fast[0]], [(f.code, f.line) for f in slow[0]])


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(PROTOCOLS)), seed=st.integers(0, 2**16), ops=damage_ops)
def test_fast_path_changes_nothing_on_byte_damaged_logs(tmp_path_factory, name, seed, ops):
    flat = PROTOCOLS[name]
    events = _simulated(flat, seed, "send", 4)
    data = b"".join(orjson.dumps(to_native(e)) + b"\n" for e in events)
    path = tmp_path_factory.mktemp("log") / "log.jsonl"
    path.write_bytes(mutate(data, ops))
    try:
        read_back = [e for e in read(str(path), format="native") if isinstance(e, Event)]
    except Exception:  # a file damaged beyond a log: nothing to compare, draw another
        reject()
    fast, slow = _both(flat, read_back, "send")
    assert fast == slow


def test_one_key_set_protocols_use_the_plain_path():
    """The fast path is on where every message carries the same keys, off elsewhere."""
    assert Monitor(PROTOCOLS["purchase"])._plain and Monitor(PROTOCOLS["logistics"])._plain
    assert not Monitor(PROTOCOLS["purchase"], fast_path=False)._plain
    assert not Monitor(PROTOCOLS["ahoy-logistics"])._plain and not Monitor(PROTOCOLS["relay"])._plain
    assert Monitor(PROTOCOLS["purchase"]).index is None
    assert Monitor(PROTOCOLS["relay"]).index is not None


def _with_agents(events: list[Event], agent_ops: list[tuple[int, int]]) -> list[Event]:
    """Each event names its agent (one per role and enactment, as the exchange logs them);
    `agent_ops` then give some events another enactment's or role's agent (ROL003 cases)."""
    evs = []
    for e in events:
        role = e.sender if e.kind == "send" else (e.recipients[0] if e.recipients else e.sender)
        run = "-".join(str(v) for v in sorted(e.bindings.items())[:1])
        evs.append(with_fields(e, agent=f"{role}@{run}"))
    for i, j in agent_ops:
        if evs:
            i %= len(evs)
            evs[i] = with_fields(evs[i], agent=evs[j % len(evs)].agent)
    return evs


@settings(max_examples=80, deadline=None)
@given(name=st.sampled_from(sorted(PROTOCOLS)), seed=st.integers(0, 2**16), n=st.integers(1, 6),
       agent_ops=st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), max_size=3),
       ops=st.lists(event_ops, max_size=4))
def test_receive_fast_path_changes_nothing_with_agents(name, seed, n, agent_ops, ops):
    """Receives of logs with agents (the receive fast path checks the receiving agent's role)."""
    flat = PROTOCOLS[name]
    events = _with_agents(_simulated(flat, seed, "receive", n), agent_ops)
    fast, slow = _both(flat, events, "receive")
    assert fast == slow, (name, [(f.code, f.line) for f in fast[0]], [(f.code, f.line) for f in slow[0]])
    damaged = damage(events, ops)
    fast, slow = _both(flat, damaged, "receive")
    assert fast == slow, (name, [(f.code, f.line) for f in fast[0]], [(f.code, f.line) for f in slow[0]])


def test_conformant_receives_take_the_fast_path():
    """On a plain protocol every receive of a clean simulated log is applied by `_receive_plain`."""
    flat = PROTOCOLS["contract-net"]
    events = _simulated(flat, 7, "receive", 5)
    mon = Monitor(flat, delivery="receive")
    taken = 0
    for e in events:
        rule = mon.rule(e.message)
        if e.kind == "receive":
            assert rule is not None and mon._receive_plain(e, rule), e
            taken += 1
        else:
            assert mon.apply(e) == []
    assert taken > 0 and mon.finish() == []
