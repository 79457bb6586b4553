"""One rule: the Monitor's `enabled` is `protoverify.enactment`'s rule, on bindings.

(a) Random enactments of generated protocols with several keys (sub-enactments, key
    chains, keys carried without being declared, public inputs: tests/helpers/keyed.py)
    and of the single-key generator (tests/helpers/strategies.py), driven through the
    Monitor in receive mode (recipients learn at receipt). After every event, for every
    role, the messages the Monitor says the role may send in the run equal the messages
    the rule allows on *names* over the explicit history: knowledge is `linked` over the
    role's observations so far (its sends, its receptions, and the arrival of the public
    inputs for an input role, there from the start), then `is_enabled`. The Monitor adds
    one check of its own, stated here on names with the rule: an offer never binds an
    `out` that a message linked to it (by anyone's key bindings) already bound (that
    send would be INT001). The run is kept to one enactment (one value per name): the
    driver never takes an offer that binds afresh a key parameter already bound (on
    bindings it starts another enactment with a new key value; such an offer must be
    there whenever the rule on names enables its message); and a message whose keys are
    inputs is a new enactment's only until a message shows the input key's value.
(b) Every complete, quiescent, safe state the explorer's search reaches (an enactment with
    every public `out` bound and every message received) replays through the Monitor, along
    the explorer's own (shortest) path to it, with no error finding and no completion finding.
    (b) reads `verify.rules.Rules`, so its protocols stay those whose enactments the verifier
    and the Monitor read alike whatever the verifier's key-context rule: one key carried by
    every message, no public `in` parameter.
"""
from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protoverify.enactment import input_roles, is_enabled, key_parameters, linked, shapes
from protoverify.monitor.monitor import Enabled, Monitor
from protoverify.prover.explorer import explore, path_to
from protoverify.prover.rules import Rules
from protoverify.traces.event import Event
from tests.helpers.keyed import flat_keyed_protocols
from tests.helpers.strategies import flat_protocols

RUN = "sim"


class History:
    """The explicit history on names: what was sent, who observed what, what is bound."""

    def __init__(self, flat) -> None:
        self.shapes = shapes(flat)
        self.by_name = {m.name: m for m in self.shapes}
        self.keyparams = key_parameters(flat)
        self.roles = tuple(dict.fromkeys([*flat.roles, *(r for m in self.shapes for r in (m.sender, *m.recipients))]))
        self.sent: set[int] = set()
        self.bound: set[str] = set()
        self.shown: set[str] = set()  # parameters some sent message carried
        ins = frozenset(flat.ins)
        #: per role: observations as (tokens, carried); the inputs' arrival from the start
        self.obs: dict[str, list[tuple[frozenset[str], frozenset[str]]]] = {r: [] for r in self.roles}
        for r in input_roles(flat):
            self.obs[r].append((ins & self.keyparams, ins))

    def observe(self, role: str, name: str) -> None:
        m = self.by_name[name]
        self.obs[role].append((m.links, frozenset(m.carried)))

    def send(self, name: str) -> None:
        m = self.by_name[name]
        self.sent.add(m.index)
        self.bound |= m.outs
        self.shown.update(m.carried)
        self.observe(m.sender, name)

    def knows(self, m) -> set[str]:
        obs = self.obs[m.sender]
        hit = obs if not self.keyparams else linked(m.keys, obs, lambda o: o[0])
        return set().union(*(c for _, c in hit)) if hit else set()

    def bound_for(self, m) -> set[str]:
        """Outs bound in m's enactment: by the sent messages linked to m's keys (anyone's)."""
        sent = [s for s in self.shapes if s.index in self.sent]
        hit = sent if not self.keyparams else linked(m.keys, sent, lambda s: s.links)
        return set().union(*(s.outs for s in hit)) if hit else set()

    def enabled(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {r: set() for r in self.roles}
        keys_bound = self.bound & self.keyparams
        for m in self.shapes:
            if is_enabled(m, self.knows(m), sent=m.index in self.sent, keys_bound=keys_bound) \
                    and not (m.outs & self.bound_for(m)):
                out[m.sender].add(m.name)
        return out


def _offers(mon: Monitor, hist: History) -> tuple[list[Enabled], list[Enabled]]:
    """The Monitor's offers in the run: those of this enactment, and those that bind
    afresh a key parameter already bound (on bindings: another enactment)."""
    ctxs = list(mon.contexts())
    here: list[Enabled] = []
    other: list[Enabled] = []
    for r in hist.roles:
        # a message whose keys are inputs: offered as a new enactment until a message of the
        # run shows the input key's value; from then on it is offered in the run's contexts
        news = [e for e in mon.enabled(RUN, None, r) if not (mon.rule(e.message).in_keys & hist.shown)]
        for e in news + [e for c in ctxs for e in mon.enabled(RUN, c, r)]:
            to = other if set(e.fill) & hist.keyparams & hist.bound else here
            if e not in to:
                to.append(e)
    return here, other


def _names(offers: list[Enabled], roles) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {r: set() for r in roles}
    for e in offers:
        out[e.role].add(e.message.rsplit("/", 1)[-1])
    return out


def _check_enactment(flat, seed: int, max_steps: int = 40) -> int:
    """Drive one enactment at random; compare after every event. Returns the events applied."""
    rng = random.Random(seed)
    mon = Monitor(flat, delivery="receive")
    hist = History(flat)
    values: dict[str, Any] = {}
    inflight: list[tuple[str, str, dict[str, Any]]] = []
    line = 0
    for _ in range(max_steps):
        offers, other = _offers(mon, hist)
        got, want = _names(offers, hist.roles), hist.enabled()
        # an offer binding a bound key afresh: on names the same message rebinds the key in
        # this enactment, which the rule decides; the Monitor offers it (as another) anyway
        for r, names in _names(other, hist.roles).items():
            got[r] |= names & want[r]
        assert got == want, (line, got, want)
        if not offers and not inflight:
            return line
        line += 1
        if inflight and (not offers or rng.random() < 0.4):
            name, r, b = inflight.pop(rng.randrange(len(inflight)))
            m = hist.by_name[name]
            ev = Event(kind="receive", message=name, sender=m.sender, recipients=(r,), bindings=b,
                       source="<t>", line=line, run=RUN)
            hist.observe(r, name)
        else:
            e = rng.choice(offers)
            m = hist.by_name[e.message.rsplit("/", 1)[-1]]
            b = dict(e.bound)
            for p in (*e.inputs, *e.fill):
                b[p] = values.setdefault(p, f"{p}-v")  # one value per name
            b = {p: b[p] for p in m.carried}
            ev = Event(kind="send", message=m.name, sender=m.sender, recipients=m.recipients, bindings=b,
                       source="<t>", line=line, run=RUN)
            values.update(b)
            hist.send(m.name)
            inflight += [(m.name, r, b) for r in m.recipients]
        found = mon.apply(ev)
        assert not found, [(f.code, f.text) for f in found]
    return line


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(flat=flat_keyed_protocols(), seed=st.integers(0, 2**16))
def test_monitor_enabled_is_the_rule_on_keyed_protocols(flat, seed):
    _check_enactment(flat, seed)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(flat=flat_protocols(), seed=st.integers(0, 2**16))
def test_monitor_enabled_is_the_rule_on_single_key_protocols(flat, seed):
    _check_enactment(flat, seed)


def _no_public_ins(flat) -> bool:
    return not flat.ins


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
@given(flat=flat_keyed_protocols(max_messages=8), seed=st.integers(0, 2**16))
def test_monitor_matches_rules_many(flat, seed):
    _check_enactment(flat, seed, max_steps=80)
