"""Hand-made protocols with known verdicts: Z3 back end, explorer, counterexamples."""
from __future__ import annotations

import pytest

from bench.families import chain, concurrent_replies, deadlocked_pair, independent_choices, races
from protoverify import flatten, load
from protoverify.prover import render_mermaid, render_text, verify
from protoverify.prover.explorer import explore
from protoverify.prover.rules import ReplayError, Rules, replay


def flat(text: str, name: str | None = None):
    spec = load(text)
    return flatten(spec, name or spec.protocols[-1].name)


def both(text: str, name: str | None = None):
    f = flat(text, name)
    return verify(f, timeout=10), explore(f)


PURCHASE_UNSAFE = """
Purchase Unsafe {
  roles Buyer, Seller
  parameters out id key, out item, out price, out done
  Buyer -> Seller: rfq[out id key, out item]
  Seller -> Buyer: quote[in id key, in item, out price]
  Buyer -> Seller: bid[in id key, in item, out price]
  Buyer -> Seller: pay[in id key, in price, out done]
}"""


def test_unsafe_two_roles_bind_price():
    r, x = both(PURCHASE_UNSAFE)
    assert r.safety.verdict == "unsafe" and not x.safe
    assert r.safety.parameter == "price" and r.safety.roles == ["Buyer", "Seller"]
    kinds = [(e["kind"], e["message"]) for e in r.safety.counterexample]
    # minimal: rfq, Seller receives rfq, quote, bid; no pay, no other reception
    assert sorted(kinds) == sorted([("send", "rfq"), ("receive", "rfq"), ("send", "quote"), ("send", "bid")])
    replay(Rules(flat(PURCHASE_UNSAFE)), r.safety.counterexample)
    assert r.liveness.verdict == "live"


def test_same_role_choice_is_safe():
    r, x = both(independent_choices(3))
    assert r.safety.verdict == "safe" and x.safe
    assert r.liveness.verdict == "live" and x.live
    assert r.enactable and all(r.enactable.values()) and r.enactable == x.enactable


def test_deadlocked_pair_is_nonlive_and_dead():
    r, x = both(deadlocked_pair())
    assert r.liveness.verdict == "nonlive" and not x.live
    assert r.liveness.missing == ["x", "y"]
    assert r.enactable == {"start": True, "m1": False, "m2": False}
    assert r.complete is False
    assert [e["message"] for e in r.liveness.counterexample] == ["start", "start"]
    assert r.liveness.disabled["m1"] == ["A does not know in y"]
    assert r.liveness.knowledge == {"A": ["id"], "B": ["id"]}


NIL_RACE = """
Nil {
  roles A, B
  parameters out id key, out x, out y
  A -> B: start[out id key]
  B -> A: cancel[in id key, out x, out y]
  A -> B: go[in id key, nil x, out y]
  B -> A: finish[in id key, in y, out x]
}"""


def test_nil_interaction():
    # go (nil x) races with cancel: B may bind y in cancel, A in go -> unsafe on y;
    # if cancel is delivered first go is disabled (A knows x)
    r, x = both(NIL_RACE)
    assert r.safety.verdict == "unsafe" and r.safety.parameter == "y" and not x.safe
    assert r.liveness.verdict == "live" and x.live


NIL_BLOCKS = """
Block {
  roles A, B
  parameters out id key, out x, out done
  A -> B: start[out id key]
  B -> A: veto[in id key, out x]
  A -> B: finish[in id key, nil x, out done]
}"""


def test_nil_blocks_completion():
    r, x = both(NIL_BLOCKS)
    # veto first: A knows x, so finish (nil x) is disabled, done never bound
    assert r.liveness.verdict == "nonlive" and not x.live
    assert r.liveness.missing == ["done"]
    assert "A knows nil x" in r.liveness.disabled["finish"]


def test_out_known_disables():
    text = """
Twice {
  roles A, B
  parameters out id key, out x, out done
  A -> B: start[out id key, out x]
  A -> B: again[in id key, out x, out done]
}"""
    r, x = both(text)
    assert r.enactable == {"start": True, "again": False} == x.enactable
    assert r.liveness.verdict == "nonlive"


