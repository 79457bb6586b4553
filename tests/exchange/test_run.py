"""Exchange runs: clean runs audit clean; faults and misbehaviour show at their lines;
the accounting balances; stricter levels stop more and cost more; runs are reproducible."""
from __future__ import annotations

import json

import pytest

from protoverify.cli import main as cli_main
from protoverify.exchange import run
from tests.exchange.helpers import CAPN, CNET, audited, injections, records, unexplained

FAULTS = "drop=0.02,duplicate=0.02,reorder=0.02,delay=0.02,crash=0.15"


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    return out, run(CNET, agents=12, policy="high", duration=2 * 3600, seed=7, out=out)


def test_clean_high_run_audits_clean(clean):
    out, s = clean
    res = audited(out)
    assert res.findings == []
    assert s.envelopes == s.delivered > 0 and s.rejected == s.dropped == 0
    assert s.completed == s.enactments == res.complete > 0
    assert s.negotiations_completed == s.negotiations > 0
    assert s.receipts == s.delivered  # high: one receipt per delivery


def test_summary_json_has_the_documented_fields(clean):
    out, s = clean
    d = json.loads((out / "summary.json").read_text())
    for k in ("envelopes", "delivered", "rejected", "dropped", "enactments", "completed", "wall_seconds",
              "sim_seconds", "policy", "agents", "transport"):
        assert k in d, k
    assert d["transport"] == "inproc" and d["policy"] == "high" and d["agents"] == 12
    assert d["envelopes"] == d["delivered"] + d["rejected"] + d["dropped"]
    assert d["sim_seconds"] >= 2 * 3600 - 600  # negotiations open for the whole duration


def test_audit_cli_reads_the_log_unchanged(clean):
    out, _ = clean
    assert cli_main(["audit", "--spec", str(CNET), str(out / "exchange.jsonl")]) == 0


def test_every_envelope_has_exactly_one_outcome(clean):
    out, s = clean
    outcome: dict[str, int] = {}
    for r in records(out):
        if r["type"] in ("deliver", "drop", "reject"):
            outcome[r["id"]] = outcome.get(r["id"], 0) + 1
    sent = {r["id"] for r in records(out) if r["type"] == "envelope"}
    assert sent <= outcome.keys() and set(outcome.values()) == {1}


@pytest.mark.parametrize("level", ["low", "medium", "high"])
def test_faults_show_at_their_lines_and_balance(tmp_path, level):
    s = run(CNET, agents=12, policy=level, duration=3600, seed=3, out=tmp_path, faults=FAULTS, gateways=2)
    assert s.balanced()
    kinds = {i["kind"] for i in injections(tmp_path)}
    assert {"drop", "duplicate", "delay", "reorder"} <= kinds
    res = audited(tmp_path)
    assert unexplained(tmp_path, res) == []
    recs = records(tmp_path)
    codes = {f.line: f.code for f in res.findings}
    for inj in injections(tmp_path):
        if inj["kind"] == "drop":
            assert recs[inj["line"] - 1]["type"] == "drop" and codes[inj["line"]] == "DEL004"
        if inj["kind"] == "duplicate":
            rec = recs[inj["line"] - 1]
            # low delivers the copy (the auditor sees the resend); medium/high refuse it
            assert (rec["type"], level == "low") in {("envelope", True), ("reject", False)}
            if level == "low":
                assert codes[inj["line"]] == "DUP001"
            elif level == "high":
                assert rec["policy"]["rule"] == "duplicate"


def test_crashed_agents_send_nothing_after_and_what_reaches_them_is_dropped(tmp_path):
    s = run(CNET, agents=12, policy="high", duration=3600, seed=5, out=tmp_path, faults="crash=0.3")
    crashes = {i["agent"]: i["at"] for i in injections(tmp_path) if i["kind"] == "crash" and i["id"] is None}
    assert crashes and s.balanced()
    by_id = {}
    for r in records(tmp_path):
        if r["type"] == "envelope":
            by_id[r["id"]] = r
            assert r["from"]["agent"] not in crashes or r["ts"] < crashes[r["from"]["agent"]]
        elif r["type"] == "deliver":
            to = by_id[r["id"]]["to"][0]["agent"]
            assert to not in crashes or r["ts"] < crashes[to]
        elif r["type"] == "drop":
            assert r["fault"] == "crash"
    res = audited(tmp_path)
    assert {f.code for f in res.findings} <= {"DEL004", "CMP001", "CMP002"}


