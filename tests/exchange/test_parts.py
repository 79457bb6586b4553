"""The exchange's parts on their own: envelope validation, subject matching, policy rules,
the log's records as the envelope reader sees them, and the `run` command."""
from __future__ import annotations

import io
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protoverify.bspl import flatten, load
from protoverify.commands.run import main as run_main
from protoverify.commands.run import parse_duration
from protoverify.exchange.bus import InProcTransport, match
from protoverify.exchange.clock import Scheduler, SimClock
from protoverify.exchange.envelope import Envelope, EnvelopeError
from protoverify.exchange.faults import FaultConfig, Faults
from protoverify.exchange.gateway import Federation
from protoverify.exchange.log import LogWriter
from protoverify.exchange.policy import Policy
from protoverify.traces import read
from protoverify.traces.event import BadRecord, ReadStats
from tests.exchange.helpers import CNET

FLAT = flatten(load(CNET), "Contract Net")
INI, PAR = ("alice", "Initiator"), ("bob", "Participant")


def env(message: str, payload: dict, sender=INI, to=PAR, id="e1", **kw) -> Envelope:
    return Envelope(id=id, protocol="Contract Net", message=message, sender=sender, to=(to,),
                    payload=payload, run="r", **kw)


# ---------------------------------------------------------------- envelope
def test_from_wire_round_trips_wire():
    e = env("cfp", {"cfpID": "c1", "task": "t"}, reply_by=5.0, conversation="c")
    back = Envelope.from_wire(e.wire())
    assert (back.id, back.message, back.sender, back.to, back.payload, back.reply_by, back.conversation) == \
        (e.id, e.message, e.sender, e.to, e.payload, 5.0, "c")


@pytest.mark.parametrize("obj, why", [
    ([], "not an object"),
    ({"id": "", "protocol": "P", "message": "m"}, "'id'"),
    ({"id": "1", "protocol": "P", "message": "m", "from": "alice"}, "'from'"),
    ({"id": "1", "protocol": "P", "message": "m", "from": {"agent": "a", "role": "R"}, "to": []}, "'to'"),
    ({"id": "1", "protocol": "P", "message": "m", "from": {"agent": "a", "role": "R"},
      "to": [{"agent": "b", "role": "S"}], "payload": {"x": [1]}}, "payload value"),
    ({"id": "1", "protocol": "P", "message": "m", "from": {"agent": "a", "role": "R"},
      "to": [{"agent": "b", "role": "S"}], "payload": {}, "reply_by": "soon"}, "reply_by"),
])
def test_from_wire_rejects_with_rule_schema(obj, why):
    with pytest.raises(EnvelopeError) as e:
        Envelope.from_wire(obj)
    assert e.value.rule == "schema" and why in str(e.value)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                           max_leaves=8)


@given(json_values)
@settings(max_examples=200)
def test_from_wire_only_raises_envelope_error(obj):
    try:
        Envelope.from_wire(obj)
    except EnvelopeError as e:
        assert e.rule == "schema"


parties = st.tuples(st.sampled_from(["alice", "bob", "carol"]), st.sampled_from(["Initiator", "Participant"]))


@given(st.lists(parties, min_size=1, max_size=3), st.none() | st.text(max_size=3),
       st.none() | st.floats(allow_nan=False, allow_infinity=False), st.none() | st.text(max_size=3))
def test_record_is_the_stamps_then_the_wire_form(to, in_reply_to, reply_by, conversation):
    e = Envelope(id="e1", protocol="Contract Net", message="cfp", sender=INI, to=tuple(to),
                 payload={"cfpID": "c1", "task": "t"}, ts=2.5, run="r", gateway="gw1", topic="Contract Net/cfpID=c1",
                 in_reply_to=in_reply_to, reply_by=reply_by, conversation=conversation)
    rec, wire = e.record("envelope", policy={"level": "high"}), e.wire()
    assert list(rec)[:7] == ["v", "type", "id", "ts", "run", "gateway", "topic"] and list(rec)[-1] == "policy"
    assert [k for k in rec if k not in ("v", "type", "ts", "run", "gateway", "topic", "policy")] == list(wire)
    assert all(rec[k] == wire[k] for k in wire)
    assert wire["to"] == [{"agent": a, "role": r} for a, r in to]
    assert [k for k in ("in_reply_to", "reply_by", "conversation") if k in wire] == \
        [k for k, v in (("in_reply_to", in_reply_to), ("reply_by", reply_by), ("conversation", conversation))
         if v is not None]


