"""Each finding family on minimal native logs written to real files."""
from __future__ import annotations

import pytest

from protoverify.auditor.driver import AuditInputError, audit
from protoverify.findings import CODES, FAMILIES
from tests.helpers.audit import B, H, S, at, codes, ev, happy, receive, run, send, write


def test_conformant_enactment_is_clean(tmp_path):
    r = run(tmp_path, happy("o1") + happy("o2"))
    assert list(r) == []
    assert r.summary() == {"events": 10, "records": 10, "enactments": 2, "complete": 2, "incomplete": 0,
                           "findings": {"error": 0, "warning": 0, "info": 0}}


def test_interleaved_enactments_and_runs_do_not_mix(tmp_path):
    a, b = happy("o1", run="r1"), happy("o1", run="r2")  # same key, different runs
    r = run(tmp_path, [x for pair in zip(a, b, strict=True) for x in pair])
    assert list(r) == [] and r.complete == 2


PREFIX = {"record": "REC", "role": "ROL", "causality": "CAU", "integrity": "INT", "duplication": "DUP",
          "delivery": "DEL", "completion": "CMP", "decision": "DEC", "policy": "POL"}


def test_codes_are_documented_and_grouped():
    assert set(PREFIX) == set(FAMILIES)
    for c in CODES.values():
        assert c.code[:3] == PREFIX[c.family] and c.code[3:].isdigit() and len(c.code) == 6, c.code
        assert c.severity in ("error", "warning", "info") and c.title and c.description


# ---------------------------------------------------------------- record
def test_corrupt_and_truncated_lines(tmp_path):
    p = tmp_path / "log.jsonl"
    write(p, happy()[:2] + ['{"kind": "send", "message": ', "[1, 2]"])
    with open(p, "ab") as f:
        f.write(b'{"kind": "send", "mess')  # truncated last line, no newline
    r = audit(PURCHASE_SPEC(), [p])
    assert at(r, "REC001") == [3, 4, 5]
    assert r.records == 5


def PURCHASE_SPEC():
    from tests.helpers.audit import PURCHASE
    return PURCHASE


def test_missing_field(tmp_path):
    bad = send("rfq", {"orderID": "o1", "item": "pen"})
    del bad["sender"]
    r = run(tmp_path, [bad])
    assert codes(r) == ["REC002"] and at(r, "REC002") == [1]


def test_unknown_message_is_hallucinated(tmp_path):
    r = run(tmp_path, happy()[:2] + [ev("send", "haggle", B, [S], {"orderID": "o1", "price": 5})])
    assert at(r, "REC003") == [3]
    f = next(f for f in r if f.code == "REC003")
    assert "rfq" in f.expected and f.family == "record"


def test_unknown_and_missing_parameters(tmp_path):
    recs = happy()
    recs[1] = send("quote", {"orderID": "o1", "item": "pen", "price": 10, "discount": 2})
    recs[2] = send("accept", {"orderID": "o1", "item": "pen", "price": 10, "decision": "yes"})
    r = run(tmp_path, recs)
    assert at(r, "REC004") == [2]
    assert at(r, "REC005") == [3]
    assert "address" in next(f.text for f in r if f.code == "REC005")


def test_missing_key_cannot_be_placed(tmp_path):
    r = run(tmp_path, [send("rfq", {"item": "pen"})])
    assert codes(r) == ["REC005"] and "key" in r.findings[0].text


# ---------------------------------------------------------------- role
def test_wrong_sender_and_recipients(tmp_path):
    recs = happy()
    recs[1] = ev("send", "quote", B, [S], {"orderID": "o1", "item": "pen", "price": 10})
    recs[3] = ev("send", "ship", S, [B], {"orderID": "o1", "item": "pen", "address": "A", "shipment": "s1"})
    r = run(tmp_path, recs)
    assert 2 in at(r, "ROL001") and at(r, "ROL002") == [2, 4]


def test_agent_playing_two_roles(tmp_path):
    recs = happy()
    for rec, agent in zip(recs, ["alice", "bob", "alice", "alice", "carol"], strict=True):
        rec["agent"] = agent
    r = run(tmp_path, recs)
    assert at(r, "ROL003") == [4]
    assert "Buyer" in r.findings[0].text