@pytest.fixture(scope="module")
def levels(tmp_path_factory):
    out = {}
    for level in ("low", "medium", "high"):
        d = tmp_path_factory.mktemp(level)
        out[level] = (d, run(CNET, agents=12, policy=level, duration=3600, seed=11, out=d, adversarial=3,
                             adversarial_rate=0.4))
    return out


@pytest.mark.parametrize("level", ["low", "medium", "high"])
def test_misbehaviour_shows_as_finding_or_rejection(levels, level):
    out, s = levels[level]
    assert s.balanced()
    assert {i["kind"] for i in injections(out)} == {"out-of-turn", "forged", "duplicate", "wrong-role"}
    assert unexplained(out, audited(out)) == []


def test_low_rejects_identity_and_role_violations_only(levels):
    out, s = levels["low"]
    recs = records(out)
    for inj in injections(out):
        rec = recs[inj["line"] - 1]
        if inj["kind"] in ("forged", "wrong-role"):
            expected_rule = {"forged": "auth", "wrong-role": "role"}[inj["kind"]]
            assert rec["type"] == "reject" and rec["policy"]["rule"] == expected_rule
    assert set(s.rejected_by) <= {"schema", "auth", "role"}


@pytest.mark.parametrize("level", ["medium", "high"])
def test_medium_and_high_deliver_no_misbehaviour(levels, level):
    out, _ = levels[level]
    recs = records(out)
    assert all(recs[i["line"] - 1]["type"] == "reject" for i in injections(out))
    errors = [f for f in audited(out).findings if f.severity == "error"]
    assert errors == []


def test_stricter_levels_stop_more_bad_envelopes(levels):
    share = {}
    for level, (out, _) in levels.items():
        recs = records(out)
        inj = injections(out)
        share[level] = sum(recs[i["line"] - 1]["type"] == "reject" for i in inj) / len(inj)
    assert share["low"] < share["medium"] <= share["high"] == 1.0


def test_stricter_levels_cost_more(tmp_path):
    s = {level: run(CNET, agents=9, policy=level, duration=3600, seed=2, out=tmp_path / level)
         for level in ("low", "medium", "high")}
    # same agents, same negotiations: the levels differ only in what they check and send
    assert len({x.negotiations_completed for x in s.values()}) == 1
    assert s["low"].checks_per_envelope < s["medium"].checks_per_envelope < s["high"].checks_per_envelope
    assert s["low"].messages_per_completed == s["medium"].messages_per_completed \
        < s["high"].messages_per_completed
    assert s["high"].messages - s["medium"].messages == s["high"].receipts > 0


def _stable(out) -> list[dict]:
    """The log without timings (ids are counters, so they stay)."""
    return [{k: v for k, v in r.items() if k not in ("ts", "reply_by")} for r in records(out)]


def test_same_seed_same_log(tmp_path):
    a = run(CNET, agents=6, policy="high", duration=1800, seed=4, out=tmp_path / "a", faults=FAULTS,
            adversarial=1)
    b = run(CNET, agents=6, policy="high", duration=1800, seed=4, out=tmp_path / "b", faults=FAULTS,
            adversarial=1)
    c = run(CNET, agents=6, policy="high", duration=1800, seed=5, out=tmp_path / "c", faults=FAULTS,
            adversarial=1)
    assert _stable(tmp_path / "a") == _stable(tmp_path / "b")
    assert _stable(tmp_path / "a") != _stable(tmp_path / "c")
    assert injections(tmp_path / "a") == injections(tmp_path / "b")
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        d.pop("wall_seconds"), d.pop("log")
    assert da == db and c.seed == 5


def test_federated_gateways_audit_clean(tmp_path):
    s = run(CNET, agents=9, policy="high", duration=3600, seed=8, out=tmp_path, gateways=3)
    assert s.link_crossings > 0 and s.gateways == 3
    assert audited(tmp_path).findings == []
    gws = {r["gateway"] for r in records(tmp_path) if r["type"] == "envelope"}
    assert gws == {"gw1", "gw2", "gw3"}


