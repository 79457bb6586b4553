#!/usr/bin/env python3
"""Regenerate the exchange runs of the curated corpus, traces/runs/ (`make traces`).

Each run is `protoverify run` on the simulated clock, so a seed gives the same log
line for line. The run's summary.json is written without `wall_seconds` (the one
measured, machine-dependent number) and with `log` relative to the run directory,
so a regenerated corpus is byte-identical to the committed one
(tests/traces/test_corpus.py checks that).

Usage: scripts/make-traces.py [OUT]   (default: traces/runs beside this script)
"""
from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: name -> (spec, options of `protoverify run`); small runs: the whole corpus stays well under 2 MB.
RUNS: dict[str, tuple[str, list[str]]] = {
    "purchase-scripted-low": ("specs/purchase.bspl", [
        "--agents", "3", "--policy", "low", "--duration", "10m", "--seed", "1"]),
    "purchase-simllm-low": ("specs/purchase.bspl", [
        "--agents", "3", "--policy", "low", "--duration", "20m", "--seed", "1",
        "--role-agent", "Buyer=simulated-llm", "--role-agent", "Seller=simulated-llm"]),
    "cn-simllm-high": ("specs/contract-net.bspl", [
        "--agents", "4", "--policy", "high", "--duration", "30m", "--seed", "4",
        "--role-agent", "Initiator=simulated-llm", "--role-agent", "Participant=simulated-llm"]),
    "cn-adversarial-low": ("specs/contract-net.bspl", [
        "--agents", "4", "--policy", "low", "--duration", "15m", "--seed", "2",
        "--adversarial", "1", "--adversarial-rate", "0.5"]),
    "cn-adversarial-high": ("specs/contract-net.bspl", [
        "--agents", "4", "--policy", "high", "--duration", "15m", "--seed", "2",
        "--adversarial", "1", "--adversarial-rate", "0.5"]),
    "cn-faults-medium": ("specs/contract-net.bspl", [
        "--agents", "4", "--policy", "medium", "--duration", "15m", "--seed", "3",
        "--faults", "drop=0.05,duplicate=0.05"]),
}


def make(name: str, out: Path) -> Path:
    """Run one corpus run into out/name (replacing it); return its directory."""
    from protoverify.cli import main

    spec, options = RUNS[name]
    target = out / name
    if target.exists():
        shutil.rmtree(target)
    err = io.StringIO()
    code = main(["run", "--spec", str(REPO / spec), "--out", str(target), *options], io.StringIO(), err)
    if code != 0:
        raise SystemExit(f"make-traces: run {name} failed ({code}): {err.getvalue().strip()}")
    summary_path = target / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary.pop("wall_seconds", None)
    summary["log"] = "exchange.jsonl"
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return target


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else REPO / "traces" / "runs"
    out.mkdir(parents=True, exist_ok=True)
    for name in RUNS:
        d = make(name, out)
        size = sum(f.stat().st_size for f in d.iterdir())
        print(f"{d}: {size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