# ---------------------------------------------------------------- causality
def test_in_parameter_not_known(tmp_path):
    recs = happy()
    r = run(tmp_path, [recs[0], recs[2]])  # accept before quote: price unknown to the Buyer
    f = next(f for f in r if f.code == "CAU001")
    assert f.line == 2 and "price" in f.text
    assert "quote" not in f.expected  # the Buyer could not have sent quote; it is the Seller's


def test_in_value_differs(tmp_path):
    recs = happy()
    recs[2] = send("accept", {"orderID": "o1", "item": "pen", "price": 99, "address": "A", "decision": "yes"})
    r = run(tmp_path, recs)
    f = next(f for f in r if f.code == "CAU002")
    assert f.line == 3 and f.expected == "price=10"


# ---------------------------------------------------------------- integrity
def test_out_already_bound_by_other_role(tmp_path):
    recs = happy()[:3] + [send("reject", {"orderID": "o1", "price": 10, "decision": "no", "outcome": "x"})]
    r = run(tmp_path, recs)
    assert at(r, "INT001") == [4]


def test_nil_known(tmp_path, tmp_path_factory):
    spec = write(tmp_path / "n.bspl", [])
    spec.write_text("P { roles A, B\n parameters out id key, out x, out y\n"
                    " A -> B: m1[out id key, out x]\n A -> B: m2[in id key, nil x, out y]\n"
                    " A -> B: m3[in id key, in x, out y]\n}\n")
    log = [ev("send", "m1", "A", ["B"], {"id": 1, "x": 2}), ev("send", "m2", "A", ["B"], {"id": 1, "y": 3})]
    r = audit(spec, [write(tmp_path / "l.jsonl", log)])
    assert at(r, "INT002") == [2]


def test_conflicting_values_across_messages(tmp_path):
    # the Shipper never learnt the shipment but carries a different one than the Seller bound
    recs = happy()[:4] + [ev("send", "deliver", H, [B], {"orderID": "o1", "item": "pen", "shipment": "s9",
                                                           "outcome": "ok"})]
    r = run(tmp_path, recs, delivery="receive")
    assert 5 in at(r, "INT003") and 5 in at(r, "CAU001")


# ---------------------------------------------------------------- duplication
def test_identical_resend_is_warning(tmp_path):
    recs = happy()
    r = run(tmp_path, recs[:2] + [recs[1]] + recs[2:])
    assert codes(r) == ["DUP001"] and r.findings[0].severity == "warning" and r.findings[0].line == 3


def test_conflicting_resend_is_error(tmp_path):
    recs = happy()
    r = run(tmp_path, recs[:2] + [send("quote", {"orderID": "o1", "item": "pen", "price": 12})] + recs[2:])
    assert codes(r) == ["DUP002"] and r.findings[0].severity == "error"
    assert "price=12" in r.findings[0].text and r.findings[0].expected == "price=10"


# ---------------------------------------------------------------- delivery
def _with_receipts(recs):
    out = []
    for e in recs:
        out.append(e)
        out.append({**e, "kind": "receive"})
    return out


def test_receipts_clean_and_knowledge_grows_at_receive(tmp_path):
    r = run(tmp_path, _with_receipts(happy()))
    assert r.delivery == "receive" and list(r) == []
    recs = happy()
    # quote sent before the rfq was received: the Seller did not know orderID yet
    log = [recs[0], recs[1], {**recs[0], "kind": "receive"}]
    r = run(tmp_path, log)
    assert at(r, "CAU001") == [2]


def test_sent_never_received(tmp_path):
    log = _with_receipts(happy())
    del log[-1]  # the Buyer never receives deliver
    r = run(tmp_path, log)
    assert codes(r) == ["DEL001"] and r.findings[0].line == 9


def test_forged_receipt(tmp_path):
    log = _with_receipts(happy()[:2]) + [receive("accept", {"orderID": "o1", "item": "pen", "price": 10,
                                                            "address": "A", "decision": "yes"})]
    r = run(tmp_path, log)
    assert at(r, "DEL002") == [5]


def test_tampered_receipt(tmp_path):
    log = _with_receipts(happy())
    log[3] = {**log[3], "bindings": {"orderID": "o1", "item": "pen", "price": 1}}
    r = run(tmp_path, log)
    assert at(r, "DEL005") == [4]