def test_capability_negotiation_runs_clean(tmp_path):
    s = run(CAPN, agents=6, policy="high", duration=3600, seed=1, out=tmp_path)
    assert s.enactments > 0 and s.completed == s.enactments
    assert audited(tmp_path, CAPN).findings == []


def test_capability_negotiation_faults_and_misbehaviour_show(tmp_path):
    s = run(CAPN, agents=8, policy="medium", duration=3600, seed=2, out=tmp_path, adversarial=2,
            faults=FAULTS, gateways=2)
    assert s.balanced() and s.rejected > 0 and s.dropped > 0
    assert unexplained(tmp_path, audited(tmp_path, CAPN)) == []


def test_random_agents_send_only_enabled_messages(tmp_path):
    s = run(CNET, agents=6, policy="medium", duration=3600, seed=1, out=tmp_path, agent_kind="random")
    assert s.rejected == 0 and s.envelopes > 0
    assert [f for f in audited(tmp_path).findings if f.code != "CMP001"] == []


def test_real_clock_run(tmp_path):
    s = run(CNET, agents=3, policy="high", duration=0.3, seed=1, out=tmp_path, clock="real", interval=0.1,
            think=(0.001, 0.01), reply_window=2.0)  # generous: a loaded CI core must not miss bid deadlines
    assert s.clock == "real" and s.balanced() and s.envelopes > 0
    assert audited(tmp_path).findings == []


@pytest.mark.slow
def test_twelve_hour_run_audits_clean(tmp_path):
    s = run(CNET, agents=12, policy="high", duration=12 * 3600, seed=0, out=tmp_path)
    assert s.sim_seconds >= 12 * 3600 and audited(tmp_path).findings == []


def _awards_after_skipped_calls(out) -> tuple[int, int]:
    """(awards delivered, awards delivered in conversations whose call skipped a capable agent),
    read from the log alone: capability lines, the calls, and the accepted awards."""
    recs = records(out)
    caps = {r["agent"]: set(r["capabilities"]) for r in recs if r["type"] == "capability"}
    calls: dict[str, tuple[str, str, set]] = {}
    awards: dict[str, str] = {}
    delivered = {r["id"] for r in recs if r["type"] == "deliver"}
    for r in recs:
        if r["type"] != "envelope":
            continue
        if r["message"] == "cfp":
            c = calls.setdefault(r["conversation"], (r["from"]["agent"], r["payload"]["task"].split(":")[0], set()))
            c[2].add(r["to"][0]["agent"])
        elif r["message"] == "accept-proposal" and r["id"] in delivered:
            awards[r["id"]] = r["conversation"]
    skipped = {conv for conv, (caller, cap, invited) in calls.items()
               if {a for a, cs in caps.items() if cap in cs and a != caller} - invited}
    return len(awards), sum(conv in skipped for conv in awards.values())


def test_high_refuses_awards_of_biased_calls(tmp_path):
    low = run(CNET, agents=12, policy="low", duration=3600, seed=6, out=tmp_path / "low", biased=3)
    high = run(CNET, agents=12, policy="high", duration=3600, seed=6, out=tmp_path / "high", biased=3)
    n_low, biased_low = _awards_after_skipped_calls(tmp_path / "low")
    n_high, biased_high = _awards_after_skipped_calls(tmp_path / "high")
    assert biased_low > 0 and "fair-invite" not in low.rejected_by
    assert biased_high == 0 and high.rejected_by["fair-invite"] > 0 and n_high > 0
    assert set(high.rejected_by) == {"fair-invite"}  # the unbiased agents' calls are never refused


@pytest.mark.parametrize("spec, protocol", [("purchase.bspl", None), ("netbill.bspl", None),
                                            ("logistics.bspl", "Logistics")])
def test_other_specs_run_clean_with_one_agent_per_role(tmp_path, spec, protocol):
    from protoverify.auditor.driver import audit
    from tests.helpers.paths import SPECS
    s = run(SPECS / spec, protocol=protocol, agents=6, policy="high", duration=3600, seed=1, out=tmp_path)
    assert s.enactments > 0 and s.completed == s.enactments
    assert audit(SPECS / spec, [tmp_path / "exchange.jsonl"], protocol=protocol).findings == []
