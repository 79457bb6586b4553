"""The bspl oracle harness: its output parser, the `// expect:` headers, and
the real bspl 1.1.0 verdicts on specs/ and on the bspl fixtures.

Tests that run bspl skip (with the reason) only when no oracle is
available; see tests/helpers/oracle.py for how it is found.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import oracle

ROOT = oracle.REPO_ROOT
SPECS = sorted((ROOT / "specs").glob("*.bspl"))
DOCS = sorted((ROOT / "tests" / "fixtures" / "bspl_docs").glob("*.bspl"))
QUIRKS = sorted((ROOT / "tests" / "fixtures" / "bspl_quirks").glob("*.bspl"))


_need_oracle = oracle.need_oracle


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


# -- parser, on canned output (no bspl needed) --------------------------------

# bspl ends each protocol header line with a space (written `\x20`, which editors keep)
CANNED = """\
Purchase (x.bspl):\x20
{'elapsed': 0.0026, 'paths': 2, 'safe': True}
{'elapsed': 0.0024, 'paths': 2, 'live': True}
Purchase Unsafe (x.bspl):\x20
{'elapsed': 0.0012, 'path': (B!RFQ, S?RFQ, S!Accept, B!Cancel, B?Accept, S?Cancel), 'paths': 2, 'safe': False, 'unsafe': 'done'}
Only send external messages if they would contribute
{'elapsed': 0.0010, 'paths': 2, 'live': True}
Stuck (x.bspl):\x20
{'elapsed': 0.0036, 'paths': 4, 'safe': True}
{'elapsed': 0.0035, 'path': (B!RFQ, S?RFQ, B!Cancel, S?Cancel), 'paths': 4, 'live': False, 'incomplete': {'price', 'item'}}
Broken (x.bspl):\x20
Verification error: boom
"""  # noqa: E501  (verbatim bspl output lines)


def test_parse_canned_multi_protocol_output() -> None:
    r = oracle.parse_verify_output(CANNED, "x.bspl")
    assert isinstance(r, dict)
    assert list(r) == ["Purchase", "Purchase Unsafe", "Stuck", "Broken"]
    assert (r["Purchase"]["safe"], r["Purchase"]["live"]) == (True, True)
    assert r["Purchase"]["enactable"] is None
    u = r["Purchase Unsafe"]
    assert (u["safe"], u["live"], u["unsafe"]) == (False, True, "done")
    assert u["safety_path"][:2] == ["B!RFQ", "S?RFQ"]
    s = r["Stuck"]
    assert (s["safe"], s["live"], s["incomplete"]) == (True, False, ["item", "price"])
    assert s["liveness_path"] == ["B!RFQ", "S?RFQ", "B!Cancel", "S?Cancel"]
    assert s["liveness_seconds"] == pytest.approx(0.0035)
    b = r["Broken"]
    assert (b["safe"], b["live"], b["error"]) == (None, None, "boom")
    assert "Stuck (x.bspl):" in s["raw"] and "incomplete" in s["raw"]


def test_parse_canned_parse_error_is_a_string() -> None:
    text = "y.bspl: Parse error - error: Expected one of: -> → ↦\n  -> <unknown>[4:7]\n"
    r = oracle.parse_verify_output(text, "y.bspl")
    assert isinstance(r, str) and r.startswith("y.bspl: Parse error - error: Expected")
    assert "[4:7]" in r
    r = oracle.parse_verify_output("z.bspl: Validation error - bad\n", "z.bspl")
    assert r == "z.bspl: Validation error - bad"


def test_parse_ignores_other_files_headers_when_file_given() -> None:
    text = "A (a.bspl): \n{'elapsed': 1.0, 'paths': 1, 'safe': True}\n"
    assert oracle.parse_verify_output(text, "b.bspl") == {}
    assert list(oracle.parse_verify_output(text)) == ["A"]


def test_verdict_words() -> None:
    assert oracle.verdict_words({"safe": False, "live": True}) == {"safety": "unsafe", "liveness": "live"}
    assert oracle.verdict_words({"safe": None, "live": False}) == {"safety": None, "liveness": "nonlive"}


# -- headers ------------------------------------------------------------------


@pytest.mark.parametrize("path", SPECS, ids=_ids(SPECS))
def test_every_spec_has_expectations_for_each_protocol(path: Path) -> None:
    exp = oracle.read_expectations(path)
    assert exp, f"{path.name}: no // expect: lines"
    assert list(exp) == oracle.protocol_names(path)
    # the header comes first: the first non-blank line is an expect line
    first = next(line for line in path.read_text().splitlines() if line.strip())
    assert first.startswith("// expect: ")


def test_read_expectations_parses_names_with_spaces(tmp_path: Path) -> None:
    f = tmp_path / "h.bspl"
    f.write_text(
        "// expect: Purchase Unsafe wellformed=true safety=unsafe liveness=live\n"
        "//   expect:  A  wellformed=false safety=safe liveness=nonlive\n"
        "// bspl-1.1.0: Purchase Unsafe safety=safe liveness=live\n"
        "// bspl-1.1.0-error: list index out of range\n"
    )
    assert oracle.read_expectations(f) == {
        "Purchase Unsafe": {"wellformed": "true", "safety": "unsafe", "liveness": "live"},
        "A": {"wellformed": "false", "safety": "safe", "liveness": "nonlive"},
    }
    assert oracle.read_bspl_expectations(f) == {"Purchase Unsafe": {"safety": "safe", "liveness": "live"}}
    assert oracle.read_bspl_error(f) == "list index out of range"
    assert oracle.read_expected_error(f) is None


@pytest.mark.parametrize(
    "line",
    [
        "// expect: P wellformed=yes safety=safe liveness=live",
        "// expect: P safety=safe liveness=live",
        "// expect: wellformed=true safety=safe liveness=live",
    ],
)
def test_read_expectations_rejects_malformed(tmp_path: Path, line: str) -> None:
    f = tmp_path / "bad.bspl"
    f.write_text(line + "\n")
    with pytest.raises(ValueError):
        oracle.read_expectations(f)


def test_protocol_names_skips_comments_and_bodies(tmp_path: Path) -> None:
    f = tmp_path / "n.bspl"
    f.write_text("// X { not this }\nContract Net {\n roles A\n}\n# Y {\nPack{ roles B }\n")
    assert oracle.protocol_names(f) == ["Contract Net", "Pack"]


# -- the real oracle ----------------------------------------------------------


_CACHE: dict[Path, object] = {}


def _verify_all_cached(path: Path, timeout: float = 120.0):
    """`oracle.verify_all`, run once per file per session (bspl takes ~0.7 s
    just to start)."""
    if path not in _CACHE:
        _CACHE[path] = oracle.verify_all(path, timeout=timeout)
    return _CACHE[path]


def _check_file(path: Path, timeout: float = 120.0) -> None:
    """Assert bspl's verdicts equal the `// expect:` headers, except where a
    `// bspl-1.1.0:` line records a documented bspl bug: there assert the
    bug's known output (and that it really differs from the right verdict)."""
    expected = oracle.read_expectations(path)
    known_bugs = oracle.read_bspl_expectations(path)
    got = _verify_all_cached(path, timeout)
    assert isinstance(got, dict), f"bspl could not load {path.name}: {got}"
    assert list(got) == list(expected), f"{path.name}: protocols differ"
    for name, exp in expected.items():
        words = oracle.verdict_words(got[name])
        if name in known_bugs:
            # documented bspl 1.1.0 bug (see the file's header comment)
            right = {k: exp[k] for k in ("safety", "liveness")}
            want = {**right, **known_bugs[name]}
            assert want != right, f"{path.name}: {name}: bspl-1.1.0 line equals the right verdict"
        else:
            want = {k: exp[k] for k in ("safety", "liveness")}
        assert words == want, f"{path.name}: {name}: bspl said\n{got[name]['raw']}"


