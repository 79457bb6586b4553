"""`[tool.protoverify]` / protoverify.toml: `check` and `audit` with no arguments do the job."""
from __future__ import annotations

import io
import shutil

import orjson
import pytest

from protoverify.cli import main
from protoverify.config import ConfigError, load
from tests.helpers.paths import REPO

PYPROJECT = """\
[project]
name = "shop"

[tool.protoverify]
specs = ["protocols"]
exclude = ["protocols/drafts/*"]

[tool.protoverify.check]
fail-on = "warning"
per-file-ignores = { "warn.bspl" = ["W"], "logistics.bspl" = ["W101"] }

[[tool.protoverify.audit]]
spec = ["protocols/purchase.bspl", "protocols/logistics.bspl"]
logs = ["logs/**/*.jsonl"]
exclude = ["logs/old/*"]

[[tool.protoverify.audit]]
spec = "protocols/purchase.bspl"
logs = ["more/*.jsonl"]
checker = "strict"
"""


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    spec = tmp_path / "protocols"
    (spec / "drafts").mkdir(parents=True)
    shutil.copy(REPO / "specs" / "purchase.bspl", spec)
    shutil.copy(REPO / "specs" / "logistics.bspl", spec)
    (spec / "drafts" / "broken.bspl").write_text("P { roles")
    (spec / "warn.bspl").write_text("W {\n  roles A, B\n  parameters out id key, out x\n  private unused\n"
                                    "  A -> B: m[out id key, out x]\n}\n")
    (tmp_path / "logs" / "old").mkdir(parents=True)
    (tmp_path / "more").mkdir()
    shutil.copy(REPO / "examples" / "logs" / "mixed" / "purchase-and-logistics.jsonl", tmp_path / "logs")
    (tmp_path / "logs" / "old" / "junk.jsonl").write_text("not a log\n")
    shutil.copy(REPO / "examples" / "logs" / "purchase-clean.jsonl", tmp_path / "more")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_with_no_arguments(project):
    code, out, _ = run("check", "--no-verify")
    # drafts excluded; warn.bspl's warnings ignored for that file though fail-on is warning
    assert code == 0 and "broken" not in out and "protocols/purchase.bspl: Purchase" in out
    assert "protocols/warn.bspl: W" in out
    (project / "protocols" / "warn2.bspl").write_text((project / "protocols" / "warn.bspl").read_text())
    assert run("check", "--no-verify")[0] == 1  # the same warnings elsewhere fail (fail-on = warning)
    assert run("check", "--no-verify", "--fail-on", "error")[0] == 0  # the command line wins


def test_audit_with_no_arguments(project):
    code, out, err = run("audit", "--format", "json")
    doc = orjson.loads(out)
    assert code == 0, err
    assert [s["path"] for s in doc["sources"]] == ["logs/purchase-and-logistics.jsonl", "more/purchase-clean.jsonl"]
    assert doc["summary"]["complete"] == 4 and sorted(doc["protocols"]) == ["Logistics", "Purchase"]
    clean = (project / "more" / "purchase-clean.jsonl").read_text().splitlines()
    (project / "more" / "bad.jsonl").write_text(clean[1] + "\n")  # a quote with no request
    assert run("audit")[0] == 1
    (project / "more" / "junk.jsonl").write_text("{oops\n")
    assert run("audit")[0] == 2


def test_protoverify_toml_from_a_subfolder(project, monkeypatch):
    (project / "pyproject.toml").unlink()
    (project / "protoverify.toml").write_text(PYPROJECT.split("[tool.protoverify]\n", 1)[1]
                                              .replace("tool.protoverify.", ""))
    monkeypatch.chdir(project / "logs")
    code, out, err = run("audit", "--format", "json")
    assert code == 0, err
    assert orjson.loads(out)["summary"]["complete"] == 4


def test_no_configuration_is_a_usage_error(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    code, _, err = run("audit")
    assert code == 2 and "Missing option '--spec'" in err and "docs/ci.md" in err
    assert run("check")[0] == 2


@pytest.mark.parametrize("text,msg", [
    ("[tool.protoverify]\nspecz = 1\n", "unknown key(s) specz"),
    ("[tool.protoverify]\n[[tool.protoverify.audit]]\nspec = 'a'\n", "needs `spec` and `logs`"),
    ("[tool.protoverify]\n[tool.protoverify.check]\nfail_onn = 'x'\n", "unknown option fail-onn"),
    ("[tool.protoverify]\n[tool.protoverify.check]\ntimeout = 'x'\n", "wrong type"),
    ("[tool.protoverify\n", "pyproject.toml"),
])
def test_invalid_configuration(tmp_path, monkeypatch, text, msg):
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        load(tmp_path / "pyproject.toml")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    code, _, err = run("check")
    assert code == 2 and "Error:" in err
