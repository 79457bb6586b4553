"""The real Ahoy logs (../shared/corpus/ahoy), audited against Purchase + Logistics.

Every finding asserted here was read against the log text (docs/ahoy-findings.md).
The regression tests at the end need no corpus: one per reader/monitor/driver fix
the corpus exposed.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from protoverify.auditor.driver import audit
from protoverify.traces import ReadStats
from protoverify.traces.detect import read
from tests.helpers.paths import corpus_path

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "ahoy" / "purchase-logistics.bspl"
D1 = "demo/demo1/results/"

# file -> (events, {code: [lines]})  (CMP001 given as a count)
EXPECTED = {
    D1 + "demo1_20260130_234111.log": (9, {"CAU001": [293], "DEC005": [586]}, 2),
    D1 + "demo1_20260130_234549.log": (10, {}, 2),
    # DEC009 @932: the Merchant's third RequestLabel in a row with RequestWrapping offered (the loop)
    D1 + "demo1_20260130_234930.log": (31, {"CAU001": [284], "DEC009": [932]}, 13),
    "demo/demo2/demo3_extracted_v3.json": (36, {"DEC005": [777, 944, 1123, 1302, 1686]}, 2),
}


def _files() -> list[str]:
    root = corpus_path("ahoy")
    logs = sorted(str(p.relative_to(root)) for p in root.glob("demo/**/*.log"))
    return logs + ["demo/demo2/demo3_extracted_v3.json"] + sorted(
        str(p.relative_to(root)) for p in root.glob("demo/demo4/results/demo4_analysis_*.json"))


def test_every_ahoy_file_is_read_and_audited():
    root = corpus_path("ahoy")
    files = _files()
    assert len(files) == 37
    for name in files:
        st = ReadStats()
        items = list(read(str(root / name), stats=st))
        assert st.unaccounted() == 0, name
        assert st.bad == 0, (name, [i for i in items if not hasattr(i, "kind")])
        r = audit(SPEC, [root / name])
        if name in EXPECTED:
            continue
        # harness-only logs and demo4 analyses: sends only (rfq/accept/completed of fresh
        # purchases), nothing but the incomplete enactments they leave
        assert {f.code for f in r} <= {"CMP001", "CAU001"}, (name, [(f.code, f.line, f.text) for f in r])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_verified_findings(name):
    events, want, stalled = EXPECTED[name]
    r = audit(SPEC, [corpus_path("ahoy", *name.split("/"))])
    assert r.events == events
    got: dict[str, list[int]] = {}
    for f in r:
        if f.code != "CMP001":
            got.setdefault(f.code, []).append(f.line)
    assert {k: sorted(v) for k, v in got.items()} == want, [(f.code, f.line, f.text) for f in r]
    assert sum(f.code == "CMP001" for f in r) == stalled


def test_truncated_agent_section_quote_before_rfq():
    """234930:284: the quote of an rfq sent in the cut-off head of the agent log."""
    r = audit(SPEC, [corpus_path("ahoy", *(D1 + "demo1_20260130_234930.log").split("/"))])
    (f,) = [f for f in r if f.code == "CAU001"]
    assert f.message == "Purchase/quote" and f.role == "Seller"
    assert "no earlier message of enactment" in f.text
    # the LLM-as-Merchant's 11 RequestLabels: 11 fresh orders, none wrapped
    orders = [s for s in r.statuses if s.enactment.startswith("orderID=")]
    assert len(orders) == 11


# ----------------------------------------------------------------- regressions (no corpus)

def _write(tmp_path: Path, lines: list[dict], name: str = "log.jsonl") -> Path:
    p = tmp_path / name
    p.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return p


def test_declined_decision_in_two_protocol_spec_is_dec005_not_rec003(tmp_path):
    """A decision with no choice has no message: it was lost as `REC003 message None`."""
    dec = {"kind": "decision", "decision": {
        "agent": "m", "role": "Merchant", "choice": None, "declined": True, "raw": "{}", "parsed": {"choice": None},
        "options": [{"number": 0, "message": "Logistics/RequestLabel", "bound": {}, "fill": ["orderID", "address"]}]}}
    unanswered = {"kind": "decision", "decision": {"agent": "m", "choice": None, "error": "no LLM response in log",
                                                   "options": []}}
    r = audit(SPEC, [_write(tmp_path, [dec, unanswered])])
    assert [(f.code, f.line) for f in r] == [("DEC005", 1)]


def test_option_without_bound_values_is_checked_in_open_enactments(tmp_path):
    """An extraction that drops BOUND values: accept was enabled in the open enactment."""
    def snd(kind, m, sender, to, b):
        return {"kind": kind, "message": f"Purchase/{m}", "sender": sender, "recipients": [to], "bindings": b}
    o = {"ID": "x", "item": "pen"}
    lines = [snd("send", "rfq", "Buyer", "Seller", o),
             snd("receive", "quote", "Seller", "Buyer", {**o, "price": 3}),
             {"kind": "decision", "decision": {"agent": "a", "role": "Buyer", "choice": 1, "raw": "{}",
                                               "parsed": {"choice": 1}, "params": {},
                                               "options": [{"number": 0, "message": "Purchase/rfq", "bound": {},
                                                            "fill": ["ID", "item"]},
                                                           {"number": 1, "message": "Purchase/accept", "bound": {},
                                                            "fill": ["address", "resp"]}]}},
             {"kind": "decision", "decision": {"agent": "a", "role": "Buyer", "choice": 0, "raw": "{}",
                                               "parsed": {"choice": 0}, "params": {},
                                               "options": [{"number": 0, "message": "Purchase/completed",
                                                            "bound": {}, "fill": ["satisfaction"]}]}}]
    r = audit(SPEC, [_write(tmp_path, lines)], delivery="send")
    # accept was enabled in ID=x; completed was not (price known but ...: satisfaction? no: it is
    # enabled too once the price is known) -> no DEC003 at all
    assert [f.code for f in r if f.code.startswith("DEC")] == []
    lines[3]["decision"]["options"][0]["message"] = "Purchase/deliver"  # not the Buyer's
    lines[3]["decision"]["role"] = "Buyer"
    r = audit(SPEC, [_write(tmp_path, lines)], delivery="send")
    assert [(f.code, f.line) for f in r if f.code.startswith("DEC")] == [("DEC003", 4)]


def test_receipt_from_unseen_sender_may_use_values_bound_in_enactment(tmp_path):
    """One agent's view: the Shipper's deliver needs `address`, which it learnt from the
    Seller's ship (not visible to the Buyer). Bound in the enactment: no CAU001."""
    def m(kind, name, sender, to, b):
        return {"kind": kind, "message": f"Purchase/{name}", "sender": sender, "recipients": [to], "bindings": b}
    o = {"ID": "x", "item": "pen"}
    acc = {**o, "price": 3, "address": "A", "resp": "ok"}
    lines = [m("send", "rfq", "Buyer", "Seller", o), m("receive", "quote", "Seller", "Buyer", {**o, "price": 3}),
             m("send", "accept", "Buyer", "Seller", acc),
             m("receive", "deliver", "Shipper", "Buyer", {**o, "address": "A", "outcome": "ok"})]
    r = audit(SPEC, [_write(tmp_path, lines)], delivery="send")
    assert [f.code for f in r if f.severity == "error"] == []
    lines[3]["bindings"]["address"] = "B"  # a value no one bound: still a violation
    r = audit(SPEC, [_write(tmp_path, lines)], delivery="send")
    assert "CAU001" in [f.code for f in r]


def test_extraction_with_cut_reasoning_keeps_extracted_choice(tmp_path):
    """demo3_extracted: `llm_reasoning` loses the reply's closing brace; `llm_choice` is the
    harness's own parse, so the decision is not DEC001."""
    doc = {"metrics": {"completion_rules": {"Purchase": "Buyer"}},
           "decision_events": [{"decision_number": 1, "timestamp": "2026-02-10 00:02:06",
                                "message_history": [],
                                "available_options": [{"option_number": 0, "message_type": "Purchase/rfq",
                                                       "missing_params": ["'ID'", "'item'"], "bound_params": {}}],
                                "llm_reasoning": 'Start.\n```json\n{\n"choice": 0,\n"params": {"item": "vase"}',
                                "llm_choice": 0, "llm_choice_params": {}, "message_sent": "rfq"}]}
    p = tmp_path / "demo3_extracted_x.json"
    p.write_text(json.dumps(doc, indent=2))
    (d,) = [e for e in read(str(p)) if getattr(e, "kind", None) == "decision"]
    assert d.decision["parsed"] is not None and d.decision["choice"] == 0
    assert [f.code for f in audit(SPEC, [p])] == []
