"""Property tests: conformant enactments audit clean; one mutation is reported at its line.

The enactments come from the verifier's rules (`protoverify.prover.rules.Rules`), not
from the Monitor that judges them: a random maximal run (sends, and receptions in any
order), checked step by step with the verifier's `replay`, then written as a native
log with fresh values for every `out` parameter of every enactment.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protoverify.auditor.driver import AuditResult, audit
from protoverify.bspl import FlatProtocol, flatten, load
from protoverify.prover.result import receive_event, send_event
from protoverify.prover.rules import History, Msg, Rules, replay
from tests.helpers.audit import PURCHASE
from tests.helpers.oracle import read_expectations
from tests.helpers.paths import SPECS

FLAT = flatten(load(PURCHASE), "Purchase")


def _live_protocols() -> list[tuple[Path, str]]:
    """The shipped protocols that are safe and live and take no inputs from outside."""
    out = []
    for path in sorted(SPECS.glob("*.bspl")):
        spec = load(path)
        for name, e in read_expectations(path).items():
            if (e["safety"], e["liveness"]) == ("safe", "live") and not Rules(flatten(spec, name)).inputs:
                out.append((path, name))
    return out


LIVE = _live_protocols()
FLATS = {(p, n): flatten(load(p), n) for p, n in LIVE}


def _run(rules: Rules, rng: random.Random, receipts_at_send: bool) -> list[tuple[Msg, str | None]]:
    """One maximal enactment: (message, None) for a send, (message, role) for a reception."""
    h = History(rules)  # the verifier's incremental knowledge, per key context
    pending: list[tuple[Msg, str]] = []
    steps: list[tuple[Msg, str | None]] = []
    while True:
        sends = [m for m in rules.messages if h.enabled(m)]
        if not sends and not pending:
            break
        pick = rng.randrange(len(sends) + len(pending))
        if pick < len(sends):
            m = sends[pick]
            h.send(m)
            steps.append((m, None))
            pending.extend((m, r) for r in m.recipients)
            if not receipts_at_send:
                continue
            picks = range(len(pending) - len(m.recipients), len(pending))
        else:
            picks = range(pick - len(sends), pick - len(sends) + 1)
        for m, r in [pending[i] for i in picks]:
            h.receive(m.index, r)
            steps.append((m, r))
        del pending[picks.start:picks.stop]
    # the verifier's own check of the run, and of its end: every public out bound
    replay(rules, [send_event(m) if r is None else receive_event(m, r) for m, r in steps])
    assert set(rules.public_outs) <= h.bound, (rules.name, sorted(set(rules.public_outs) - h.bound))
    return steps


def _records(flat: FlatProtocol, rng: random.Random, n: int, delivery: str) -> list[dict[str, Any]]:
    """`n` interleaved enactments as native records (receptions only when delivery is "receive")."""
    rules = Rules(flat)
    runs = []
    for k in range(n):
        values: dict[str, str] = {}
        recs = []
        for m, r in _run(rules, rng, receipts_at_send=delivery == "send"):
            if r is not None and delivery == "send":
                continue
            if r is None:
                for p in m.outs:
                    values[p] = f"{p}-{k}-{rng.randrange(10**6)}"  # fresh, per enactment
            recs.append({"kind": "send" if r is None else "receive",
                         "message": f"{flat.name}/{m.name}", "sender": m.sender,
                         "recipients": list(m.recipients) if r is None else [r],
                         "bindings": {p: values[p] for p in m.carried}})
        runs.append(recs)
    out: list[dict[str, Any]] = []
    while any(runs):
        run = rng.choice([x for x in runs if x])
        out.append(run.pop(0))
    return out


def _audit(tmp_path: Path, spec: Path, protocol: str, records: list[dict[str, Any]],
           delivery: str) -> AuditResult:
    p = tmp_path / f"log-{random.random()}.jsonl"
    p.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return audit(spec, [p], protocol=protocol, delivery=delivery)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


def test_protocols_under_test() -> None:
    assert {n for _, n in LIVE} >= {"Purchase", "NetBill", "Contract Net"}


@pytest.mark.parametrize("spec,protocol", LIVE, ids=[n for _, n in LIVE])
@SETTINGS
@given(rng=st.randoms(use_true_random=False), n=st.integers(1, 5),
       delivery=st.sampled_from(["send", "receive"]))
def test_conformant_enactments_audit_clean(tmp_path, spec, protocol, rng, n, delivery):
    recs = _records(FLATS[(spec, protocol)], rng, n, delivery)
    r = _audit(tmp_path, spec, protocol, recs, delivery)
    assert list(r) == [], [f"{f.code} {f.line} {f.text}" for f in r][:5]
    assert r.complete == n and r.incomplete == 0 and r.events == len(recs)


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
@given(rng=st.randoms(use_true_random=False), n=st.integers(1, 4), kind=st.sampled_from(sorted(MUTATIONS)),
       delivery=st.sampled_from(["send", "receive"]))
def test_one_mutation_is_reported_at_its_line(tmp_path, rng, n, kind, delivery):
    recs, line = _mutate(_records(FLAT, rng, n, delivery), kind, rng)
    r = _audit(tmp_path, PURCHASE, "Purchase", recs, delivery)
    hits = [f for f in r if f.line == line and f.family == MUTATIONS[kind] and f.severity != "info"]
    assert hits, (kind, line, [f"{f.code} {f.line} {f.text}" for f in r][:8])
