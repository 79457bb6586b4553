"""Z3 against the explicit-state explorer on random protocols: same verdicts, replayable counterexamples."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from protoverify.prover import verify
from protoverify.prover.explorer import explore
from protoverify.prover.rules import Rules, replay
from tests.helpers.strategies import bspl_protocols, flat_protocols


def agree(flat) -> None:
    rules = Rules(flat)
    ref = explore(rules)
    assert not ref.truncated
    got = verify(flat, timeout=20)
    text = f"\n{flat.name}: explorer safe={ref.safe} live={ref.live} enactable={ref.enactable}; z3 {got.summary()}"
    assert got.safety.verdict == ("safe" if ref.safe else "unsafe"), text
    assert got.liveness.verdict == ("live" if ref.live else "nonlive"), text
    assert got.enactable == ref.enactable, text
    assert got.complete == ref.complete, text
    if got.safety.verdict == "unsafe":
        p = got.safety.parameter
        assert p in ref.unsafe, text
        sent, _, _ = replay(rules, got.safety.counterexample)
        assert len({m.sender for m in rules.binders[p] if m.index in sent}) > 1
    if got.liveness.verdict == "nonlive":
        state = replay(rules, got.liveness.counterexample)
        assert state in ref.stuck, text  # a reachable stuck state, all delivered and arrived


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.filter_too_much])


@SETTINGS
@given(flat_protocols())
def test_z3_agrees_with_explorer(flat):
    agree(flat)


@SETTINGS
@given(flat_protocols(multikey=True))
def test_z3_agrees_with_explorer_on_key_contexts(flat):
    """2-3 key parameters, sub-enactments, relay chains, keyed and unkeyed inputs."""
    agree(flat)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(flat_protocols(max_messages=7, max_params=5, multikey=True))
def test_z3_agrees_with_explorer_on_key_contexts_many(flat):
    agree(flat)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(flat_protocols(max_messages=7, max_params=5))
def test_z3_agrees_with_explorer_many(flat):
    agree(flat)


@settings(max_examples=30, deadline=None)
@given(bspl_protocols() | bspl_protocols(multikey=True))
def test_generator_yields_wellformed_text(text):
    from protoverify.bspl import parse, validate

    spec = parse(text, "<generated>")
    assert not [d for d in validate(spec, text) if d.severity == "error"], text
