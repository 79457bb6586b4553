"""The full LLM-X matrix in its default configuration, timed (target: under 15 minutes).

    python bench/experiment_bench.py [--out DIR] [--budget 900]

Runs `protoverify experiment --out DIR` (agents 5, 9, 12 × policy low, medium, high
× short, 2 h and 12 h runs on the simulated clock, 3 seeds, simulated LLM agents),
then prints the wall time and fails when it exceeds the budget.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

from protoverify.cli import main


def bench(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="Where the experiment writes (default: a temporary directory).")
    ap.add_argument("--budget", type=float, default=900.0, help="Seconds the matrix may take.")
    a = ap.parse_args(argv)
    out = a.out or tempfile.mkdtemp(prefix="llmx-")
    t0 = time.perf_counter()
    rc = main(["experiment", "--out", out])
    wall = time.perf_counter() - t0
    print(f"full matrix: exit {rc}, {wall:.1f} s (budget {a.budget:.0f} s), output in {out}")
    return rc if rc else (0 if wall <= a.budget else 1)


if __name__ == "__main__":
    sys.exit(bench())
