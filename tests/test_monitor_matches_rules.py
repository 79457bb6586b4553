"""One set of rules: the Monitor (audit) and the verifier's `Rules` agree on what may be sent.

(a) Random enactments driven by the Monitor's own simulator (receive mode: recipients
    learn at receipt): after every event, for every role, the messages the Monitor says
    the role may send in the enactment equal the messages `Rules.enabled` allows for the
    same history (sends and receptions so far).
(b) Every complete, quiescent, safe state the explorer's search reaches (an enactment with
    every public `out` bound and every message received) replays through the Monitor, along
    the explorer's own (shortest) path to it, with no error finding and no completion finding.

Public `in` parameters are excluded (`assume`): the verifier models them as arriving
asynchronously from an implicit External role, while the Monitor expects the enclosing
protocol (or the log) to bind them and the simulator refuses such protocols. That is a
deliberate difference of scope, not of rules.
"""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protoverify.monitor.monitor import Monitor
from protoverify.monitor.simulate import Simulator
from protoverify.traces.event import Event
from protoverify.verify.explorer import explore, path_to
from protoverify.verify.rules import Rules
from tests.helpers.strategies import flat_protocols

RUN = "sim"


def _rules_enabled(rules: Rules, sent: set[int], received: set[tuple[int, str]]) -> dict[str, set[str]]:
    k = rules.knowledge(sent, received)
    bound = rules.bound(sent)
    out: dict[str, set[str]] = {r: set() for r in rules.roles}
    for m in rules.messages:
        # Deliberate difference: the Monitor offers only conformant sends, so it also
        # excludes a message whose `out` parameter another role already bound (sending it
        # would be INT001). `Rules` tests local knowledge only, so that unsafe protocols
        # reach their unsafe states. The two agree once that global check is added.
        if rules.enabled(m, sent, k[m.sender], bound) and not (m.outs & bound):
            out[m.sender].add(m.name)
    return out


def _monitor_enabled(mon: Monitor, ctx, roles) -> dict[str, set[str]]:
    return {r: {e.message.rsplit("/", 1)[-1] for e in mon.enabled(RUN, ctx, r)} for r in roles}


def _check_simulated(flat, seed: int) -> None:
    rules = Rules(flat)
    sim = Simulator(flat, random.Random(seed), delivery="receive", run=RUN)
    mon = sim.monitor
    idx = {m.name: m.index for m in rules.messages}
    sent: set[int] = set()
    received: set[tuple[int, str]] = set()
    # before anything: a new enactment
    assert _monitor_enabled(mon, None, rules.roles) == _rules_enabled(rules, sent, received)
    if not any(_rules_enabled(rules, sent, received).values()):
        return  # nothing can start an enactment (both agree, checked above)
    ctx = None
    for ev in sim.enactments(1, concurrency=1):
        name = ev.message.rsplit("/", 1)[-1]
        if ev.kind == "send":
            sent.add(idx[name])
        else:
            received.update((idx[name], r) for r in ev.recipients)
        if ctx is None:
            ctx = mon.context(RUN, {k: ev.bindings[k] for k in mon.rule(ev.message).keys})
            assert ctx is not None
        got, want = _monitor_enabled(mon, ctx, rules.roles), _rules_enabled(rules, sent, received)
        assert got == want, (flat.name, ev, got, want)


def _no_public_ins(flat) -> bool:
    return not flat.ins


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(flat=flat_protocols(), seed=st.integers(0, 2**16))
def test_monitor_enabled_equals_rules_enabled(flat, seed):
    assume(_no_public_ins(flat))
    _check_simulated(flat, seed)


def _complete_runs(rules: Rules, limit: int) -> list[list[dict]]:
    """Runs (explorer's breadth-first paths) to reachable states that are complete (every
    public out bound), quiescent (every message received) and safe (no parameter bound by
    two roles: those are the explorer's unsafe states, which the Monitor rightly flags INT001)."""
    res = explore(rules, max_states=20_000)
    found = []
    for sent, received, arrived in res.parents:
        bound = rules.bound(sent)
        pending = [(i, r) for i in sent for r in rules.messages[i].recipients if (i, r) not in received]
        if not pending and all(p in bound for p in rules.public_outs) and all(
                len({m.sender for m in ms if m.index in sent}) <= 1 for ms in rules.binders.values()):
            found.append(path_to(res, (sent, received, arrived)))
            if len(found) >= limit:
                break
    return found


def _replay(flat, rules: Rules, events: list[dict]) -> list:
    mon = Monitor(flat, delivery="receive")
    vals = {p: f"{p}-v" for m in rules.messages for p in m.carried}
    findings = []
    for n, e in enumerate(events, 1):
        m = rules.by_name[e["message"]]
        ev = Event(kind=e["kind"], message=f"{flat.name}/{m.name}", sender=m.sender,
                   recipients=tuple(e["recipients"]), bindings={p: vals[p] for p in m.carried},
                   source="<explorer>", line=n, run=RUN, protocol=flat.name)
        findings += mon.apply(ev)
    findings += mon.finish()
    return findings


def _check_explored(flat, limit: int) -> None:
    rules = Rules(flat)
    for events in _complete_runs(rules, limit):
        bad = [f for f in _replay(flat, rules, events) if f.severity == "error" or f.family == "completion"]
        assert not bad, (events, [(f.code, f.line, f.text) for f in bad])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(flat=flat_protocols())
def test_explored_complete_runs_replay_cleanly(flat):
    assume(_no_public_ins(flat))
    _check_explored(flat, limit=10)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(flat=flat_protocols(max_messages=8, max_params=4), seed=st.integers(0, 2**16))
def test_monitor_matches_rules_many(flat, seed):
    assume(_no_public_ins(flat))
    _check_simulated(flat, seed)
    _check_explored(flat, limit=50)