PUBLIC_IN = """
Fulfil {
  roles C, S
  parameters in id key, in item, out done
  S -> C: deliver[in id key, in item, out done]
}"""


def test_public_in_parameters_come_from_outside():
    r, x = both(PUBLIC_IN)
    assert r.safety.verdict == "safe" and r.liveness.verdict == "live" and x.live
    assert r.enactable == {"deliver": True}


COMPOSED = """
Order {
  roles C, S
  parameters out id key, out item
  C -> S: order[out id key, out item]
}
Ship {
  roles S, P
  parameters in id key, in item, out tracking
  private label
  S -> P: pack[in id key, in item, out label]
  P -> S: sent[in id key, in label, out tracking]
}
Deal {
  roles Customer, Seller, Post
  parameters out id key, out thing, out tracking
  Order(Customer, Seller, out id key, out thing)
  Ship(Seller, Post, in id key, in thing, out tracking)
}"""


def test_composition_through_references():
    r, x = both(COMPOSED, "Deal")
    assert r.safety.verdict == "safe" and r.liveness.verdict == "live" and x.live
    assert all(r.enactable.values()) and len(r.enactable) == 3
    sub = verify(flat(COMPOSED, "Ship"))
    assert sub.liveness.verdict == "live"  # its in parameters come from outside


MULTIKEY = """
Multi Key {
  roles A, B
  parameters out id key, out sub key, out v
  A -> B: start[out id key]
  B -> A: item[in id key, out sub key]
  A -> B: setA[in id key, out v]
  B -> A: setB[in id key, in sub key, out v]
}"""


def test_multikey_unsafe_across_key_contexts():
    r, x = both(MULTIKEY)
    assert r.safety.verdict == "unsafe" and r.safety.parameter == "v" and not x.safe


def test_two_starters_are_separate_enactments():
    text = """
Start2 {
  roles A, B
  parameters out id key, out done
  A -> B: a[out id key]
  B -> A: b[out id key]
  A -> B: fin[in id key, out done]
}"""
    r, x = both(text)
    assert r.safety.verdict == "safe" and x.safe  # one enactment never holds both key bindings
    assert r.enactable == x.enactable == {"a": True, "b": True, "fin": True}
    # b starts an enactment A cannot finish until it receives b
    assert r.liveness.verdict == "live" == ("live" if x.live else "nonlive")


@pytest.mark.parametrize("text,safe,live", [
    (independent_choices(4, deadlock=True), True, False),
    (concurrent_replies(5), True, True),
    (races(2), False, True),
    (chain(6), True, True),
])
def test_families_agree_with_explorer(text, safe, live):
    r, x = both(text)
    assert (r.safety.verdict == "safe") == safe == x.safe
    assert (r.liveness.verdict == "live") == live == x.live
    assert r.enactable == x.enactable


def test_exhausted_budget_gives_unknown_not_a_hang():
    # liveness of 256 deadlocking choices takes Z3 some 10^7-10^8 resource units: with 1000 per
    # query it must give up (a resource limit, not a clock: the same under any load)
    r = verify(flat(independent_choices(256, deadlock=True)), timeout=600, rlimit=1000)
    assert r.liveness.verdict == "unknown"
    assert r.safety.verdict == "safe"  # no public out parameter with two binders: no query needed
    small = verify(flat(independent_choices(2, deadlock=True)), timeout=600, rlimit=10_000_000)
    assert small.liveness.verdict == "nonlive"


def test_rendering():
    r = verify(flat(PURCHASE_UNSAFE))
    text = render_text(r)
    assert "price is bound by Buyer and Seller" in text and "Seller -> Buyer: quote" in text
    mm = render_mermaid(r.safety.counterexample, "t")
    assert mm.startswith("sequenceDiagram") and "Buyer->>Seller: rfq" in mm


