"""Shipped checker profiles load, and change what the audit reports."""
from __future__ import annotations

import io
import json

import pytest

from protoverify.cli import main
from protoverify.findings import CODES
from tests.helpers.paths import REPO, corpus_path

PROFILES = sorted((REPO / "checkers").glob("*.json"))


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_profile_names_only_known_codes(path):
    prof = json.loads(path.read_text())
    assert set(prof.get("disable", [])) | set(prof.get("severity", {})) <= set(CODES)


def _audit(*args):
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "--format", "json", *args], out, err)
    return code, (json.loads(out.getvalue()) if out.getvalue().strip() else None), err.getvalue()


def test_single_agent_profile_turns_stalls_into_notes():
    corpus = corpus_path("bspl-adapter")
    spec, log = str(corpus / "purchase.bspl"), str(corpus / "wire.inject.jsonl")
    _, plain, _ = _audit("--spec", spec, "--fail-on", "warning", log)
    code, relaxed, _ = _audit("--spec", spec, "--checker", "single-agent", "--fail-on", "warning", log)
    assert plain["summary"]["findings"]["warning"] >= 2
    assert {f["code"] for f in plain["findings"] if f["severity"] == "warning"} == {"CMP001"}
    assert relaxed["summary"]["findings"]["warning"] == 0
    stalls = [f["severity"] for f in relaxed["findings"] if f["code"] == "CMP001"]
    assert len(stalls) == plain["summary"]["findings"]["warning"] and set(stalls) == {"info"}
    assert code == 1  # the CAU001 errors still fail the gate


def test_strict_profile_fails_on_stalls():
    corpus = corpus_path("bspl-adapter")
    _, doc, _ = _audit("--spec", str(corpus / "purchase.bspl"), "--checker", "strict",
                       str(corpus / "wire.inject.jsonl"))
    assert {f["severity"] for f in doc["findings"] if f["code"] == "CMP001"} == {"error"}


@pytest.mark.parametrize("content", ['["CMP001"]', '{"severity": {"NOPE1": "error"}}',
                                     '{"severity": {"CMP001": "fatal"}}', "not json"])
def test_bad_profile_is_an_input_error(tmp_path, content):
    corpus = corpus_path("bspl-adapter")
    prof = tmp_path / "p.json"
    prof.write_text(content)
    code, _, err = _audit("--spec", str(corpus / "purchase.bspl"), "--checker", str(prof),
                          str(corpus / "wire.jsonl"))
    assert code == 2 and "checker" in err
