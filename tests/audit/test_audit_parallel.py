"""`audit --jobs N` and `--engine dask` give the single-process audit's findings, in its order."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from bench.audit_scale import SPEC, make_corpus
from protoverify.auditor.driver import audit
from protoverify.auditor.parallel import _partitions, audit_parallel
from protoverify.cli import cli


def _key(result: Any) -> list[tuple[Any, ...]]:
    return [(f.code, f.source, f.line, f.text, f.severity, f.run, f.enactment) for f in result.findings]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("corpus")
    paths = [str(p) for p in make_corpus(folder, files=8, runs=3, enactments=4)]
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "notes.jsonl").write_text("not a log at all\njust words\n")
    return paths[:3] + [str(folder / "empty.jsonl")] + paths[3:6] + [str(folder / "notes.jsonl")] + paths[6:]


@pytest.fixture(scope="module")
def single(corpus: list[str]) -> Any:
    return audit(str(SPEC), corpus)


def test_corpus_has_spanning_runs_and_faults(corpus: list[str], single: Any) -> None:
    codes = single.codes()
    for code in ("DEL001", "DUP001", "REC001", "REC007", "CMP002"):
        assert codes[code] >= 1, code
    runs = [{line.split('"run":"')[1].split('"')[0] for line in Path(p).read_text().splitlines()
             if '"run":"' in line} for p in corpus]
    assert any(a & b for a, b in zip(runs, runs[1:], strict=False)), "no run spans two files"


def _assert_same(result: Any, single: Any) -> None:
    assert _key(result) == _key(single)
    assert result.summary() == single.summary()
    assert result.statuses == single.statuses
    assert result.by_enactment == single.by_enactment
    assert (result.sources, result.formats, result.unread) == (single.sources, single.formats, single.unread)
    assert result.delivery == single.delivery


def test_jobs_2_is_identical(corpus: list[str], single: Any) -> None:
    _assert_same(audit_parallel(str(SPEC), corpus, jobs=2), single)


def test_dask_local_cluster_is_identical(corpus: list[str], single: Any) -> None:
    _assert_same(audit_parallel(str(SPEC), corpus, jobs=2, engine="dask"), single)


def test_keep_closed_horizon_is_kept(corpus: list[str]) -> None:
    """With a tiny memory of closed enactments, eviction still happens as in one process."""
    one = audit(str(SPEC), corpus, keep_closed=2, record_enactments=True)
    _assert_same(audit_parallel(str(SPEC), corpus, jobs=2, keep_closed=2, record_enactments=True), one)


def test_cli_jobs_report_is_identical(corpus: list[str]) -> None:
    runner = CliRunner()
    args = ["audit", "--spec", str(SPEC), "--format", "json", *corpus]
    one = runner.invoke(cli, args)
    two = runner.invoke(cli, [*args, "--jobs", "2"])
    assert one.exit_code == two.exit_code == 2  # a non-log among the inputs
    assert one.stdout == two.stdout
    bad = runner.invoke(cli, [*args, "--scheduler", "tcp://127.0.0.1:1"])
    assert bad.exit_code == 2 and "--engine dask" in bad.output


@given(st.lists(st.frozensets(st.sampled_from("abcdef"), max_size=2), max_size=12))
def test_partitions_are_contiguous_and_closed_under_runs(runs: list[frozenset[str]]) -> None:
    spans = _partitions(runs)
    assert [i for a, b in spans for i in range(a, b + 1)] == list(range(len(runs)))
    owner = {i: n for n, (a, b) in enumerate(spans) for i in range(a, b + 1)}
    for i, ri in enumerate(runs):
        for j, rj in enumerate(runs):
            if ri & rj:
                assert owner[i] == owner[j]


def test_native_scan_finds_the_runs_the_reader_reads(corpus: list[str]) -> None:
    from protoverify.auditor.parallel import _NO_RUN, _native_runs
    from protoverify.traces import read
    from protoverify.traces.event import Event

    for path in corpus:
        if path.endswith("notes.jsonl") or path.endswith("empty.jsonl"):
            continue
        read_runs = {_NO_RUN if e.run is None else e.run for e in read(path) if isinstance(e, Event)}
        assert _native_runs(path) == read_runs, path


@pytest.mark.parametrize("keep_closed", [2, 10000])
def test_receipt_owed_by_a_closed_enactment_is_reported_as_in_one_process(tmp_path: Path, keep_closed: int) -> None:
    """A late duplicate leaves a closed enactment owing a receipt (DEL001 at the end) unless
    later closings, here in another partition, evicted it from the Monitor's memory first."""
    import random

    import orjson

    from protoverify.bspl import flatten, load
    from protoverify.monitor.simulate import Simulator, to_native

    spec = load(SPEC)
    flat = flatten(spec, spec.names[0])
    a = [to_native(e) for e in Simulator(flat, random.Random(1), delivery="receive", run="a").enactments(1)]
    a.append(next(r for r in a if r["kind"] == "send"))
    b = [to_native(e) for e in Simulator(flat, random.Random(2), delivery="receive", run="b").enactments(5, 1)]
    paths = []
    for name, recs in (("a", a), ("b", b)):
        (tmp_path / f"{name}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))
        paths.append(str(tmp_path / f"{name}.jsonl"))
    one = audit(str(SPEC), paths, keep_closed=keep_closed)
    assert one.codes()["DEL001"] == (0 if keep_closed == 2 else 1)
    _assert_same(audit_parallel(str(SPEC), paths, jobs=2, keep_closed=keep_closed), one)


@pytest.mark.parametrize(("jobs", "n"), [(1, 3), (2, 1)])
def test_one_job_or_one_input_is_prepared_once(corpus: list[str], monkeypatch: pytest.MonkeyPatch,
                                               jobs: int, n: int) -> None:
    """With one job or one input the parallel audit is `audit`, which prepares (scans the
    logs for receipts) itself: it is prepared once, not once more before."""
    from protoverify.auditor import driver, parallel
    from protoverify.auditor.result import AuditInputError

    calls: list[int] = []
    real = driver.prepare

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(driver, "prepare", counted)
    monkeypatch.setattr(parallel, "prepare", counted)
    result = audit_parallel(str(SPEC), corpus[:n], jobs=jobs)
    assert len(calls) == 1
    _assert_same(result, audit(str(SPEC), corpus[:n]))
    with pytest.raises(AuditInputError, match="cannot read .*missing"):  # spec errors still raised
        audit_parallel(str(SPEC) + ".missing", corpus[:n], jobs=jobs)
