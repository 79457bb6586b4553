"""Benchmark `protoverify check` against the reference tool `bspl verify all`.

    python -m bench.check_bench [--families choices-deadlock,replies,...]
                                [--sizes 1,2,4 | --sizes replies=4,256 --sizes chain=8]
                                [--repeat 3] [--timeout 60] [--out docs/benchmarks-check.md]

For each family of bench/families.py (and bench/more_families.py) and each size of its
ladder, the protocol is written to a temporary directory and, in the same run:

* `python -m protoverify check --format json FILE` is timed as a subprocess (wall time,
  interpreter start-up included), median of --repeat runs;
* `protoverify.check.check_file(FILE, verify=True)` is timed in this process (the
  library, no start-up), median of --repeat runs;
* `bspl verify all FILE` is timed as a subprocess (located like tests/helpers/oracle.py does:
  $PROTOVERIFY_BSPL or .oracle-venv/bin/bspl), killing its process group after
  --timeout seconds; bspl's own `elapsed` (safety + liveness, no start-up) is recorded
  too. Once bspl times out on a family, larger sizes of that family are not run on bspl.

Both tools' verdicts are compared with the family's expected verdict (its `// expect:`
header). The markdown table is printed and, with --out, written to a file. A bspl run
longer than --single-above seconds is not repeated (its time is then one run, marked *).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.helpers import oracle  # noqa: E402  (locating and parsing bspl)

from bench import families as F  # noqa: E402

try:  # optional extra families
    from bench import more_families as MF  # noqa: E402
except ImportError:  # pragma: no cover
    MF = None


@dataclass
class Family:
    name: str
    make: Callable[[int], str]
    sizes: list[int]
    description: str


def _families() -> dict[str, Family]:
    fams = [
        Family("choices-deadlock", lambda n: F.independent_choices(n, deadlock=True),
               [1, 2, 3, 4, 5, 6, 8, 16, 32, 64],
               "n independent two-way choices plus a deadlocked pair (safe, nonlive)"),
        Family("choices", lambda n: F.independent_choices(n),
               [1, 2, 4, 6, 8, 10, 12, 16, 32, 64],
               "n independent two-way choices, then a join (safe, live)"),
        Family("replies", F.concurrent_replies,
               [8, 16, 32, 64, 96, 128, 192, 256],
               "n concurrent replies, then a join (safe, live)"),
        Family("races", F.races, [1, 2, 3, 4, 5, 6, 8, 16, 32, 64],
               "n parameters each bound by A and by B (unsafe, live)"),
        Family("chain", F.chain, [8, 16, 32, 64, 128, 256],
               "a strict chain of n messages (safe, live)"),
        Family("deadlock", lambda n: F.deadlocked_pair(), [1],
               "one deadlocked pair (safe, nonlive); no size"),
    ]
    if MF is not None:
        for name, (make, sizes, desc) in getattr(MF, "BENCH_FAMILIES", {}).items():
            fams.append(Family(name, make, list(sizes), desc))
    return {f.name: f for f in fams}


FAMILIES = _families()


@dataclass
class Row:
    family: str
    size: int
    protocol: str
    messages: int
    expected: dict[str, str]
    pv_cli: list[float] = field(default_factory=list)
    pv_lib: list[float] = field(default_factory=list)
    pv_verdict: dict[str, str] | None = None
    pv_error: str | None = None
    bspl: list[float] = field(default_factory=list)
    bspl_own: list[float] = field(default_factory=list)
    bspl_verdict: dict[str, str | None] | None = None
    bspl_status: str = "not run"  # ok | timeout | error | skipped (after a smaller timeout)
    bspl_error: str | None = None
    timeout: float = 60.0
    repeat: int = 3

    @staticmethod
    def med(xs: list[float]) -> float | None:
        return statistics.median(xs) if xs else None

    def pv_ok(self) -> bool | None:
        return None if self.pv_verdict is None else self.pv_verdict == self.expected

    def bspl_ok(self) -> bool | None:
        if self.bspl_verdict is None or None in self.bspl_verdict.values():
            return None
        return self.bspl_verdict == self.expected


def count_messages(text: str) -> int:
    return len(re.findall(r"^\s*\S+\s*(?:->|→|↦)\s*[^:]+:", text, re.M))


def _word(v: str | None) -> str:
    return {"safe": "S", "unsafe": "U", "live": "L", "nonlive": "N"}.get(v or "", "?")


def _verdict_str(v: dict[str, str | None] | None) -> str:
    return "-" if v is None else _word(v.get("safety")) + _word(v.get("liveness"))


# -- running the tools --------------------------------------------------------


def run_pv_cli(path: Path, timeout: float) -> tuple[float, dict | None, str | None]:
    """One `python -m protoverify check --format json` run: (seconds, verdicts, error)."""
    cmd = [sys.executable, "-m", "protoverify", "check", "--format", "json",
           "--timeout", f"{timeout:g}", str(path)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=str(REPO), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        return time.perf_counter() - start, None, f"timeout >{timeout:g} s"
    secs = time.perf_counter() - start
    try:
        data = json.loads(out)
    except ValueError:
        return secs, None, f"exit {proc.returncode}: {err.strip()[-300:]}"
    files = data if isinstance(data, list) else [data]
    protos = [p for f in files for p in f.get("protocols", [])]
    if len(protos) != 1:
        return secs, None, f"expected one protocol, got {len(protos)}"
    return secs, _pv_verdict(protos[0]), None


def _pv_verdict(p: dict) -> dict[str, str]:
    return {"safety": (p.get("safety") or {}).get("verdict"),
            "liveness": (p.get("liveness") or {}).get("verdict")}


def run_pv_lib(path: Path, timeout: float) -> tuple[float, dict]:
    from protoverify.check import check_file

    start = time.perf_counter()
    rep = check_file(path, verify=True, timeout=timeout)
    secs = time.perf_counter() - start
    return secs, _pv_verdict(rep.protocols[0].to_dict())


def run_bspl(path: Path, timeout: float) -> tuple[float, float | None, dict | None, str]:
    """One `bspl verify all FILE`: (wall s, bspl's own elapsed s, verdicts, status)."""
    res = oracle.run_bspl(["verify", "all", str(path)], timeout=timeout)
    if res["timed_out"]:
        return res["seconds"], None, None, "timeout"
    parsed = oracle.parse_verify_output(res["stdout"], str(path))
    if isinstance(parsed, str) or len(parsed) != 1:
        return res["seconds"], None, None, "error: " + (
            parsed if isinstance(parsed, str) else f"{len(parsed)} protocols in output")[:200]
    v = next(iter(parsed.values()))
    own = None
    if v["safety_seconds"] is not None and v["liveness_seconds"] is not None:
        own = v["safety_seconds"] + v["liveness_seconds"]
    words = oracle.verdict_words(v)
    if v.get("error"):
        return res["seconds"], own, words, "error: " + v["error"][:200]
    return res["seconds"], own, words, "ok"


# -- the benchmark ------------------------------------------------------------


def _warm_up() -> None:
    """Import the verifier and run it once, so library times exclude first-call costs."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "warm.bspl"
        p.write_text(F.chain(4), encoding="utf-8")
        run_pv_lib(p, 10.0)


def bench_family(fam: Family, sizes: list[int], repeat: int, timeout: float,
                 single_above: float, tmp: Path, log=print) -> list[Row]:
    rows: list[Row] = []
    bspl_stopped: str | None = None
    for n in sizes:
        text = fam.make(n)
        path = tmp / f"{fam.name}-{n}.bspl"
        path.write_text(text, encoding="utf-8")
        exp = oracle.read_expectations(path)
        (pname, e), = exp.items()
        row = Row(fam.name, n, pname, count_messages(text),
                  {"safety": e["safety"], "liveness": e["liveness"]}, timeout=timeout,
                  repeat=repeat)
        # protoverify, CLI subprocess
        for _ in range(repeat):
            secs, verdict, err = run_pv_cli(path, timeout)
            if err:
                row.pv_error = err
                break
            row.pv_cli.append(secs)
            row.pv_verdict = verdict
        # protoverify, library in this process
        if row.pv_error is None:
            for _ in range(repeat):
                secs, verdict = run_pv_lib(path, timeout)
                row.pv_lib.append(secs)
                if verdict != row.pv_verdict:
                    row.pv_error = f"library verdict {verdict} != CLI verdict {row.pv_verdict}"
        # bspl
        if bspl_stopped:
            row.bspl_status = "skipped"
            row.bspl_error = bspl_stopped
        elif not oracle.available():
            row.bspl_status = "skipped"
            row.bspl_error = oracle.unavailable_reason()
        else:
            for i in range(repeat):
                secs, own, verdict, status = run_bspl(path, timeout)
                row.bspl_status = status
                if status == "timeout":
                    row.bspl = []
                    bspl_stopped = f"timed out at size {n}"
                    break
                row.bspl.append(secs)
                if own is not None:
                    row.bspl_own.append(own)
                row.bspl_verdict = verdict
                if status != "ok" or secs > single_above:
                    break
        log(format_row_plain(row))
        rows.append(row)
    return rows


def _fmt_s(x: float | None) -> str:
    return "-" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def bspl_cell(r: Row) -> str:
    if r.bspl_status == "timeout":
        return f"timeout >{r.timeout:g} s"
    if r.bspl_status == "skipped":
        return "not run" if r.bspl_error and "timed out" in r.bspl_error else "n/a"
    if r.bspl_status.startswith("error"):
        return "error"
    s = _fmt_s(r.med(r.bspl))
    return s + ("*" if r.repeat > 1 and len(r.bspl) == 1 else "")


def _ratio(x: float) -> str:
    return f"{x:.1f}x" if x >= 1 else f"{x:.2g}x"


def ratio_cell(r: Row) -> str:
    pv, b = r.med(r.pv_cli), r.med(r.bspl)
    if pv and b:
        return _ratio(b / pv)
    if pv and r.bspl_status == "timeout":
        return f">{r.timeout / pv:.0f}x"
    return "-"


def own_ratio_cell(r: Row) -> str:
    lib, own = r.med(r.pv_lib), r.med(r.bspl_own)
    if lib and own is not None:
        return _ratio(own / lib)
    if lib and r.bspl_status == "timeout":
        return f">{r.timeout / lib:.0f}x"
    return "-"


def agree_cell(r: Row) -> str:
    pv, b = r.pv_ok(), r.bspl_ok()
    if r.pv_error:
        return f"protoverify: {r.pv_error}"
    parts = ["yes" if pv else f"NO (protoverify {_verdict_str(r.pv_verdict)})"]
    if b is False:
        parts.append(f"bspl WRONG ({_verdict_str(r.bspl_verdict)})")
    elif b is True:
        parts.append("bspl agrees")
    return ", ".join(parts)


def format_row_plain(r: Row) -> str:
    return (f"{r.family:18} n={r.size:<4} msgs={r.messages:<4} pv_cli={_fmt_s(r.med(r.pv_cli)):>7} "
            f"pv_lib={_fmt_s(r.med(r.pv_lib)):>7} bspl={bspl_cell(r):>14} "
            f"bspl_own={_fmt_s(r.med(r.bspl_own)):>7} ratio={ratio_cell(r):>7} "
            f"expected={_verdict_str(r.expected)} pv={_verdict_str(r.pv_verdict)} "
            f"bspl={_verdict_str(r.bspl_verdict)} {r.pv_error or ''}{r.bspl_error or ''}")


HEADER = ("| family | size | messages | protoverify median s (CLI) | protoverify library s | "
          "bspl median s (CLI) | bspl own s | ratio bspl/pv (CLI) | ratio (in-process) | "
          "verdict (expected) | verdicts agree |")


def markdown_table(rows: list[Row]) -> str:
    lines = [HEADER, "|" + "---|" * HEADER.count(" | ") + "---|"]
    for r in rows:
        lines.append(
            f"| {r.family} | {r.size} | {r.messages} | {_fmt_s(r.med(r.pv_cli))} | "
            f"{_fmt_s(r.med(r.pv_lib))} | {bspl_cell(r)} | {_fmt_s(r.med(r.bspl_own))} | "
            f"{ratio_cell(r)} | {own_ratio_cell(r)} | {_verdict_str(r.expected)} | {agree_cell(r)} |")
    return "\n".join(lines)


def largest_bspl_table(rows: list[Row]) -> str:
    """Per family: the largest size bspl finished, and the ratios there."""
    lines = ["| family | largest size bspl finishes | messages | protoverify s (CLI) | "
             "bspl s (CLI) | ratio (CLI) | ratio (in-process) | first bspl timeout |",
             "|---|---|---|---|---|---|---|---|"]
    fams: dict[str, list[Row]] = {}
    for r in rows:
        fams.setdefault(r.family, []).append(r)
    for name, rs in fams.items():
        done = [r for r in rs if r.bspl_status == "ok" and r.bspl]
        to = [r for r in rs if r.bspl_status == "timeout"]
        first_to = f"size {to[0].size}" if to else "none in ladder"
        if not done:
            lines.append(f"| {name} | none | - | - | - | - | - | {first_to} |")
            continue
        r = max(done, key=lambda x: x.size)
        lines.append(f"| {name} | {r.size} | {r.messages} | {_fmt_s(r.med(r.pv_cli))} | "
                     f"{bspl_cell(r)} | {ratio_cell(r)} | {own_ratio_cell(r)} | {first_to} |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import z3
        z3v = z3.get_version_string()
    except Exception:  # pragma: no cover
        z3v = "?"
    return (f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, z3 {z3v}, bspl {oracle.bspl_version() or 'n/a'}")


def render(rows: list[Row], args: argparse.Namespace, command: str, seconds: float) -> str:
    return "\n".join([
        f"Machine: {machine()}",
        "",
        f"Command: `{command}` (total {seconds:.0f} s)",
        "",
        f"Median of {args.repeat} runs; timeout {args.timeout:g} s per run. CLI times are wall "
        "time of a subprocess (interpreter start-up included: `python -m protoverify check "
        "--format json FILE` vs `bspl verify all FILE`); library time is "
        "`protoverify.check.check_file(FILE, verify=True)` in-process; bspl own s is the "
        "`elapsed` bspl prints (safety + liveness, no start-up). `*` = bspl run longer than "
        f"{args.single_above:g} s, not repeated. Verdict: S/U safe/unsafe, L/N live/nonlive. "
        "\"not run\" = bspl timed out at a smaller size of the family.",
        "",
        markdown_table(rows),
        "",
        "Largest size bspl finishes, per family:",
        "",
        largest_bspl_table(rows),
        "",
    ])


def parse_sizes(specs: list[str] | None, fams: list[str]) -> dict[str, list[int]]:
    sizes = {f: list(FAMILIES[f].sizes) for f in fams}
    for spec in specs or []:
        if "=" in spec:
            name, _, nums = spec.partition("=")
            if name not in FAMILIES:
                raise SystemExit(f"unknown family {name!r}; known: {', '.join(FAMILIES)}")
            sizes[name] = [int(x) for x in nums.split(",") if x]
        else:
            nums = [int(x) for x in spec.replace(" ", ",").split(",") if x]
            for f in fams:
                sizes[f] = [1] if f == "deadlock" else nums
    return sizes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.check_bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default=",".join(FAMILIES),
                    help=f"comma-separated, from: {', '.join(FAMILIES)}")
    ap.add_argument("--sizes", action="append",
                    help="sizes for every family (1,2,4) or for one (replies=4,256); repeatable")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per tool run")
    ap.add_argument("--single-above", type=float, default=20.0,
                    help="do not repeat a bspl run that took longer than this")
    ap.add_argument("--out", type=Path, help="also write the markdown here")
    ap.add_argument("--json", type=Path, help="also write raw timings as JSON here")
    args = ap.parse_args(argv)
    fams = [f for f in args.families.split(",") if f]
    for f in fams:
        if f not in FAMILIES:
            raise SystemExit(f"unknown family {f!r}; known: {', '.join(FAMILIES)}")
    sizes = parse_sizes(args.sizes, fams)
    command = "python -m bench.check_bench" + (" " + " ".join(argv if argv is not None else sys.argv[1:])
                                               if (argv if argv is not None else sys.argv[1:]) else "")
    print(f"# {machine()}", flush=True)
    _warm_up()
    start = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="pv-check-bench-") as d:
        for f in fams:
            rows += bench_family(FAMILIES[f], sizes[f], args.repeat, args.timeout,
                                 args.single_above, Path(d),
                                 log=lambda s: print(s, flush=True))
    md = render(rows, args, command, time.perf_counter() - start)
    print()
    print(md)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(md, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1), encoding="utf-8")
    bad = [r for r in rows if r.pv_error or r.pv_ok() is False]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
