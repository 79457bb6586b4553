"""Frames of real audits: the traces/ logs, exchange runs, the Ahoy corpus, JSON audit output."""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protoverify import AuditResult, Finding, audit
from protoverify.analysis import FRAMES, concat, from_json, from_result, load, mode_counts
from protoverify.analysis.columns import CODE_VALUES
from protoverify.analysis.taxonomy import MODE_IDS, MODE_OF
from protoverify.auditor.result import AuditInputError
from protoverify.cli import main as cli_main
from protoverify.findings import CODES
from tests.helpers.corpus import Row, log_rows, sort_key
from tests.helpers.paths import REPO, TRACES, corpus_path

AHOY_SPEC = REPO / "tests" / "fixtures" / "ahoy" / "purchase-logistics.bspl"
CNET = REPO / "specs" / "contract-net.bspl"


def _check_columns(frames: object) -> None:
    for name, cols in FRAMES.items():
        df = getattr(frames, name)
        assert list(df.columns[: len(cols)]) == [c[0] for c in cols], name
        for col, dtype, _ in cols:
            got = df[col].dtype
            if dtype == "category":
                assert isinstance(got, pd.CategoricalDtype), (name, col, got)
            elif dtype == "string":
                assert isinstance(got, pd.StringDtype), (name, col, got)
            else:
                assert str(got) == dtype, (name, col, got)


@pytest.mark.parametrize("row", log_rows(), ids=lambda r: r.name)
def test_corpus_frames_hold_the_expected_findings(row: Row) -> None:
    """Every log of traces/: the findings frame holds exactly the findings its README line
    expects, the enactments frame every enactment of the audit."""
    fr = load([REPO / s for s in row.specs], row.log)
    got = sorted(((str(c), None if pd.isna(n) else int(n)) for c, n in zip(fr.findings["code"], fr.findings["line"],
                                                                              strict=True)), key=sort_key)
    assert tuple(got) == row.expected
    direct = audit([str(REPO / s) for s in row.specs], [str(row.log)], record_enactments=True)
    assert len(fr.enactments) == len(direct.statuses)
    assert list(fr.findings["code"].cat.categories) == list(CODES)
    _check_columns(fr)


def test_ahoy_fixture_decisions() -> None:
    fr = load(TRACES / "specs" / "ahoy-purchase.bspl", TRACES / "ahoy_small.log")
    assert list(fr.decisions["outcome"].astype(str)) == ["chosen", "invalid", "invalid", "declined"]
    assert list(fr.decisions["codes"]) == ["", "DEC001", "DEC006,DEC002", "DEC006,DEC005"]


def test_a_folder_of_mixed_logs_skips_what_is_not_a_log() -> None:
    fr = load([TRACES / "specs" / "ahoy-purchase.bspl", TRACES / "specs" / "ahoy-logistics.bspl"], TRACES / "ahoy")
    names = {Path(p).name for p in fr.skipped}
    assert names == set() and set(fr.findings["file"].map(lambda p: Path(p).name)) <= {
        p.name for p in (TRACES / "ahoy").iterdir()}
    whole = load(CNET, TRACES)
    assert {Path(p).name for p in whole.skipped} >= {"README.md", "summary.json", "injections.jsonl"}
    assert not any(p.endswith(".bspl") for p in whole.findings["file"])


def test_exchange_runs(runs: Path) -> None:
    fr = load(CNET, runs)
    assert set(fr.enactments["run"]) == {"low", "high", "scripted"}
    assert set(fr.enactments["policy"].astype(str)) == {"low", "high"}
    assert all(Path(s).name in ("summary.json", "injections.jsonl") for s in fr.skipped)
    # every decision line of the logs is one row; only the LLM runs have them
    lines = sum(1 for run in ("low", "high", "scripted")
                for line in (runs / run / "exchange.jsonl").read_text().splitlines() if '"type":"decision"' in line)
    assert len(fr.decisions) == lines > 0
    assert set(fr.decisions["run"]) == {"low", "high"}
    assert fr.decisions["latency_s"].notna().all() and (fr.decisions["model"] == "simulated").all()
    # kinds: the one adversarial agent is the last, agent-06, in each run
    kinds = fr.findings.dropna(subset=["agent_kind"]).groupby("agent_kind", observed=True)["agent"].agg(set)
    assert kinds["adversarial"] == {"agent-06"}
    assert "agent-06" not in kinds.get("llm", set())
    assert set(fr.findings.loc[fr.findings["run"] == "scripted", "agent_kind"].dropna()) <= {"scripted", "adversarial"}
    # every enactment has its sends, times and agents; complete ones at least two messages
    en = fr.enactments
    assert (en["messages"] >= 1).all() and en["start"].notna().all() and (en["duration"] >= 0).all()
    assert (en.loc[en["complete"], "messages"] >= 2).all()
    assert en["agents"].str.contains("agent-").all()
    _check_columns(fr)