def test_reject_and_drop_with_reason(tmp_path):
    recs = happy()
    log = _with_receipts(recs[:2]) + [recs[2], {**recs[2], "kind": "reject", "reason": "price-cap"},
                                      recs[2], {**recs[2], "kind": "receive"}] + _with_receipts(recs[3:4]) + \
        [recs[4], {**recs[4], "kind": "drop", "reason": "network partition"}]
    r = run(tmp_path, log)
    assert at(r, "DEL003") == [6] and "price-cap" in r.findings[0].text
    assert at(r, "DEL004") == [12] and "partition" in next(f.text for f in r if f.code == "DEL004")
    assert "DUP001" not in codes(r) and "DEL001" not in codes(r)


# ---------------------------------------------------------------- completion
def test_stall_lists_enabled_messages(tmp_path):
    r = run(tmp_path, happy()[:2])
    f = next(f for f in r if f.code == "CMP001")
    assert "accept" in f.expected and "reject" in f.expected and f.severity == "warning"
    assert r.incomplete == 1 and r.complete == 0


def test_deadlock(tmp_path):
    spec = tmp_path / "d.bspl"
    spec.write_text("D { roles A, B\n parameters out id key, out x, out y\n"
                    " A -> B: start[out id key, out x]\n B -> A: stuck[in id key, in y, out x]\n}\n")
    r = audit(spec, [write(tmp_path / "l.jsonl", [ev("send", "start", "A", ["B"], {"id": 1, "x": 2})])])
    assert codes(r) == ["CMP002"] and "y" in r.findings[0].text


# ---------------------------------------------------------------- decision
def _decision(**d):
    base = {"agent": "llm", "role": "Buyer",
            "options": [{"number": 1, "message": "Purchase/accept",
                         "bound": {"orderID": "o1", "item": "pen", "price": 10}, "fill": ["address", "decision"]},
                        {"number": 2, "message": "Purchase/reject",
                         "bound": {"orderID": "o1", "price": 10}, "fill": ["decision", "outcome"]}],
            "raw": '{"choice": 1}', "parsed": {"choice": 1}, "choice": 1, "params": {}}
    base.update(d)
    return {"kind": "decision", "decision": base}


def test_decisions(tmp_path):
    log = happy()[:2] + [
        _decision(raw="I choose accept", parsed=None, choice=None, error="not JSON"),  # 3 DEC001
        _decision(choice=7, parsed={"choice": 7}),                                      # 4 DEC006 + DEC002
        _decision(params={"address": "A", "price": 1}),                                 # 5 DEC004
        _decision(choice=None, parsed={"choice": None}),                                # 6 DEC005
    ]
    r = run(tmp_path, log)
    assert at(r, "DEC001") == [3] and at(r, "DEC006") == [4] and at(r, "DEC002") == [4]
    assert at(r, "DEC004") == [5] and at(r, "DEC005") == [6]
    assert "DEC003" not in codes(r)


def test_choice_not_enabled(tmp_path):
    log = happy()[:1] + [_decision()]  # accept offered before any quote
    r = run(tmp_path, log)
    assert at(r, "DEC003") == [2]


# ---------------------------------------------------------------- inputs
def test_input_errors(tmp_path):
    with pytest.raises(AuditInputError):
        audit(tmp_path / "missing.bspl", [write(tmp_path / "l.jsonl", happy())])
    r = audit(PURCHASE_SPEC(), [tmp_path / "missing.jsonl"])  # a finding, not an abort
    assert [f.code for f in r] == ["REC007"] and r.unread == [str(tmp_path / "missing.jsonl")]
    with pytest.raises(AuditInputError):
        audit(PURCHASE_SPEC(), [write(tmp_path / "l.jsonl", happy())], protocol="Nope")


def test_checker_profile(tmp_path):
    recs = happy()
    r = run(tmp_path, recs[:2] + [recs[1]] + recs[2:], checker={"severity": {"DUP001": "error"}})
    assert [f.severity for f in r] == ["error"]
    r = run(tmp_path, recs[:2] + [recs[1]] + recs[2:], checker={"disable": ["DUP001"]})
    assert list(r) == []
