"""Exchange-envelope logs (docs/formats.md §2) audited end to end, real files, no mocks."""
from __future__ import annotations

import io
import json
from pathlib import Path

from protoverify.auditor.driver import audit
from protoverify.cli import main
from tests.helpers.audit import PURCHASE

B = {"agent": "buyer-1", "role": "Buyer"}
S = {"agent": "seller-1", "role": "Seller"}
H = {"agent": "shipper-1", "role": "Shipper"}
ROUTE = {"rfq": (B, S), "quote": (S, B), "accept": (B, S), "ship": (S, H), "deliver": (H, B)}


def env(eid: str, message: str, payload: dict, run: str = "r1") -> dict:
    frm, to = ROUTE[message]
    return {"v": 1, "type": "envelope", "id": eid, "ts": 1.0, "run": run, "protocol": "Purchase",
            "message": message, "from": frm, "to": [to], "payload": payload}


def dlv(eid: str) -> dict:
    return {"v": 1, "type": "deliver", "id": eid, "ts": 1.1}


def happy() -> list[dict]:
    o = {"orderID": "o1"}
    steps = [("rfq", {**o, "item": "pen"}), ("quote", {**o, "item": "pen", "price": 5}),
             ("accept", {**o, "item": "pen", "price": 5, "address": "A", "decision": "yes"}),
             ("ship", {**o, "item": "pen", "address": "A", "shipment": "s1"}),
             ("deliver", {**o, "item": "pen", "shipment": "s1", "outcome": "ok"})]
    lines: list[dict] = [{"v": 1, "type": "capability", "id": "c1", "agent": "buyer-1"}]
    for n, (m, p) in enumerate(steps, 1):
        lines += [env(f"e{n}", m, p), {"v": 1, "type": "llm_call", "id": f"l{n}", "agent": "x"}, dlv(f"e{n}")]
    return lines


def write(tmp_path: Path, lines: list, name: str = "ex.jsonl") -> Path:
    p = tmp_path / name
    p.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return p


def codes(r) -> list[tuple[str, int]]:
    return sorted((f.code, f.line) for f in r)


def test_conformant_run_has_no_findings(tmp_path):
    p = write(tmp_path, happy())
    r = audit(PURCHASE, [p])
    assert r.formats[str(p)] == "envelope" and r.delivery == "receive"
    assert list(r) == [] and r.complete == 1 and r.incomplete == 0
    assert r.records == 16


def test_rejected_envelope_is_del003_with_policy_rule(tmp_path):
    lines = happy()[:-1]  # the last envelope is rejected instead of delivered
    lines.append({"v": 1, "type": "reject", "id": "e5", "ts": 2.0,
                  "policy": {"rule": "L2.no-delivery-after-hours"}})
    r = audit(PURCHASE, [write(tmp_path, lines)])
    d = [f for f in r if f.code == "DEL003"]
    assert [(f.line, f.severity) for f in d] == [(16, "warning")]
    assert "L2.no-delivery-after-hours" in d[0].text


def test_dropped_envelope_is_del004_with_fault(tmp_path):
    lines = happy()[:-1]
    lines.append({"v": 1, "type": "drop", "id": "e5", "ts": 2.0, "fault": "link-down"})
    r = audit(PURCHASE, [write(tmp_path, lines)])
    d = [f for f in r if f.code == "DEL004"]
    assert [f.line for f in d] == [16] and "link-down" in d[0].text


def test_deliver_without_envelope_is_forged(tmp_path):
    lines = happy()[:-3]
    forged = dict(env("e5", "deliver", {"orderID": "o1", "item": "pen", "shipment": "s1", "outcome": "ok"}))
    forged["type"] = "deliver"  # a full deliver record, no envelope line before it
    lines.append(forged)
    r = audit(PURCHASE, [write(tmp_path, lines)])
    assert ("DEL002", 14) in codes(r)
    assert [f.severity for f in r if f.code == "DEL002"] == ["error"]


def test_envelope_never_delivered_is_del001(tmp_path):
    lines = happy()[:-1]  # the deliver envelope is sent, never delivered
    r = audit(PURCHASE, [write(tmp_path, lines)])
    assert ("DEL001", 14) in codes(r)


def test_corrupt_line_is_rec001_at_that_line(tmp_path):
    lines = happy()
    lines.insert(4, '{"v": 1, "type": "envelope", "id": ')
    r = audit(PURCHASE, [write(tmp_path, lines)])
    assert [(f.code, f.line) for f in r if f.family == "record"] == [("REC001", 5)]
    assert r.complete == 1


def test_json_and_sarif_reports(tmp_path):
    lines = happy()[:-1]
    lines.append({"v": 1, "type": "reject", "id": "e5", "policy": {"rule": "L2.deny"}})
    lines.append('{"broken')
    p = write(tmp_path, lines)
    out, err = io.StringIO(), io.StringIO()
    rc = main(["audit", "--spec", str(PURCHASE), "--format", "json", str(p)], out, err)
    assert rc == 1, err.getvalue()
    rep = json.loads(out.getvalue())
    got = {(f["code"], f["line"]) for f in rep["findings"]}
    assert {("DEL003", 16), ("REC001", 17)} <= got
    assert rep["summary"]["findings"]["error"] >= 1
    out = io.StringIO()
    rc = main(["audit", "--spec", str(PURCHASE), "--format", "sarif", "--fail-on", "never", str(p)], out, err)
    assert rc == 0
    sarif = json.loads(out.getvalue())
    assert sarif["version"] == "2.1.0"
    res = sarif["runs"][0]["results"]
    lines_by_rule = {(x["ruleId"], x["locations"][0]["physicalLocation"]["region"]["startLine"]) for x in res}
    assert {("DEL003", 16), ("REC001", 17)} <= lines_by_rule
    out = io.StringIO()
    assert main(["audit", "--spec", str(PURCHASE), "--format", "json", str(write(tmp_path, happy(), "ok.jsonl"))],
                out, err) == 0
    assert json.loads(out.getvalue())["findings"] == []
