"""The key-context rule in the verifier: explorer, Z3, replay and counterexample text agree."""
from __future__ import annotations

import pytest

from protoverify import flatten, load
from protoverify.prover import render_mermaid, render_text, verify
from protoverify.prover.explorer import explore
from protoverify.prover.rules import ReplayError, Rules, replay
from tests.helpers.paths import REPO

DIV = REPO / "tests" / "fixtures" / "bspl_divergences"


def flat_of(text: str):
    spec = load(text)
    return flatten(spec, spec.protocols[0])


def both(text: str):
    f = flat_of(text)
    return verify(f, timeout=10), explore(f), Rules(f)


RELAY = (DIV / "relay.bspl").read_text(encoding="utf-8")


def test_relay_is_nonlive_close_dead_and_fetch_enabled():
    r, x, rules = both(RELAY)
    assert r.liveness.verdict == "nonlive" and not x.live
    assert r.enactable == x.enactable == {"ask": True, "fetch": True, "reply": True, "close": False}
    assert r.liveness.disabled["close"] == ["A does not know in answer (seen, but not linked to keys id)"]
    assert r.liveness.knowledge["A"] == ["answer", "data", "id", "q"]  # observed, not all linked


def test_relay_counterexample_shows_the_keys_each_message_carries():
    r, _, rules = both(RELAY)
    ev = {e["message"]: e["keys"] for e in r.liveness.counterexample if e["kind"] == "send"}
    assert ev == {"ask": ["id", "q"], "fetch": ["q", "data"], "reply": ["data"]}
    text = render_text(r)
    assert "C -> A: reply[in data, out answer]  keys: data" in text
    assert "A receives reply from C  keys: data" in text
    assert "reply[in data, out answer] keys data" in render_mermaid(r.liveness.counterexample)
    replay(rules, r.liveness.counterexample)  # a valid enactment


def test_keyed_chain_links_through_q_and_is_live():
    r, x, _ = both((DIV / "keyed-relay.bspl").read_text(encoding="utf-8"))
    assert r.liveness.verdict == "live" and x.live and all(r.enactable.values())


@pytest.mark.parametrize("fixture,live", [("nonkey-link.bspl", False), ("link-fixpoint.bspl", True)])
def test_departure_fixtures(fixture: str, live: bool):
    r, x, _ = both((DIV / fixture).read_text(encoding="utf-8"))
    assert x.live is live and r.liveness.verdict == ("live" if live else "nonlive")


def test_context_is_a_fixpoint_whatever_the_order_of_arrival():
    # B receives first (token k, carries y) before second (tokens id, k): third (key id)
    # still knows y; replay accepts the order that bspl's one-pass scan would refuse
    rules = Rules(flat_of((DIV / "link-fixpoint.bspl").read_text(encoding="utf-8")))
    m = rules.by_name
    for order in ([("first", "B"), ("second", "B")], [("second", "B"), ("first", "B")]):
        sent = {m["first"].index, m["second"].index}
        received = {(m[n].index, r) for n, r in order}
        assert rules.knows(m["third"], sent, received) == {"id", "k", "y"}


def test_replay_refuses_a_send_outside_its_context():
    rules = Rules(flat_of(RELAY))
    from protoverify.prover.result import receive_event, send_event

    m = rules.by_name
    events = [send_event(m["ask"]), receive_event(m["ask"], "B"), send_event(m["fetch"]),
              receive_event(m["fetch"], "C"), send_event(m["reply"]), receive_event(m["reply"], "A"),
              send_event(m["close"])]
    with pytest.raises(ReplayError, match="close not enabled: A does not know in answer"):
        replay(rules, events)


def test_keyed_input_links_the_arrival():
    # the arrival carries the token id: the non-key input item is usable for id
    text = """
Quote {
  roles B, S
  parameters in id key, in item, out price
  B -> S: rfq[in id key, in item]
  S -> B: quote[in id key, in item, out price]
}"""
    r, x, _ = both(text)
    assert r.liveness.verdict == "live" and x.live and all(r.enactable.values())


def test_input_key_bridges_two_keys():
    # the arrival brings k1 and k2 together: at A, m1 (token k2, carries x) is linked to
    # m2's key k1 only through the arrival
    text = """
Bridge {
  roles A, B
  parameters in k1 key, in k2 key, out x, out done
  B -> A: m1[in k2 key, out x]
  A -> B: m2[in k1 key, in x, out done]
}"""
    r, x, rules = both(text)
    assert r.liveness.verdict == "live" and x.live and all(r.enactable.values())
    m = rules.by_name
    assert rules.knows(m["m2"], {0}, {(0, "A")}) == set()  # before the inputs arrive
    assert rules.knows(m["m2"], {0}, {(0, "A")}, {"A"}) >= {"x", "k1", "k2"}


def test_sub_enactment_does_not_see_the_parent_value_it_does_not_carry():
    # A binds v keyed by id and sub; its check message keyed by sub alone cannot read v
    # through an observation keyed by id alone
    text = """
Sub {
  roles A, B
  parameters out id key, out sub key, out v, out done
  A -> B: open[out id key, out v]
  A -> B: item[out sub key]
  A -> B: close[in sub key, in v, out done]
}"""
    r, x, _ = both(text)
    assert r.enactable == x.enactable == {"open": True, "item": True, "close": False}
    assert r.liveness.verdict == "nonlive" and not x.live
