"""Audit peak memory on long clean logs: a single-key and a multi-key protocol.

    python -m bench.audit_memory --events 1000000 4000000 [--retire-after N|off]

For each protocol (Purchase, one key; the Ahoy Logistics protocol, keys orderID
and itemID, whose orders may always receive another item) and each size, writes
a native JSONL log of conformant enactments (`bench.audit_bench.generate`: a
simulated template replicated with fresh keys), then measures in a fresh child
process each: (a) plain `orjson.loads` of every line, (b) the full audit. Prints
the peak RSS of each child (`ru_maxrss`), the audit's CPU time and its summary.
The log is written by a child as well, and the parent stays small: Linux carries
a process's peak RSS over to the children it forks.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.audit_bench import parse_only  # noqa: E402

#: (label, spec, protocol)
PROTOCOLS: dict[str, tuple[Path, str]] = {
    "purchase": (REPO / "specs" / "purchase.bspl", "Purchase"),
    "logistics": (REPO / "tests" / "fixtures" / "ahoy" / "purchase-logistics.bspl", "Logistics"),
}


def child(mode: str, spec: str, protocol: str, path: str, retire_after: str | None, size: int) -> None:
    """Run one step in this (fresh) process and print its numbers as JSON."""
    t = time.process_time()
    if mode == "generate":
        from bench.audit_bench import generate
        out: dict[str, Any] = {"n": generate(Path(spec), protocol, size, Path(path))}
    elif mode == "parse":
        out = {"n": parse_only(path)}
    else:
        from protoverify.auditor.driver import audit
        kw = {} if retire_after is None else {"retire_after": None if retire_after == "off" else int(retire_after)}
        r = audit(spec, [path], protocol=protocol, **kw)
        out = dict(r.summary())
        out["codes"] = sorted({f.code for f in r})
    out["cpu_s"] = time.process_time() - t
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(orjson.dumps(out).decode())


def run_child(mode: str, spec: str, protocol: str, path: str, retire_after: str | None,
              size: int = 0) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.audit_memory", "--child", mode, "--spec", spec,
           "--protocol", protocol, "--size", str(size), path]
    if retire_after is not None:
        cmd += ["--retire-after", retire_after]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=REPO).stdout
    return dict(orjson.loads(out.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=list(PROTOCOLS))
    ap.add_argument("--retire-after", default=None, metavar="N|off",
                    help="the audit's retirement horizon (default: the audit's own; off: never retire)")
    ap.add_argument("--child", default=None)
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--spec", default=None)
    ap.add_argument("--protocol", default=None)
    ap.add_argument("path", nargs="?")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.spec, a.protocol, a.path, a.retire_after, a.size)
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    print("| protocol | events | file | peak RSS parse | peak RSS audit | audit CPU | enactments | complete "
          "| findings |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label in a.protocols:
        spec, protocol = PROTOCOLS[label]
        for size in a.events:
            with tempfile.TemporaryDirectory() as d:
                path = str(Path(d) / "bench.jsonl")
                # in a child too: Linux keeps a process's peak RSS across fork and exec, so a
                # big parent would raise every measurement taken in its children
                n = run_child("generate", str(spec), protocol, path, None, size)["n"]
                mb = os.path.getsize(path) / 1e6
                p = run_child("parse", str(spec), protocol, path, a.retire_after)
                s = run_child("audit", str(spec), protocol, path, a.retire_after)
                f = s["findings"]
                print(f"| {label} | {n:,} | {mb:.0f} MB | {p['maxrss_mb']:.0f} MB | {s['maxrss_mb']:.0f} MB "
                      f"| {s['cpu_s']:.1f} s | {s['enactments']:,} | {s['complete']:,} "
                      f"| {f['error']}/{f['warning']}/{f['info']} {' '.join(s['codes'])} |", flush=True)


if __name__ == "__main__":
    main()