def test_log_writer_lines_are_the_records(tmp_path):
    log = LogWriter(tmp_path / "x.jsonl")
    e = env("cfp", dict(CFP), reply_by=5.0, conversation="c", ts=1.5, gateway="gw1", topic="Contract Net/cfpID=c1")
    assert (log.envelope(e, "high"), log.deliver(e, 2.0, "gw2"), log.deliver(e, 3.0, "gw2", "delay")) == (1, 2, 3)
    log.close()
    lines = (tmp_path / "x.jsonl").read_bytes().splitlines()
    assert [json.loads(x) for x in lines] == [
        e.record("envelope", policy={"level": "high", "decision": "accept"}),
        {"v": 1, "type": "deliver", "id": "e1", "ts": 2.0, "gateway": "gw2"},
        {"v": 1, "type": "deliver", "id": "e1", "ts": 3.0, "gateway": "gw2", "fault": "delay"}]
    assert list(json.loads(lines[0])) == list(e.record("envelope", policy={}))
    assert log.counts["envelope"] == 1 and log.counts["deliver"] == 2


# ---------------------------------------------------------------- bus
@pytest.mark.parametrize("pattern, subject, ok", [
    ("inbox.gw1.alice", "inbox.gw1.alice", True),
    ("inbox.*.alice", "inbox.gw2.alice", True),
    ("inbox.*", "inbox.gw2.alice", False),
    ("inbox.>", "inbox.gw2.alice", True),
    ("inbox.>", "inbox", False),
    ("link.gw1", "link.gw2", False),
])
def test_subject_matching(pattern, subject, ok):
    assert match(tuple(pattern.split(".")), subject.split(".")) is ok


def test_inproc_transport_delivers_to_exact_and_wildcard_subscribers():
    t = InProcTransport()
    got: list[tuple[str, str]] = []
    t.subscribe("bcast.caps", lambda s, m: got.append(("exact", m)))
    t.subscribe("bcast.>", lambda s, m: got.append(("wild", m)))
    assert t.publish("bcast.caps", "x") == 2 and t.publish("inbox.a", "y") == 0
    assert got == [("exact", "x"), ("wild", "x")]


# ---------------------------------------------------------------- policy
CFP = {"cfpID": "c1", "task": "t"}


@pytest.mark.parametrize("level", ["low", "medium", "high"])
def test_low_rules_apply_at_every_level(level):
    pol = Policy(level, {FLAT.name: FLAT})
    assert pol.admit(env("bid", CFP), "alice", 0.0)[0] == "schema"
    assert pol.admit(env("cfp", {"cfpID": "c1"}), "alice", 0.0)[0] == "schema"
    assert pol.admit(env("cfp", CFP, to=("bob", "Initiator")), "alice", 0.0)[0] == "schema"
    assert pol.admit(env("cfp", CFP), "mallory", 0.0)[0] == "auth"
    assert pol.admit(env("cfp", CFP, sender=("alice", "Participant")), "alice", 0.0)[0] == "role"
    assert pol.admit(env("cfp", CFP), "alice", 0.0) is None
    # bob is the Participant of c1: nobody else may answer as Participant
    prop = {"cfpID": "c1", "task": "t", "bid": 3}
    assert pol.admit(env("propose", prop, sender=("carol", "Participant"), to=INI), "carol", 1.0)[0] == "role"


def test_out_of_turn_passes_low_and_fails_medium():
    accept = {"cfpID": "c1", "bid": 3, "verdict": "v", "award": "a"}
    low, medium = Policy("low", {FLAT.name: FLAT}), Policy("medium", {FLAT.name: FLAT})
    for pol in (low, medium):
        assert pol.admit(env("cfp", CFP), "alice", 0.0) is None
    assert low.admit(env("accept-proposal", accept, id="e2"), "alice", 1.0) is None
    rule, why = medium.admit(env("accept-proposal", accept, id="e2"), "alice", 1.0)
    assert rule == "enabling" and why.startswith("CAU001")
    # refused means forgotten: the same cfp is still refused as a resend, and the
    # accept stays refused (the Monitor's state was rolled back)
    assert medium.admit(env("cfp", CFP, id="e3"), "alice", 2.0)[0] == "enabling"
    assert medium.admit(env("accept-proposal", accept, id="e4"), "alice", 3.0)[0] == "enabling"