@pytest.mark.oracle
@pytest.mark.parametrize("path", SPECS, ids=_ids(SPECS))
def test_oracle_agrees_with_spec_headers(path: Path) -> None:
    _need_oracle()
    _check_file(path)


@pytest.mark.oracle
def test_oracle_logistics_unscoped_private_bug() -> None:
    # bspl 1.1.0 merges Pack's and Load's private `ticket` (known bug):
    # Logistics is reported unsafe on ticket although it is safe.
    _need_oracle()
    got = _verify_all_cached(ROOT / "specs" / "logistics.bspl")
    assert isinstance(got, dict)
    assert got["Logistics"]["safe"] is False and got["Logistics"]["unsafe"] == "ticket"
    assert oracle.read_expectations(ROOT / "specs" / "logistics.bspl")["Logistics"]["safety"] == "safe"


@pytest.mark.oracle
def test_oracle_counterexamples_name_the_culprits() -> None:
    _need_oracle()
    unsafe = _verify_all_cached(ROOT / "specs" / "purchase-unsafe.bspl")["Purchase Unsafe"]
    assert unsafe["unsafe"] == "price"
    assert {"Buyer!bid", "Seller!quote"} <= set(unsafe["safety_path"])
    stuck = _verify_all_cached(ROOT / "specs" / "purchase-nonlive.bspl")["Purchase Nonlive"]
    assert stuck["incomplete"] == ["price"]
    assert "Buyer!withdraw" in stuck["liveness_path"]