def test_events_belong_to_the_enactment_the_audit_names(runs: Path) -> None:
    """Where the audit reports a finding at a send, the events frame puts that send in the
    same enactment (the attribution agrees with the Monitor's)."""
    fr = load(CNET, runs / "low")
    sends = fr.events[fr.events["kind"] == "send"].set_index("line")["enactment"]
    checked = 0
    for _, f in fr.findings.dropna(subset=["enactment", "line"]).iterrows():
        if f["line"] in sends.index and f["code"] not in ("CMP001", "CMP002"):
            assert sends[f["line"]] == f["enactment"], f.to_dict()
            checked += 1
    assert checked > 5


def test_runs_are_audited_apart(runs: Path, tmp_path: Path) -> None:
    """Two runs reuse run ids and keys: audited apart, each keeps its enactments."""
    one = load(CNET, runs / "low")
    both = load(CNET, runs / "low", runs / "high")
    high = load(CNET, runs / "high")
    assert len(both.enactments) == len(one.enactments) + len(high.enactments)
    together = load(CNET, runs / "low", runs / "high", separate=False)
    assert len(together.enactments) < len(both.enactments)


def test_from_json_matches_load(runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    log = runs / "high" / "exchange.jsonl"
    err = io.StringIO()
    assert cli_main(["audit", "--spec", str(CNET), str(log), "--format", "json", "-o", str(out)],
                    stdout=io.StringIO(), stderr=err) == 1, err.getvalue()
    fj = from_json(out)
    fl = load(CNET, log)
    assert list(fj.findings["code"]) == list(fl.findings["code"])
    assert len(fj.decisions) == len(fl.decisions) > 0
    # the CLI keeps only enactments with findings or left incomplete; load keeps them all
    cols = ["enactment", "status", "first_line", "messages", "start", "agents"]
    merged = fj.enactments[cols].merge(fl.enactments[cols], how="left", on=["enactment", "first_line"],
                                       suffixes=("_json", "_load"), validate="one_to_one")
    assert 0 < len(merged) < len(fl.enactments)
    for c in ("status", "messages", "start", "agents"):
        assert (merged[f"{c}_json"] == merged[f"{c}_load"]).all(), c
    _check_columns(fj)
    alone = from_json(out, read_logs=False)
    assert alone.decisions.empty and alone.enactments["messages"].isna().all()


def test_from_json_rejects_other_json(tmp_path: Path) -> None:
    p = tmp_path / "summary.json"
    p.write_text('{"protocol": "x"}')
    with pytest.raises(AuditInputError, match="summary.json"):
        from_json(p)


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**64) | st.floats(allow_nan=False)
                     | st.text(max_size=6), lambda c: st.lists(c, max_size=3)
                     | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=6)
_FIELDS = ["code", "family", "severity", "source", "line", "run", "enactment", "message", "role", "agent", "text",
           "expected", "status", "first_line", "last_line", "events", "missing", "path"]
_VALUES = _JSON | st.sampled_from([*sorted(CODES)[:6], "XYZ999", "error", "info", "complete", "ID=1", 3])
_ROW = st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=8)
_DOC = st.fixed_dictionaries({"findings": st.lists(_ROW | _JSON, max_size=3)},
                             optional={"enactments": st.lists(_ROW | _JSON, max_size=3) | _JSON,
                                       "sources": st.lists(_ROW | _JSON, max_size=2) | _JSON}) | _JSON


@settings(max_examples=300, deadline=None)
@given(_DOC)
def test_from_json_of_junk_is_frames_or_a_located_error(tmp_path_factory: pytest.TempPathFactory, doc) -> None:
    """Whatever JSON it is given, from_json returns frames or says where the input is wrong
    (AuditInputError), never another exception."""
    import json

    p = tmp_path_factory.mktemp("junk") / "audit.json"
    p.write_text(json.dumps(doc))
    try:
        frames = from_json(p, read_logs=False)
    except AuditInputError as e:
        assert str(p) in str(e)
        return
    assert len(frames.findings) == len(doc["findings"])
    assert set(frames.findings["code"].dropna()) <= set(CODES)


@pytest.mark.parametrize("findings,where", [("[1]", "findings[0]: not an object"),
                                            ('[{"x": 1}]', "findings[0]: unknown code None"),
                                            ('[{"code": "NOPE1"}]', "findings[0]: unknown code 'NOPE1'"),
                                            ('[{"code": "CAU001", "line": "7"}]', "findings[0]: line is not")])
def test_from_json_locates_a_bad_finding(tmp_path: Path, findings: str, where: str) -> None:
    p = tmp_path / "audit.json"
    p.write_text(f'{{"findings": {findings}}}')
    with pytest.raises(AuditInputError, match=re.escape(f"{p}: {where}")):
        from_json(p)


def test_labels_become_columns(runs: Path) -> None:
    fr = load(CNET, runs / "low", runs / "scripted",
              labels={str(runs / "low"): {"agent_kinds": "simulated-llm"},
                      str(runs / "scripted"): {"agent_kinds": "scripted"}})
    for df in (fr.findings, fr.enactments, fr.events):
        assert isinstance(df["agent_kinds"].dtype, pd.CategoricalDtype)
        assert set(df["agent_kinds"].astype(str)) == {"simulated-llm", "scripted"}
    assert set(fr.decisions["agent_kinds"].astype(str)) == {"simulated-llm"}