def test_medium_enabling_checks_values_against_what_the_sender_knows():
    pol = Policy("medium", {FLAT.name: FLAT})
    cfp = env("cfp", CFP)
    early = env("propose", {"cfpID": "c1", "task": "t", "bid": 3}, sender=PAR, to=INI, id="e0")
    assert pol.admit(cfp, "alice", 0.0) is None
    assert pol.admit(early, "bob", 0.0)[0] == "enabling"  # bob has not received the cfp yet
    pol.delivered(cfp, "bob", "Participant")
    wrong = env("propose", {"cfpID": "c1", "task": "other", "bid": 3}, sender=PAR, to=INI, id="e2")
    rule, why = pol.admit(wrong, "bob", 1.0)
    assert rule == "enabling" and why.startswith("CAU002")
    right = env("propose", {"cfpID": "c1", "task": "t", "bid": 3}, sender=PAR, to=INI, id="e2")
    assert pol.admit(right, "bob", 1.0) is None


def test_medium_rate_limit_refills_with_time():
    from protoverify.exchange.policy import Limits
    pol = Policy("medium", {FLAT.name: FLAT}, Limits(rate=1.0, burst=2.0))
    rules = [pol.admit(env("cfp", {"cfpID": f"c{i}", "task": "t"}, id=f"e{i}"), "alice", 0.0) for i in range(3)]
    assert rules[:2] == [None, None] and rules[2][0] == "rate"
    assert pol.admit(env("cfp", {"cfpID": "c9", "task": "t"}, id="e9"), "alice", 1.5) is None


def test_high_deadline_duplicate_and_fair_award():
    pol = Policy("high", {FLAT.name: FLAT})
    for i, peer in enumerate(("bob", "carol")):
        c = env("cfp", {"cfpID": f"c{i}", "task": "t"}, to=(peer, "Participant"), id=f"cfp{i}", reply_by=10.0,
                conversation="n1")
        assert pol.admit(c, "alice", 0.0) is None
        pol.delivered(c, peer, "Participant")
    again = env("cfp", {"cfpID": "c0", "task": "t"}, to=("bob", "Participant"), id="other", conversation="n1")
    assert pol.admit(again, "alice", 0.5)[0] == "duplicate"
    assert pol.admit(env("cfp", {"cfpID": "c7", "task": "t"}, id="cfp0"), "alice", 0.5)[0] == "duplicate"
    late = env("propose", {"cfpID": "c1", "task": "t", "bid": 5}, sender=("carol", "Participant"), to=INI, id="p1",
               conversation="n1")
    assert pol.admit(late, "carol", 11.0)[0] == "deadline"
    bids = {"bob": 7, "carol": 5}
    for i, (peer, bid) in enumerate(bids.items()):
        p = env("propose", {"cfpID": f"c{i}", "task": "t", "bid": bid}, sender=(peer, "Participant"), to=INI,
                id=f"p{i}", conversation="n1")
        assert pol.admit(p, peer, 1.0) is None
        pol.delivered(p, "alice", "Initiator")
    unfair = env("accept-proposal", {"cfpID": "c0", "bid": 7, "verdict": "v", "award": "a"}, to=("bob", "Participant"),
                 id="a0", conversation="n1")
    fair = env("accept-proposal", {"cfpID": "c1", "bid": 5, "verdict": "v", "award": "a"}, to=("carol", "Participant"),
               id="a1", conversation="n1")
    assert pol.admit(unfair, "alice", 12.0)[0] == "fair-award"
    assert pol.admit(fair, "alice", 12.0) is None