@pytest.mark.oracle
@pytest.mark.parametrize("path", DOCS, ids=_ids(DOCS))
def test_oracle_on_bspl_doc_examples(path: Path) -> None:
    _need_oracle()
    if oracle.read_expected_error(path):
        got = oracle.verify_all(path)
        assert isinstance(got, str) and "Parse error" in got
        return
    _check_file(path)


@pytest.mark.oracle
@pytest.mark.parametrize("path", QUIRKS, ids=_ids(QUIRKS))
def test_oracle_still_has_known_quirks(path: Path) -> None:
    """Each quirk fixture records bspl's wrong output; if bspl is fixed,
    this fails and the fixture's header (and docs/) need updating."""
    _need_oracle()
    err = oracle.read_bspl_error(path)
    if err:
        got = oracle.verify_all(path)
        assert isinstance(got, str), f"{path.name}: bspl now loads it: {got}"
        assert err in got
        return
    bugs = oracle.read_bspl_expectations(path)
    assert bugs, f"{path.name}: no // bspl-1.1.0: lines"
    got = oracle.verify_all(path)
    assert isinstance(got, dict), got
    for name, want in bugs.items():
        assert oracle.verdict_words(got[name]) == want, f"{name}: bspl said\n{got[name]['raw']}"


@pytest.mark.oracle
def test_oracle_verify_liveness_omits_external_source() -> None:
    # `verify liveness` (external=False) vs `verify all` on a protocol with
    # public `in` parameters: the first says nonlive, the second live.
    _need_oracle()
    path = ROOT / "tests" / "fixtures" / "bspl_quirks" / "in-param-liveness.bspl"
    only = oracle.verify(path, "liveness")
    both = oracle.verify_all(path)
    assert only["Fulfil"]["live"] is False and only["Fulfil"]["safe"] is None
    assert only["Fulfil"]["liveness_path"] == [] and only["Fulfil"]["incomplete"] == ["done"]
    assert both["Fulfil"]["live"] is True


@pytest.mark.oracle
def test_oracle_reports_parse_errors_as_strings(tmp_path: Path) -> None:
    _need_oracle()
    f = tmp_path / "bad.bspl"
    f.write_text("Bad {\n  roles A, B\n  parameters out id key\n  A->B: go[out id key]\n}\n")
    got = oracle.verify_all(f)
    assert isinstance(got, str) and "Parse error" in got and "Expected one of" in got


@pytest.mark.oracle
def test_oracle_timeout_gives_none_verdicts() -> None:
    _need_oracle()
    path = ROOT / "specs" / "logistics.bspl"
    got = oracle.verify_all(path, timeout=0.01)
    assert isinstance(got, dict)
    assert list(got) == ["Pack", "Load", "Logistics"]
    for v in got.values():
        assert v["timed_out"] and (v["safe"] is None or v["live"] is None)


@pytest.mark.oracle
def test_oracle_version_is_1_1_0() -> None:
    _need_oracle()
    version = oracle.bspl_version()
    if version is None:
        pytest.fail("cannot ask the oracle's interpreter for its bspl version")
    assert version == "1.1.0"
