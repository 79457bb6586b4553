"""Several specs at once: `--spec` repeatable or a directory; each event goes to the
protocol that has its message; an ambiguous name is REC008."""
from __future__ import annotations

import io
import shutil

import orjson

from protoverify.auditor.driver import audit
from protoverify.cli import main
from tests.helpers.audit import PURCHASE, REPO, ev, happy, write

LOGISTICS = REPO / "specs" / "logistics.bspl"


def _logistics(o: str) -> list[dict[str, object]]:
    """One complete Logistics enactment (open, pack, load)."""
    return [ev("send", "open", "Merchant", ["Packer"], {"orderID": o, "deadline": 1}),
            ev("send", "requestPacking", "Merchant", ["Packer"], {"orderID": o, "contents": "c"}),
            ev("send", "packed", "Packer", ["Merchant"], {"orderID": o, "contents": "c", "Pack.ticket": "t",
                                                          "package": "p"}),
            ev("send", "requestLoading", "Merchant", ["Carrier"], {"orderID": o, "package": "p",
                                                                   "destination": "d"}),
            ev("send", "loaded", "Carrier", ["Merchant"], {"orderID": o, "package": "p", "destination": "d",
                                                           "Load.ticket": "t2", "manifest": "m"})]


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_mixed_log_audits_against_both(tmp_path):
    log = write(tmp_path / "mixed.jsonl", happy("o1") + _logistics("L1") + happy("o2")[:1])
    r = audit([PURCHASE, LOGISTICS], [log])
    assert sorted(r.protocols) == ["Logistics", "Purchase"]
    assert r.complete == 2 and [f.code for f in r] == ["CMP001"]
    # alone, each spec calls the other's messages unknown
    assert {f.code for f in audit(PURCHASE, [log])} >= {"REC003"}


def test_spec_repeatable_and_directory_cli(tmp_path):
    log = write(tmp_path / "mixed.jsonl", happy("o1") + _logistics("L1"))
    code, out, _ = _run(["audit", "--spec", str(PURCHASE), "--spec", str(LOGISTICS), "--format", "json", str(log)])
    doc = orjson.loads(out)
    assert code == 0 and doc["summary"]["complete"] == 2 and sorted(doc["protocols"]) == ["Logistics", "Purchase"]
    d = tmp_path / "specs"
    d.mkdir()
    shutil.copy(PURCHASE, d)
    shutil.copy(LOGISTICS, d)
    code, out, _ = _run(["audit", "--spec", str(d), "--format", "json", str(log)])
    assert code == 0 and orjson.loads(out)["summary"]["complete"] == 2
    # the second --spec no longer replaces the first: with Purchase only, Logistics is unknown
    code, out, _ = _run(["audit", "--spec", str(PURCHASE), str(log)])
    assert code == 1 and "REC003" in out


def test_ambiguous_message_is_a_finding(tmp_path):
    other = tmp_path / "other.bspl"
    other.write_text("Quote {\n  roles Buyer, Seller\n  parameters out orderID key, out item\n"
                     "  Buyer -> Seller: rfq[out orderID key, out item]\n}\n")
    log = write(tmp_path / "l.jsonl", happy("o1")[:1])
    r = audit([PURCHASE, other], [log])
    assert [f.code for f in r] == ["REC008"] and "Purchase, Quote" in r.findings[0].text
    qualified = dict(happy("o1")[0], message="Purchase/rfq")
    r = audit([PURCHASE, other], [write(tmp_path / "q.jsonl", [qualified])])
    assert "REC008" not in {f.code for f in r}


def test_same_protocol_in_two_specs_is_an_input_error(tmp_path):
    shutil.copy(PURCHASE, tmp_path / "copy.bspl")
    code, _, err = _run(["audit", "--spec", str(PURCHASE), "--spec", str(tmp_path / "copy.bspl"),
                         str(write(tmp_path / "l.jsonl", happy()))])
    assert code == 2 and "defined in both" in err


def test_front_door_takes_a_list_of_specs(tmp_path):
    import protoverify

    log = write(tmp_path / "mixed.jsonl", happy("o1") + _logistics("L1"))
    r = protoverify.audit([str(PURCHASE), LOGISTICS], [log])
    assert r.complete == 2 and list(r) == []
