"""`linked_bindings` (the Monitor's reading of the key-context rule, over an index) is
`linked` whenever one value per name makes the two comparable, and its one refinement
(an observation carrying a seed key with another value is not linked) is what keeps
two items of one order apart."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protoverify.enactment import linked, linked_bindings

NAMES = ("k0", "k1", "k2", "k3")
token_sets = st.lists(st.frozensets(st.sampled_from(NAMES), max_size=3), max_size=8)


def _index(observations: list[tuple[int, frozenset[tuple[str, str]]]]):
    by: dict[tuple[str, str], list[tuple[int, frozenset[tuple[str, str]]]]] = {}
    for o in observations:
        for t in o[1]:
            by.setdefault(t, []).append(o)
    return lambda t: by.get(t, ())


@given(obs=token_sets, seed=st.frozensets(st.sampled_from(NAMES), max_size=2))
def test_one_value_per_name_is_linked(obs, seed):
    names = list(enumerate(obs))
    want = {i for i, _ in linked(seed, names, lambda o: o[1])}
    bound = [(i, frozenset((k, "v") for k in ts)) for i, ts in names]
    got = {i for i, _ in linked_bindings({k: "v" for k in seed}, _index(bound), lambda o: o[1])}
    assert got == want


@given(obs=st.lists(st.frozensets(st.tuples(st.sampled_from(NAMES), st.sampled_from("ab")), max_size=3),
                    max_size=8),
       seed=st.dictionaries(st.sampled_from(NAMES), st.sampled_from("ab"), max_size=2))
def test_linked_bindings_is_a_fixpoint_that_respects_the_seed(obs, seed):
    bound = list(enumerate(obs))
    got = linked_bindings(seed, _index(bound), lambda o: o[1])
    hit = {i for i, _ in got}
    tokens = set(seed.items()) | {t for _, ts in got for t in ts}
    for i, ts in bound:
        agrees = all(seed.get(k, v) == v for k, v in ts)
        # closed: every agreeing observation sharing a token with the linked set is in it
        if agrees and ts & tokens:
            assert i in hit
        # sound: nothing linked disagrees with the seed, or shares nothing
        if i in hit:
            assert agrees and ts & tokens
    # order-independent
    again = linked_bindings(seed, _index(list(reversed(bound))), lambda o: o[1])
    assert {i for i, _ in again} == hit


def test_items_of_one_order_stay_apart():
    order = (0, frozenset({("orderID", "o1")}))
    item1 = (1, frozenset({("orderID", "o1"), ("itemID", "i1")}))
    item2 = (2, frozenset({("orderID", "o1"), ("itemID", "i2")}))
    got = linked_bindings({"orderID": "o1", "itemID": "i2"}, _index([order, item1, item2]), lambda o: o[1])
    assert sorted(i for i, _ in got) == [0, 2]
