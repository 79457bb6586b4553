"""`protoverify check` with verification: exit codes, text lines, JSON keys."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest

from bench.families import concurrent_replies, deadlocked_pair, independent_choices
from protoverify.cli import main
from tests.helpers.paths import REPO, SPECS


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def write(tmp_path):
    def _write(text: str, name: str = "p.bspl") -> str:
        p = tmp_path / name
        p.write_text(text)
        return str(p)
    return _write


SAFE = """Ok {
  roles A, B
  parameters out id key, out done
  A -> B: go[out id key]
  B -> A: fin[in id key, out done]
}"""

UNSAFE = """Bad {
  roles A, B
  parameters out id key, out x
  A -> B: go[out id key]
  A -> B: a[in id key, out x]
  B -> A: b[in id key, out x]
}"""

ILL = """Ill {
  roles A, B
  parameters out id key, out done
  A -> B: go[out id key, in nothere]
}"""


def test_safe_and_live_exits_0(write):
    code, out, _ = run("check", write(SAFE))
    assert code == 0
    assert re.search(r"Ok: well-formed, safe, live, 2/2 messages enactable", out)


def test_unsafe_exits_1_with_counterexample(write):
    code, out, _ = run("check", write(UNSAFE))
    assert code == 1
    assert "unsafe (x)" in out and "x is bound by A and B" in out


def test_nonlive_exits_1(write):
    code, out, _ = run("check", write(deadlocked_pair()), "--diagram")
    assert code == 1 and "nonlive (missing x, y)" in out
    assert "sequenceDiagram" in out and "m1 disabled: A does not know in y" in out


def test_ill_formed_is_skipped(write):
    code, out, _ = run("check", write(ILL), "--format", "json")
    assert code == 1
    [f] = json.loads(out)["files"]
    [p] = f["protocols"]
    assert p["wellformed"] is False
    assert p["safety"]["verdict"] == "skipped" and p["liveness"]["verdict"] == "skipped"


def test_skipped_and_verified_protocols_have_one_json_shape(write):
    code, out, _ = run("check", "--format", "json", write(ILL), write(SAFE, "q.bspl"))
    doc = json.loads(out)
    assert set(doc) == {"version", "files"} and doc["version"] == 1
    skipped, verified = (f["protocols"][0] for f in doc["files"])
    assert skipped["safety"]["verdict"] == "skipped" and verified["safety"]["verdict"] == "safe"

    def shape(p):  # keys and value types, one level into the per-property objects
        return {k: ({kk: type(vv).__name__ for kk, vv in v.items()} if k in ("safety", "liveness")
                    else type(v).__name__) for k, v in p.items() if k != "wellformed"}

    assert shape(skipped).keys() == shape(verified).keys()
    assert shape(skipped)["safety"].keys() == shape(verified)["safety"].keys()
    assert shape(skipped)["liveness"].keys() == shape(verified)["liveness"].keys()
    assert shape(skipped)["enactable"] == "dict" and shape(verified)["enactable"] == "dict"


def test_json_keys(write):
    code, out, _ = run("check", "--format", "json", write(UNSAFE), write(SAFE, "q.bspl"))
    assert code == 1
    files = json.loads(out)["files"]
    assert [set(f) >= {"path", "diagnostics", "protocols"} for f in files] == [True, True]
    p = files[0]["protocols"][0]
    assert set(p) >= {"name", "wellformed", "diagnostics", "safety", "liveness", "enactable", "seconds"}
    assert set(p["safety"]) >= {"verdict", "parameter", "counterexample"}
    assert set(p["liveness"]) >= {"verdict", "missing", "counterexample"}
    assert p["safety"]["verdict"] == "unsafe" and p["safety"]["parameter"] == "x"
    ev = p["safety"]["counterexample"][0]
    assert set(ev) >= {"kind", "message", "sender", "recipients", "params"}
    assert p["enactable"] == {"go": True, "a": True, "b": True}
    assert files[1]["protocols"][0]["liveness"]["verdict"] == "live"


def test_usage_and_input_errors_exit_2(write, tmp_path):
    assert run("check", str(tmp_path / "missing.bspl"))[0] == 2
    assert run("check", write(SAFE), "--timeout", "-1")[0] == 2
    assert run("check", write("Broken { roles")) [0] == 2


def test_timeout_exits_3(write):
    code, out, _ = run("check", write(independent_choices(256, deadlock=True)), "--timeout", "0.001",
                       "--format", "json")
    p = json.loads(out)["files"][0]["protocols"][0]
    assert p["liveness"]["verdict"] == "unknown" and p["safety"]["verdict"] == "safe"
    assert code == 3


def test_help_does_not_import_z3():
    code = ("import sys; from protoverify.cli import main; import io; "
            "main(['check', '--help'], io.StringIO(), io.StringIO()); "
            "print('z3' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True).stdout
    assert out.split() == ["False"]


EXPECT = re.compile(r"^//\s*expect:\s*(?P<name>.+?)\s+wellformed=(?P<wf>\w+)\s+safety=(?P<safety>\w+)"
                    r"\s+liveness=(?P<liveness>\w+)", re.M)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.bspl"))
                         + sorted((REPO / "tests/fixtures/bspl_quirks").glob("*.bspl")), ids=lambda p: p.name)
def test_specs_meet_their_expectations(path):
    expected = {m["name"]: m.groupdict() for m in EXPECT.finditer(path.read_text())}
    assert expected, f"{path.name}: every spec needs an `// expect:` header"
    code, out, _ = run("check", "--format", "json", str(path))
    files = json.loads(out)["files"]
    got = {p["name"]: p for f in files for p in f["protocols"]}
    assert set(got) == set(expected), "check reports exactly the protocols of the headers"
    for name, e in expected.items():
        p = got[name]
        assert p["wellformed"] == (e["wf"] == "true"), name
        if p["wellformed"]:
            assert p["safety"]["verdict"] == e["safety"], name
            assert p["liveness"]["verdict"] == e["liveness"], name


def test_scale_families_verdicts(write):
    # their wall-clock budget is bench/budgets.py's (`make bench`), not a test's
    for text, code_expected in [(independent_choices(64, deadlock=True), 1), (concurrent_replies(256), 0)]:
        code, out, _ = run("check", write(text))
        assert code == code_expected, out
