"""`check` over many specs: proofs in parallel processes, cached by spec content,
protocol, timeout and tool version; the verdicts never depend on either."""
from __future__ import annotations

import io
import shutil

import orjson

from protoverify.cli import main
from protoverify.commands._parallel import cache_key
from tests.helpers.paths import REPO


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _verdicts(out: str) -> list[tuple[str, str, object, object, object]]:
    return [(f["path"], p["name"], p.get("safety", {}).get("verdict"), p.get("liveness", {}).get("verdict"),
             p.get("enactable")) for f in orjson.loads(out)["files"] for p in f["protocols"]]


def test_parallel_verdicts_equal_sequential():
    one = run("check", "--format", "json", "-j", "1", str(REPO / "specs"))
    two = run("check", "--format", "json", "-j", "2", str(REPO / "specs"))
    assert one[0] == two[0] == 1
    assert _verdicts(one[1]) == _verdicts(two[1]) and len(_verdicts(one[1])) >= 8


def _without_times(o: object) -> object:
    if isinstance(o, dict):
        return {k: _without_times(v) for k, v in o.items() if k != "seconds"}
    if isinstance(o, list):
        return [_without_times(v) for v in o]
    return o


def test_reports_equal_with_jobs_and_alone():
    """Counterexamples too, not only verdicts: Z3's times order independent events by
    accident (they depend on what the process solved before), so the order printed is a
    canonical one (prover.solve.canonical_order)."""
    one = _without_times(orjson.loads(run("check", "--format", "json", "-j", "1", str(REPO / "specs"))[1]))
    two = _without_times(orjson.loads(run("check", "--format", "json", "-j", "2", str(REPO / "specs"))[1]))
    assert one == two
    assert isinstance(one, dict)
    files = {f["path"]: f for f in one["files"]}
    unsafe = next(p for p, f in files.items() if p.endswith("purchase-unsafe.bspl"))
    alone = _without_times(orjson.loads(run("check", "--format", "json", str(REPO / unsafe))[1]))
    assert isinstance(alone, dict)
    assert alone["files"][0]["protocols"] == files[unsafe]["protocols"]
    assert any("counterexample" in p.get("safety", {}) for p in files[unsafe]["protocols"])


def test_cache_reuses_unchanged_specs_only(tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(REPO / "specs", specs, ignore=shutil.ignore_patterns("*.md"))
    cache = tmp_path / "cache"
    code1, out1, err1 = run("check", "--format", "json", "--cache", str(cache), str(specs))
    assert "0 proofs reused" in err1 and list(cache.glob("*.json"))
    code2, out2, err2 = run("check", "--format", "json", "--cache", str(cache), str(specs))
    assert code1 == code2 and _verdicts(out1) == _verdicts(out2)
    assert ", 0 solved" in err2
    text = (specs / "purchase.bspl").read_text()
    (specs / "purchase.bspl").write_text(text.replace("out outcome]", "out outcome]\n  // edited"))
    _, out3, err3 = run("check", "--format", "json", "--cache", str(cache), str(specs))
    assert ", 1 solved" in err3 and _verdicts(out3) == _verdicts(out1)
    # the text report from the cache shows the same counterexamples as the run that solved them
    fresh = run("check", str(specs / "purchase-unsafe.bspl"), "--cache", str(tmp_path / "c2"))[1]
    again = run("check", str(specs / "purchase-unsafe.bspl"), "--cache", str(tmp_path / "c2"))[1]
    assert fresh == again and "unsafe: price" in again


def test_cache_key_covers_content_protocol_timeout():
    k = cache_key("P {}", "P", 5.0)
    assert k == cache_key("P {}", "P", 5.0)
    assert len({k, cache_key("P { }", "P", 5.0), cache_key("P {}", "Q", 5.0), cache_key("P {}", "P", 6.0)}) == 4


def test_corrupt_cache_entry_is_ignored(tmp_path):
    spec = str(REPO / "specs" / "purchase.bspl")
    cache = tmp_path / "cache"
    run("check", "--cache", str(cache), spec)
    for f in cache.glob("*.json"):
        f.write_text("{not json")
    code, out, err = run("check", "--cache", str(cache), spec)
    assert code == 0 and "safe, live" in out and "1 solved" in err