# ---------------------------------------------------------------- gateway + log, read back
def test_rejected_raw_envelope_is_logged_and_read_as_bad_or_reject(tmp_path):
    sched = Scheduler(SimClock())
    log = LogWriter(tmp_path / "x.jsonl")
    fed = Federation({FLAT.name: FLAT}, "low", sched, log, Faults(FaultConfig()), random.Random(0), "r")
    fed.attach("alice", 0)
    fed.attach("bob", 1)
    assert fed.submit({"id": "w1", "protocol": "Contract Net", "message": "cfp"}, "alice") == ("reject", "schema")
    assert fed.submit(env("cfp", CFP, id="e1"), "alice") == ("accept", None)
    assert fed.submit(env("cfp", {"cfpID": "c2", "task": "t"}, id="e2"), "bob") == ("reject", "auth")
    sched.run()
    log.close()
    stats = ReadStats()
    items = list(read(str(tmp_path / "x.jsonl"), format="envelope", stats=stats))
    assert stats.unaccounted() == 0
    kinds = [(i.kind, i.reason) if not isinstance(i, BadRecord) else ("bad", None) for i in items]
    assert kinds == [("bad", None), ("send", None), ("reject", "auth: bob sent as alice"), ("receive", None)]


def test_fault_config_parsing():
    c = FaultConfig.parse("drop=0.1, delay=0.2,seed=4")
    assert (c.drop, c.delay, c.seed, c.duplicate) == (0.1, 0.2, 4, 0.0)
    for bad in ("drop=2", "lose=0.1", "drop=x"):
        with pytest.raises(ValueError):
            FaultConfig.parse(bad)


