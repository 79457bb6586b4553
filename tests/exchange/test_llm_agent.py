"""LLM agents through the real openai client against a scripted server on 127.0.0.1:
every call is a decision line, bad replies are retried and audited at their lines,
the key never reaches a file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from protoverify.agents.llm import LLMAgent, OpenAIChat
from protoverify.exchange import run
from tests.exchange.helpers import CNET, audited, findings_by_line, records
from tests.exchange.llm_server import ChatServer, Script

KEY = "sk-loopback-7f3a9c1e5d2b4a68"

BAD = [
    ("text", "I will send the call for proposals now."),                 # non-JSON
    ("text", '{"choice": 9, "params": {}}'),                            # out of range
    ("text", '{"choice": 1, "params": {"task": "translate:x", "price": 3}}'),  # invented parameter
    ("careful", None),
    ("text", '{"choice": 1, "params": {}}'),                            # empty params (bid missing)
    ("status", 429),                                                    # rate limited,
    ("status", 503),                                                    # then a server error, then success
    ("careful", None),
    ("slow", 6.0),                                                      # past the client's timeout
    ("careful", None),
]


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("llm")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_API_KEY", KEY)
    script = Script(list(BAD))
    try:
        with ChatServer(script) as srv:
            chat = OpenAIChat("test-model", srv.url, timeout=2.0, backoff=0.01)
            text = CNET.read_text()
            s = run(CNET, agents=3, policy="high", duration=900, seed=3, out=out, interval=600,
                    agent_factory=lambda name: LLMAgent(name, chat, text, attempts=4))
    finally:
        mp.undo()
    return out, s, script


def decisions(out: Path) -> list[tuple[int, dict]]:
    return [(i, r["decision"]) for i, r in enumerate(records(out), 1) if r["type"] == "decision"]


def ds_of(out: Path) -> list[dict]:
    return [d for _, d in decisions(out)]


def test_every_call_is_a_decision_and_the_run_finishes(llm_run):
    out, s, script = llm_run
    ds = decisions(out)
    retried = sum(len(d["http_errors"]) for _, d in ds)
    assert retried == 2 and script.statuses.count(429) == script.statuses.count(503) == 1
    assert len(ds) + retried == script.requests  # every request the server saw is one decision (or retried in one)
    assert s.negotiations_completed > 0 and s.envelopes == s.delivered
    for _, d in ds:
        assert {"prompt_chars", "raw", "parsed", "choice", "error", "latency_s", "tokens", "attempt"} <= d.keys()
        assert d["prompt_chars"] > 0 and d["latency_s"] >= 0


def test_bad_replies_are_retried_with_the_reason(llm_run):
    out, _, _ = llm_run
    ds = [d for _, d in decisions(out)]
    errs = [d["error"] for d in ds[:8]]
    assert errs[0].startswith("reply is not valid JSON")
    assert "out of range 1..1" in errs[1]
    assert "price" in errs[2] and "not parameters" in errs[2]
    assert errs[3] is None and ds[3]["attempt"] == 4
    assert "lack bid" in errs[4]  # the Participant's propose with empty params
    assert errs[5] is None and ds[5]["http_errors"] == ["429", "503"] and ds[5]["attempt"] == 2
    assert errs[6] == "LLM call timed out" and ds[6]["raw"] is None
    assert errs[7] is None and ds[7]["attempt"] == 2


def test_auditor_reports_bad_replies_at_their_lines(llm_run):
    out, _, _ = llm_run
    lines = [i for i, _ in decisions(out)]
    at = findings_by_line(audited(out))
    assert "DEC001" in at[lines[0]]
    assert "DEC002" in at[lines[1]]
    assert "DEC004" in at[lines[2]]
    assert "DEC007" in at[lines[4]]  # the empty params of a propose that must fill bid
    assert "DEC008" in at[lines[6]] and ds_of(out)[6]["failed"] is True  # the timed-out call
    dec007 = [i for i, cs in at.items() if "DEC007" in cs]
    dec008 = [i for i, cs in at.items() if "DEC008" in cs]
    assert dec007 == [lines[4]] and dec008 == [lines[6]]  # at their own lines, nowhere else
    for i in (1, 2, 3, 5, 7):  # each retry after a rejected reply
        assert "DEC006" in at[lines[i]]
    protocol_codes = {c for cs in at.values() for c in cs if not c.startswith("DEC")}
    assert protocol_codes == set()  # the sends themselves are conformant


def test_the_key_is_used_but_never_written(llm_run):
    out, _, script = llm_run
    assert script.auth == {f"Bearer {KEY}"}
    for f in out.rglob("*"):
        if f.is_file():
            assert KEY not in f.read_text(errors="replace"), f


def test_concurrent_enactments_are_not_mixed(llm_run):
    out, _, _ = llm_run
    for _, d in decisions(out):
        key = d["enactment"]
        if key is None:
            continue
        for o in d["options"]:  # each option offered belongs to the enactment the call is about
            assert o["bound"].get("cfpID", key["cfpID"]) == key["cfpID"]


def _decision_line(**d) -> dict:
    base = {"agent": "a1", "role": "Participant", "attempt": 1, "failed": False,
            "options": [{"number": 1, "message": "Contract Net/propose",
                         "bound": {"cfpID": "k1", "task": "t"}, "fill": ["bid"]}],
            "raw": '{"choice": 1, "params": {"bid": 5}}', "parsed": {"choice": 1, "params": {"bid": 5}},
            "choice": 1, "params": {"bid": 5}, "error": None}
    base.update(d)
    return {"kind": "decision", "decision": base}


@pytest.mark.parametrize("change, codes", [
    ({}, set()),
    ({"raw": '{"choice": 1, "params": {}}', "params": {}}, {"DEC007"}),
    ({"raw": '{"choice": 1}', "params": {}}, {"DEC007"}),                  # no params at all
    ({"raw": '{"choice": 1, "params": {"bid": ', "params": {}}, set()),    # cut short: not judged
    ({"raw": "{}", "params": {}}, set()),                                  # the text names no choice
    ({"raw": None, "parsed": None, "choice": None, "params": None, "failed": True,
      "error": "LLM call timed out"}, {"DEC008"}),                         # not a DEC005 decline
])
def test_missing_params_and_failed_calls(tmp_path, change, codes):
    from protoverify.auditor.driver import audit

    p = tmp_path / "log.jsonl"
    cfp = {"kind": "send", "message": "Contract Net/cfp", "sender": "Initiator", "recipients": ["Participant"],
           "bindings": {"cfpID": "k1", "task": "t"}}
    p.write_text(json.dumps(cfp) + "\n" + json.dumps(_decision_line(**change)) + "\n")
    assert {(f.code, f.line) for f in audit(CNET, [p]) if f.code.startswith("DEC")} == {(c, 2) for c in codes}


def test_keys_are_not_required_params(tmp_path):
    from protoverify.auditor.driver import audit

    cfp = {"number": 1, "message": "Contract Net/cfp", "bound": {}, "fill": ["cfpID", "task"]}
    lines = [_decision_line(role="Initiator", options=[cfp], raw='{"choice": 1, "params": {"task": "x"}}'),
             _decision_line(role="Initiator", options=[cfp], raw='{"choice": 1, "params": {"cfpID": "k"}}')]
    p = tmp_path / "log.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert [(f.code, f.line, f.text) for f in audit(CNET, [p]) if f.code == "DEC007"] == [
        ("DEC007", 2, "params lack task, which option 1 (Contract Net/cfp) must fill")]
