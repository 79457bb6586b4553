"""Start-up cost of short commands: interpreter start plus imports, against `python -c pass`.

    python -m bench.startup_bench [--runs 15]

Each command runs `--runs` times as a child process; the table gives the wall-time
median and minimum, the CPU median (user + system of the child) and the ratio of
the wall median to that of the bare interpreter measured in the same run.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable)
COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass", [str(EXE), "-c", "pass"]),
    ("python -c 'import protoverify'", [str(EXE), "-c", "import protoverify"]),
    ("protoverify --version", [str(EXE.parent / "protoverify"), "--version"]),
    ("protoverify check specs/purchase.bspl", [str(EXE.parent / "protoverify"), "check", "specs/purchase.bspl"]),
]


def measure(args: list[str], runs: int) -> tuple[float, float, float]:
    """(wall median, wall min, CPU median) in seconds over `runs` child processes."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        walls.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    return statistics.median(walls), min(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    rows = [(name, *measure(cmd, args.runs)) for name, cmd in COMMANDS]
    anchor = rows[0][1]
    print("| command | wall median s | wall min s | CPU median s | × `python -c pass` |")
    print("|---|---:|---:|---:|---:|")
    for name, med, low, cpu in rows:
        print(f"| `{name}` | {med:.3f} | {low:.3f} | {cpu:.3f} | {med / anchor:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
