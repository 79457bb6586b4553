"""The CLI's contract at the language level: exit codes, JSON shape, help text."""
from __future__ import annotations

import io
import json
import subprocess
import sys

from protoverify.cli import main
from tests.helpers.paths import SPECS


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_missing_file_is_an_input_error(tmp_path):
    code, out, _ = run("check", str(tmp_path / "nope.bspl"))
    assert code == 2 and "E000" in out and "no such file" in out


def test_syntax_error_exits_2_with_caret(tmp_path):
    f = tmp_path / "bad.bspl"
    f.write_text("P { roles A B parameters out ID key }\n")
    code, out, _ = run("check", str(f))
    assert code == 2
    assert f"{f}:1:13: error E001" in out and "^" in out


def test_ill_formed_protocol_exits_1_and_json_lists_the_diagnostic(tmp_path):
    f = tmp_path / "ill.bspl"
    f.write_text("P {\n  roles A, B\n  parameters out ID key\n  A -> C: m[out ID key]\n}\n")
    code, out, _ = run("check", "--format", "json", str(f))
    assert code == 1
    doc = json.loads(out)
    assert doc["version"] == 1
    proto = doc["files"][0]["protocols"][0]
    assert proto["name"] == "P" and proto["wellformed"] is False
    assert ("E010", 4, 8) in {(d["code"], d["line"], d["column"]) for d in proto["diagnostics"]}


def test_bad_option_is_a_usage_error():
    code, _, err = run("check", "--format", "xml", str(SPECS / "purchase.bspl"))
    assert code == 2 and "xml" in err


def test_no_arguments_is_a_usage_error():
    code, _, err = run("check")
    assert code == 2 and "Missing argument" in err


def test_help_documents_exit_codes():
    code, out, _ = run("check", "--help")
    assert code == 0 and "Exit codes" in out and "3  inconclusive" in out


def test_console_script_runs_as_module():
    proc = subprocess.run([sys.executable, "-m", "protoverify", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "protoverify" in proc.stdout

