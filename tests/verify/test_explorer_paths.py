"""The explorer's path to any state it reached replays, step by step, to exactly that state."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from protoverify.prover.explorer import explore, path_to
from protoverify.prover.rules import Rules, replay
from tests.helpers.strategies import flat_protocols


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat=flat_protocols())
def test_paths_to_stuck_and_unsafe_states_replay_exactly(flat):
    rules = Rules(flat)
    res = explore(rules, max_states=20_000)
    # the last states reached (deepest, in breadth-first order) too, so that no example checks nothing
    targets = list(res.stuck[:5]) + list(res.unsafe.values()) + list(res.parents)[-3:]
    assert targets, "the explorer reached no state beyond the start"
    for state in targets:
        assert replay(rules, path_to(res, state)) == state
