"""Messages: plurals, "did you mean" hints, SARIF sentences."""
from __future__ import annotations

import io

import orjson

from protoverify.auditor.driver import audit
from protoverify.cli import main
from tests.audit.test_audit_multispec import LOGISTICS, _logistics
from tests.helpers.audit import PURCHASE, happy, write


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_plurals(tmp_path):
    one = write(tmp_path / "one.jsonl", happy()[:1] + [happy()[2]])
    _, out, _ = _run(["audit", "--spec", str(PURCHASE), str(one)])
    last = out.splitlines()[-1]
    assert "1 error," in last and "errors" not in last and "2 events (2 records) in 1 enactment:" in last
    _, out, _ = _run(["audit", "--spec", str(PURCHASE), str(write(tmp_path / "c.jsonl", happy()[:1]))])
    assert "1 event (1 record) in 1 enactment:" in out and "1 warning," in out


def test_hint_for_the_wrong_spec(tmp_path, monkeypatch):
    log = write(tmp_path / "l.jsonl", _logistics("L1") + _logistics("L2"))
    r = audit(PURCHASE, [log])
    assert len(r.hints) == 1 and r.hints[0].startswith("almost every event fails against Purchase: did you mean")
    assert r.hints[0].endswith(f"--spec {LOGISTICS.relative_to(LOGISTICS.parents[1])}?") \
        or r.hints[0].endswith(f"{LOGISTICS.name}?")
    code, out, _ = _run(["audit", "--spec", str(PURCHASE), str(log)])
    assert "hint: almost every event fails against Purchase: did you mean --spec" in out
    assert audit(PURCHASE, [write(tmp_path / "ok.jsonl", happy() + _logistics("L1")[:1])]).hints == []


def test_hint_for_the_wrong_format(tmp_path):
    log = write(tmp_path / "n.jsonl", happy())
    r = audit(PURCHASE, [log], format="ahoy")
    assert r.hints and "did you mean --format-in native" in r.hints[0]
    code, _, err = _run(["audit", "--spec", str(PURCHASE), "--format-in", "ahoy", "--format", "json", str(log)])
    assert "hint: " in err and "--format-in native" in err


def test_sarif_messages_are_sentences(tmp_path):
    log = write(tmp_path / "l.jsonl", happy()[:1] + [happy()[2]] + ["{broken"])
    _, out, _ = _run(["audit", "--spec", str(PURCHASE), "--format", "sarif", str(log)])
    results = orjson.loads(out)["runs"][0]["results"]
    assert results
    for r in results:
        t = r["message"]["text"]
        assert t[0].isupper() and t.endswith("."), t