def test_accepts_protocol_and_name():
    spec = load(COMPOSED)
    assert verify(spec["Order"]).liveness.verdict == "live"
    assert verify("Deal", spec=spec).safety.verdict == "safe"
    with pytest.raises(ValueError):
        verify(spec["Order"], properties=["bogus"])


def test_public_in_without_key_is_never_linked():
    # the inputs' arrival carries no key token here (id is `out`), so it is linked to no
    # enactment: item is never usable, rfq is dead, nonlive {id, price}, as bspl 1.1.0 says
    text = """
Quote {
  roles B, S
  parameters out id key, in item, out price
  B -> S: rfq[out id key, in item]
  S -> B: quote[in id key, in item, out price]
}"""
    r, x = both(text)
    assert r.liveness.verdict == "nonlive" and not x.live
    assert r.enactable == x.enactable == {"rfq": False, "quote": False}
    assert r.liveness.disabled["rfq"] == ["B does not know in item (seen, but not linked to keys id)"]


def test_nil_on_unlinked_public_in_is_always_enabled():
    # p arrives at A but is linked to no enactment (no key token): start (nil p) never
    # sees it, go (in p) never can use it; start binds the key, so go stays dead
    text = """
NilIn {
  roles A, B
  parameters out id key, in p, out done
  A -> B: start[out id key, nil p]
  A -> B: go[out id key, in p, out done]
}"""
    r, x = both(text)
    assert r.enactable == x.enactable == {"start": True, "go": False}
    assert r.liveness.verdict == "nonlive" and not x.live
    kinds = [e["kind"] for e in r.liveness.counterexample]
    assert kinds.count("input") == 2  # in a stuck state every input has arrived
    assert r.liveness.knowledge["A"] == ["id", "p"]  # observed, though p is in no context


def test_nil_on_linked_public_in_is_dead():
    # with the key an input too, the arrival is linked, but it brings id and p together:
    # A never knows id without p, so start (in id, nil p) is dead; go completes
    text = """
NilIn {
  roles A, B
  parameters in id key, in p, out done
  A -> B: start[in id key, nil p, out done]
  A -> B: go[in id key, in p, out done]
}"""
    r, x = both(text)
    assert r.enactable == x.enactable == {"start": False, "go": True}
    assert r.liveness.verdict == "live" and x.live


LATE_INPUT = """
Late Input {
  roles A, B
  parameters in id key, in p0, out p2
  A -> B: m0[in id key, nil p0, out p2]
  B -> A: m4[in id key, out p2]
  B -> A: m5[in id key]
}"""


def test_late_external_input_is_unsafe():
    # tests/fixtures/bspl_divergences/late-external-input.bspl: A learns id from m5
    # before the inputs reach it, so it may send m0 (nil p0) while B sends m4: bspl agrees
    r, x = both(LATE_INPUT)
    assert r.safety.verdict == "unsafe" and r.safety.parameter == "p2" and not x.safe
    assert r.enactable == x.enactable == {"m0": True, "m4": True, "m5": True}
    ce = r.safety.counterexample
    assert [(e["kind"], e["role"]) for e in ce if e["kind"] == "input"] == [("input", "B")]
    assert "A" not in {e["role"] for e in ce if e["kind"] == "input"}  # A's inputs are late
    replay(Rules(flat(LATE_INPUT)), ce)
    text = render_text(r)
    assert "B receives input [in id, in p0] from External" in text
    mm = render_mermaid(ce, "t")
    assert "External->>B: input[in id, in p0]" in mm


def test_replay_rejects_a_second_arrival():
    rules = Rules(flat(LATE_INPUT))
    ev = {"kind": "input", "message": "input", "role": "A", "sender": "External",
          "recipients": ["A"], "params": ["in id", "in p0"]}
    replay(rules, [ev])
    with pytest.raises(ReplayError):
        replay(rules, [ev, ev])
    with pytest.raises(ReplayError):  # A knows neither id nor p0 yet
        replay(rules, [{"kind": "send", "message": "m0"}])
