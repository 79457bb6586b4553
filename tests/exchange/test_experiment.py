"""`protoverify experiment` on a reduced matrix: one row per cell, the metrics in range,
figures and every run's audit written; the drift slope; heavy imports stay lazy."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from protoverify.cli import main as cli_main
from protoverify.experiment.metrics import drift, slope
from tests.exchange.helpers import CNET
from tests.exchange.llm_server import ChatServer, Script
from tests.exchange.test_llm_agent import KEY


def test_reduced_matrix_writes_metrics_figures_and_audits(tmp_path):
    rc = cli_main(["experiment", "--out", str(tmp_path), "--spec", str(CNET), "--agents", "4",
                   "--policies", "low,high", "--horizons", "short", "--seeds", "1"])
    assert rc == 0
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [(r["agents"], r["policy"], r["horizon"]) for r in rows] == [("4", "low", "short"), ("4", "high", "short")]
    for r in rows:
        for k in ("fairness", "completed_correctly", "violations_stopped"):
            assert 0 < float(r[k]) <= 1, (k, r[k])
        assert float(r["latency_p50"]) <= float(r["latency_p95"]) <= float(r["latency_p99"])
        assert int(r["decisions"]) > 0 and int(r["decision_findings"]) > 0  # the simulated mistakes show
        audit = json.loads((tmp_path / r["cell"] / "audit.json").read_text())
        assert len(audit["findings"]) >= int(r["decision_findings"])
    for stem in ("policy-short",):
        assert (tmp_path / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
        assert b"<svg" in (tmp_path / f"{stem}.svg").read_bytes()[:500]
    # high refuses what low lets through
    low, high = rows
    assert float(high["violations_stopped"]) > float(low["violations_stopped"])


def test_bad_matrix_options_are_usage_errors(tmp_path, capsys):
    assert cli_main(["experiment", "--out", str(tmp_path), "--policies", "strict"]) == 2
    assert cli_main(["experiment", "--out", str(tmp_path), "--agents", "1"]) == 2
    assert "policies must be among" in capsys.readouterr().err


@given(st.floats(-5, 5), st.floats(-5, 5), st.integers(2, 20))
def test_slope_of_a_line_is_its_coefficient(a, b, n):
    xs = [float(i) for i in range(n)]
    s = slope(xs, [a * x + b for x in xs])
    assert s is not None and abs(s - a) < 1e-6


def test_drift_windows_are_hours_for_long_runs():
    pts = [(t * 60.0, 0.01 + t / 60 * 0.001) for t in range(240)]  # 4 h, p95 up 1 ms an hour
    d = drift(pts, 4 * 3600)
    assert d["window_s"] == 3600 and len(d["series"]) == 4
    assert abs(d["slope_per_hour"] - 0.001) < 2e-4
    assert d["p95_second_half"] > d["p95_first_half"]


def test_run_with_llm_flag_through_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with ChatServer(Script([])) as srv:
        rc = cli_main(["run", str(CNET), "--llm", "--base-url", srv.url, "--model", "m1", "--agents", "3",
                       "--duration", "15m", "--seed", "2", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert rc == 0 and KEY not in text
    decisions = [json.loads(line) for line in (tmp_path / "exchange.jsonl").read_text().splitlines()
                 if '"decision"' in line]
    assert decisions and all(d["decision"]["model"] == "m1" for d in decisions if d["type"] == "decision")
    for f in tmp_path.iterdir():
        assert KEY not in f.read_text(errors="replace")


def test_check_imports_neither_openai_nor_matplotlib():
    code = ("import sys; from protoverify.cli import main; main(['check', '--help']); "
            "print('openai' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"
