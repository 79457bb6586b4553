"""`protoverify audit`: options, outputs and exit codes."""
from __future__ import annotations

import io

import orjson

from protoverify.cli import main
from tests.helpers.audit import PURCHASE, happy, write


def _run(args):
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_exit_codes(tmp_path):
    clean = write(tmp_path / "clean.jsonl", happy())
    stalled = write(tmp_path / "stalled.jsonl", happy()[:2])
    assert _run(["audit", "--spec", str(PURCHASE), str(clean)])[0] == 0
    assert _run(["audit", "--spec", str(PURCHASE), str(stalled)])[0] == 0  # a warning
    assert _run(["audit", "--spec", str(PURCHASE), "--fail-on", "warning", str(stalled)])[0] == 1
    assert _run(["audit", "--spec", str(PURCHASE), "--fail-on", "never", str(stalled)])[0] == 0
    bad = write(tmp_path / "bad.jsonl", happy()[:1] + [happy()[2]])
    assert _run(["audit", "--spec", str(PURCHASE), str(bad)])[0] == 1
    assert _run(["audit", "--spec", str(tmp_path / "nope.bspl"), str(clean)])[0] == 2
    code, _, err = _run(["audit", "--spec", str(PURCHASE), str(tmp_path / "nope.jsonl")])
    assert code == 2 and "no such log file" in err
    assert _run(["audit", "--spec", str(PURCHASE), "--format", "yaml", str(clean)])[0] == 2
    assert _run(["audit", str(clean)])[0] == 2  # --spec is required
    notlog = tmp_path / "x.txt"
    notlog.write_text("hello\n")
    assert _run(["audit", "--spec", str(PURCHASE), str(notlog)])[0] == 2


def test_json_output_file_and_help(tmp_path):
    log = write(tmp_path / "l.jsonl", happy()[:2])
    out = tmp_path / "report.json"
    code, stdout, err = _run(["audit", "--spec", str(PURCHASE), "--format", "json", "-o", str(out), str(log)])
    assert code == 0 and stdout == "" and "1 warning," in err
    d = orjson.loads(out.read_bytes())
    assert d["summary"]["incomplete"] == 1 and d["findings"][0]["code"] == "CMP001"
    code, stdout, _ = _run(["audit", "--help"])
    assert code == 0 and "Exit codes" in stdout and "--fail-on" in stdout


def test_sarif_and_junit_render(tmp_path):
    log = write(tmp_path / "l.jsonl", happy())
    for fmt, start in (("sarif", "{"), ("junit", "<?xml")):
        code, stdout, _ = _run(["audit", "--spec", str(PURCHASE), "--format", fmt, str(log)])
        assert code == 0 and stdout.startswith(start)