def test_mode_counts(runs: Path) -> None:
    fr = load(CNET, runs)
    table = fr.modes("policy")
    assert list(table.index) == list(MODE_IDS)
    assert int(table.to_numpy().sum()) == len(fr.findings)
    assert list(table.columns) == ["low", "high"]
    assert int(fr.modes()["findings"].sum()) == len(fr.findings)
    assert mode_counts(fr.findings, ["policy", "agent_kind"]).to_numpy().sum() == len(fr.findings)


def test_one_enactment(runs: Path) -> None:
    fr = load(CNET, runs / "low")
    label = fr.enactments.sort_values("findings").iloc[-1]["enactment"]
    events, findings = fr.enactment(label)
    assert len(events) >= 2 and list(events["line"]) == sorted(events["line"])
    assert (findings["enactment"] == label).all() and len(findings) > 0
    with pytest.raises(KeyError, match="no enactment"):
        fr.enactment("cfpID=nothing")


def test_ahoy_loop_in_the_frames() -> None:
    log = corpus_path("ahoy", "demo", "demo1", "results", "demo1_20260130_234930.log")
    fr = load(AHOY_SPEC, log)
    loop = fr.findings[fr.findings["mode"] == "loop"]
    assert list(loop["line"]) == [932] and list(loop["agent"]) == ["Merchant"]
    d = fr.decisions
    assert (d.loc[d["agent"] == "Merchant", "message"].dropna() == "Logistics/RequestLabel").sum() == 11
    assert list(d["outcome"].astype(str)).count("unanswered") == 1
    orders = fr.enactments[fr.enactments["enactment"].str.startswith("orderID=")]
    assert len(orders) == 11 and (orders["status"] == "stalled").all() and (orders["messages"] == 1).all()


_codes = st.sampled_from(list(CODES))
_findings = st.lists(st.builds(lambda c, line, run: Finding(c, CODES[c].severity, f"{c} here", "x.log", line, run),
                               _codes, st.none() | st.integers(1, 10**6), st.none() | st.sampled_from(["r1", "r2"])),
                     max_size=40)


@settings(max_examples=60, deadline=None)
@given(_findings)
def test_generated_findings_keep_their_rows(findings: list[Finding]) -> None:
    fr = from_result(AuditResult(findings=findings), read_logs=False)
    df = fr.findings
    assert len(df) == len(findings)
    assert list(df["code"].cat.categories) == list(CODE_VALUES)
    assert list(df["code"].astype(str)) == [f.code for f in findings]
    assert list(df["mode"].astype(str)) == [MODE_OF[f.code] for f in findings]
    assert list(df["severity"].astype(str)) == [f.severity.value for f in findings]
    assert int(mode_counts(df).sum().iloc[0]) == len(findings)


def test_import_protoverify_loads_no_pandas() -> None:
    code = ("import sys, protoverify; from protoverify.cli import main; main(['check', '--help']); "
            "print('pandas' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"


def test_concat_keeps_rows_and_dtypes(runs: Path) -> None:
    """Logs that need different specs: load each, then concat."""
    a = load(CNET, runs / "low", labels={str(runs / "low"): {"agent_kinds": "simulated-llm"}})
    b = load(TRACES / "specs" / "ahoy-purchase.bspl", TRACES / "ahoy_small.log")
    both = concat([a, b])
    for name in FRAMES:
        assert len(getattr(both, name)) == len(getattr(a, name)) + len(getattr(b, name))
    _check_columns(both)
    assert list(both.findings["code"].cat.categories) == list(CODES)
    assert set(both.findings["agent_kinds"].dropna().astype(str)) == {"simulated-llm"}
    assert both.result is not None and len(both.result.findings) == len(both.findings)


def test_messy_folder_and_missing_inputs(tmp_path: Path) -> None:
    """A folder with a corrupt, an empty and a good log; a log that is missing; an empty folder."""
    messy = REPO / "examples" / "logs" / "messy"
    fr = load(REPO / "specs" / "purchase.bspl", messy, tmp_path / "missing.jsonl")
    assert fr.skipped == [str(messy / "summary.json")]  # a metrics file beside the logs: not a log
    assert set(fr.findings["file"].dropna()) >= {str(messy / "corrupt.jsonl"), str(tmp_path / "missing.jsonl")}
    assert "REC001" in set(fr.findings["code"].astype(str))
    missing = fr.findings[fr.findings["code"] == "REC007"]
    assert list(missing["file"]) == [str(tmp_path / "missing.jsonl")] and missing["mode"].eq("log-defect").all()
    (tmp_path / "empty").mkdir()
    none = load(REPO / "specs" / "purchase.bspl", tmp_path / "empty")
    for name in FRAMES:
        assert getattr(none, name).empty
    _check_columns(none)
