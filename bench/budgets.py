"""Wall-clock budgets: `protoverify check` on the scale families stays under its budget.

    python -m bench.budgets [--budget 5]

Time depends on the machine and its load, so these budgets are not tests (the test
suite checks the verdicts of the same protocols, without a clock); `make bench`
runs this first and fails when a budget is exceeded.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.families import concurrent_replies, independent_choices

# (name, protocol text, expected exit code of `protoverify check`)
CASES = [
    ("choices-deadlock-64", independent_choices(64, deadlock=True), 1),
    ("replies-256", concurrent_replies(256), 0),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.budgets", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=5.0, help="seconds per `check` run (CLI start-up included)")
    args = ap.parse_args(argv)
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        for name, text, expected in CASES:
            path = Path(d) / f"{name}.bspl"
            path.write_text(text)
            start = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "protoverify", "check", str(path)],
                                  capture_output=True, text=True)
            seconds = time.monotonic() - start
            ok = proc.returncode == expected and seconds < args.budget
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {seconds:.2f} s (budget {args.budget:g} s), "
                  f"exit {proc.returncode} (expected {expected})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
