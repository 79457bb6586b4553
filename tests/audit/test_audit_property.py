"""Property tests: random conformant enactments audit clean; one mutation is reported at its line."""
from __future__ import annotations

import random

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.audit import PURCHASE
from protoverify.audit.driver import audit
from protoverify.bspl import flatten, load
from protoverify.monitor.simulate import Simulator, to_native

FLAT = flatten(load(PURCHASE), "Purchase")


def _events(seed: int, n: int, delivery: str):
    sim = Simulator(FLAT, random.Random(seed), delivery=delivery)
    return [to_native(e) for e in sim.enactments(n, concurrency=3)]


def _audit(tmp_path, records, delivery):
    p = tmp_path / f"sim-{random.random()}.jsonl"
    p.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return audit(PURCHASE, [p], delivery=delivery)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(seed=st.integers(0, 10**6), n=st.integers(1, 6), delivery=st.sampled_from(["send", "receive"]))
def test_simulated_enactments_are_conformant(tmp_path, seed, n, delivery):
    recs = _events(seed, n, delivery)
    r = _audit(tmp_path, recs, delivery)
    assert list(r) == [], [f"{f.code} {f.line} {f.text}" for f in r][:5]
    assert r.complete == n and r.incomplete == 0


MUTATIONS = {
    "rename": "record", "drop_param": "record", "extra_param": "record", "sender": "role",
    "in_value": "causality", "duplicate": "duplication", "conflict_dup": "duplication",
}


def _mutate(recs, kind, rng):
    sends = [i for i, r in enumerate(recs) if r["kind"] == "send"]
    if kind == "in_value":
        cands = [i for i in sends if recs[i]["message"].endswith(("accept", "ship", "deliver", "reject"))]
        i = rng.choice(cands)
        p = next(p for p in ("price", "item", "address", "shipment") if p in recs[i]["bindings"]
                 and FLAT.message(recs[i]["message"]).adornment(p) == "in")
        recs[i] = {**recs[i], "bindings": {**recs[i]["bindings"], p: "HALLUCINATED"}}
        return recs, i + 1
    i = rng.choice(sends)
    r = dict(recs[i])
    if kind == "rename":
        r["message"] = "Purchase/haggle"
    elif kind == "drop_param":
        b = dict(r["bindings"])
        b.pop(next(k for k in b if k != "orderID"))
        r["bindings"] = b
    elif kind == "extra_param":
        r["bindings"] = {**r["bindings"], "coupon": 5}
    elif kind == "sender":
        r["sender"] = next(x for x in FLAT.roles if x != r["sender"])
    elif kind in ("duplicate", "conflict_dup"):
        dup = dict(r)
        if kind == "conflict_dup":
            b = dict(r["bindings"])
            p = next(k for k in b if k != "orderID")
            b[p] = "OTHER"
            dup["bindings"] = b
        recs.insert(i + 1, dup)
        return recs, i + 2
    recs[i] = r
    return recs, i + 1


@SETTINGS
@given(seed=st.integers(0, 10**6), n=st.integers(1, 4), kind=st.sampled_from(sorted(MUTATIONS)),
       delivery=st.sampled_from(["send", "receive"]))
def test_one_mutation_is_reported_at_its_line(tmp_path, seed, n, kind, delivery):
    recs, line = _mutate(_events(seed, n, delivery), kind, random.Random(seed))
    r = _audit(tmp_path, recs, delivery)
    hits = [f for f in r if f.line == line and f.family == MUTATIONS[kind] and f.severity != "info"]
    assert hits, (kind, line, [f"{f.code} {f.line} {f.text}" for f in r][:8])