# ---------------------------------------------------------------- the command
def test_run_command_writes_logs_and_summary(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    code = run_main([str(CNET), "--agents", "5", "--duration", "30m", "--policy", "medium", "--out",
                     str(tmp_path), "--json"], out, err)
    assert code == 0, err.getvalue()
    d = json.loads(out.getvalue())
    assert d == json.loads((tmp_path / "summary.json").read_text())
    assert d["policy"] == "medium" and d["agents"] == 5 and (tmp_path / "exchange.jsonl").stat().st_size > 0


@pytest.mark.parametrize("args, msg", [
    (["--duration", "soon"], "not a positive duration"),
    (["--faults", "drop=3"], "between 0 and 1"),
    (["--adversarial", "9", "--agents", "3"], "adversarial"),
])
def test_run_command_errors_exit_2_without_traceback(tmp_path, args, msg):
    out, err = io.StringIO(), io.StringIO()
    assert run_main([str(CNET), "--out", str(tmp_path)] + args, out, err) == 2
    assert msg in err.getvalue() and "Traceback" not in err.getvalue()


def test_run_command_unreadable_spec(tmp_path):
    err = io.StringIO()
    assert run_main([str(tmp_path / "none.bspl"), "--out", str(tmp_path)], io.StringIO(), err) == 2
    assert "none.bspl" in err.getvalue()


def test_parse_duration():
    assert [parse_duration(x) for x in ("90", "90s", "30m", "12h", "1.5h")] == [90, 90, 1800, 43200, 5400]


def test_online_event_has_every_event_field():
    from protoverify.exchange.policy import OnlineEvent
    from protoverify.traces.event import Event
    ev = OnlineEvent("send", "P/m", "R", ("S",), {"k": 1}, 7, "r", "a", "e1", "P")
    fields = set(Event.__struct_fields__)
    assert fields == set(OnlineEvent.__slots__) | {f for f in fields if f in vars(OnlineEvent)}
    assert all(hasattr(ev, f) for f in fields)
    assert (ev.seq, ev.ts, ev.reason, ev.decision, ev.line, ev.source) == (None, None, None, None, 7, "<exchange>")


class RecordingTransport:
    """Another transport behind the same interface: the in-process one, with every subject
    published on recorded (what a NATS transport would be handed)."""

    name = "recording"

    def __init__(self) -> None:
        from protoverify.exchange.bus import InProcTransport
        self.inner = InProcTransport()
        self.subjects: list[str] = []
        self.vias: list[str | None] = []
        self.closed = False

    def subscribe(self, subject, handler, via=None):
        self.inner.subscribe(subject, handler)

    def publish(self, subject, msg, via=None):
        self.subjects.append(subject)
        self.vias.append(via)
        return self.inner.publish(subject, msg)

    def close(self):
        self.closed = True


def test_run_over_another_transport(tmp_path):
    from protoverify.exchange import run
    t = RecordingTransport()
    s = run(CNET, agents=4, policy="high", duration=1800, seed=2, out=tmp_path, gateways=2, transport=t)
    assert s.transport == "recording" and t.closed
    kinds = {x.split(".")[0] for x in t.subjects}
    assert kinds == {"bcast", "inbox", "link", "receipt"}
    assert t.subjects.count("bcast.capability") == 4  # one advertisement per agent
    links = sum(x.startswith("link.") for x in t.subjects)
    # every envelope that crossed the link was delivered, and its receipt crossed back
    assert links > 0 and s.link_crossings == 2 * links
    assert sum(x.startswith("receipt.") for x in t.subjects) == s.receipts == s.delivered
    assert sum(x.startswith("inbox.") for x in t.subjects) == s.delivered
    # a link is published by the sender's gateway (a federated transport uses its server), a receipt by
    # the addressee's: every publish names a gateway but inboxes (which name theirs in the subject)
    for subject, via in zip(t.subjects, t.vias, strict=True):
        assert (via is None) == subject.startswith("inbox.")
        if subject.startswith("link."):
            assert via in ("gw1", "gw2") and via != subject.split(".")[1]


def test_run_command_takes_the_spec_once(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert run_main(["--spec", str(CNET), "--agents", "3", "--duration", "10m", "--out", str(tmp_path), "--json"],
                    out, err) == 0, err.getvalue()
    assert json.loads(out.getvalue())["agents"] == 3
    assert err.getvalue() == ""  # no progress bar when stderr is not a terminal
    for args in ([], [str(CNET), "--spec", str(CNET)]):
        err = io.StringIO()
        assert run_main(args + ["--out", str(tmp_path)], io.StringIO(), err) == 2
        assert "give the spec once" in err.getvalue()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_policy_fast_paths_decide_as_monitor_apply(seed):
    """The plans call the online Monitor's send and receive fast paths directly; a policy
    whose plans do not (every event through `Monitor.apply`) must decide every envelope the
    same way and leave its Monitor in the same state, on traffic with envelopes skipped,
    resent and altered."""
    from protoverify.monitor.simulate import Simulator
    rng = random.Random(seed)
    agents = {"Initiator": "alice", "Participant": "bob"}
    fast, slow = Policy("high", {FLAT.name: FLAT}), Policy("high", {FLAT.name: FLAT})
    for plan in slow.protos[FLAT.name].plans.values():
        plan.rule = None
    assert any(p.rule is not None for p in fast.protos[FLAT.name].plans.values())
    sim = Simulator(FLAT, random.Random(seed), delivery="send", run="r")
    sent: list[Envelope] = []
    verdicts = []
    for i, ev in enumerate(sim.enactments(60, concurrency=6)):
        payload = dict(ev.bindings)
        r = rng.random()
        if r < 0.1:
            continue  # skipped: later messages of the enactment come out of turn
        if r < 0.2 and sent:
            payload = dict(rng.choice(sent).payload)  # another message's bindings again
        elif r < 0.3:
            payload[rng.choice(sorted(payload))] = "x"  # an altered value
        name = ev.message.rsplit("/", 1)[-1]
        to = tuple((agents[role], role) for role in ev.recipients)
        e = Envelope(id=f"e{i}", protocol=FLAT.name, message=name, sender=(agents[ev.sender], ev.sender),
                     to=to, payload=payload, run="r", ts=float(i))
        got = [fast.admit(e, e.sender[0], float(i)), slow.admit(e, e.sender[0], float(i))]
        verdicts.append(got[0])
        assert got[0] == got[1], (e, got)
        if got[0] is None:
            sent.append(e)
            for pol in (fast, slow):
                pol.delivered(e, *to[0])
    assert any(v is None for v in verdicts) and any(v is not None and v[0] == "enabling" for v in verdicts)
    mf, ms = fast.monitors[FLAT.name], slow.monitors[FLAT.name]
    assert (mf.complete_count, len(mf.open), len(mf.closed)) == (ms.complete_count, len(ms.open), len(ms.closed))
    assert [(f.code, f.line) for f in mf.finish()] == [(f.code, f.line) for f in ms.finish()]
