"""Audit throughput: plain orjson parsing of every line vs the full audit of the same file.

    python bench/audit_bench.py --events 1000000 4000000 [--spec specs/purchase.bspl] [--repeat 3]

Generates a native JSONL log of conformant Purchase enactments (random
scheduling by the Monitor's simulator, replicated with fresh keys), then for
each size: median of `--repeat` timings of (a) `orjson.loads` of every line,
(b) `protoverify.audit` of the file; the ratio b/a; and the peak RSS of each
measured in a fresh child process (ru_maxrss), so generation does not count.
The children alternate (parse, audit, parse, ...) so that a change in the load
of the machine falls on both; each reports its wall time and its CPU time
(`time.process_time`, steadier on a shared machine), and both ratios are printed.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from protoverify.bspl import flatten, load  # noqa: E402
from protoverify.monitor.simulate import Simulator, to_native  # noqa: E402


def generate(spec: Path, protocol: str | None, events: int, path: Path, seed: int = 1) -> int:
    """Write at least `events` events (whole template copies): a simulated template of interleaved
    enactments, replicated with fresh key values (and run ids) until the size is reached."""
    s = load(spec)
    flat = flatten(s, protocol or s.names[0])
    sim = Simulator(flat, random.Random(seed), delivery="send", run="bench")
    template = [to_native(e) for e in sim.enactments(2000, concurrency=8)]
    keys = flat.keys
    n = 0
    copy = 0
    with open(path, "wb", buffering=1 << 20) as f:
        while n < events:
            suffix = f"-{copy}"
            lines = []
            for rec in template:
                b = dict(rec["bindings"])
                for k in keys:
                    if k in b:
                        b[k] = f"{b[k]}{suffix}"
                r = dict(rec)
                r["bindings"] = b
                r["seq"] = n
                lines.append(orjson.dumps(r))
                n += 1
            f.write(b"\n".join(lines) + b"\n")
            copy += 1
    return n


def parse_only(path: str) -> int:
    n = 0
    loads = orjson.loads
    with open(path, "rb") as f:
        for line in f:
            loads(line)
            n += 1
    return n


def audit_file(spec: str, path: str) -> dict:
    from protoverify.auditor.driver import audit
    r = audit(spec, [path])
    return r.summary()


def child(mode: str, spec: str, path: str) -> None:
    t = time.perf_counter()
    c = time.process_time()
    out = {"n": parse_only(path)} if mode == "parse" else audit_file(spec, path)
    out["seconds"] = time.perf_counter() - t
    out["cpu_seconds"] = time.process_time() - c
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(orjson.dumps(out).decode())


def run_child(mode: str, spec: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--spec", spec, path],
                         check=True, capture_output=True, text=True).stdout
    return orjson.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--spec", default=str(REPO / "specs" / "purchase.bspl"))
    ap.add_argument("--protocol", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", default=None)
    ap.add_argument("path", nargs="?")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.spec, a.path)
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    for size in a.events:
        with tempfile.TemporaryDirectory() as d:
            path = str(Path(d) / "bench.jsonl")
            n = generate(Path(a.spec), a.protocol, size, Path(path))
            mb = os.path.getsize(path) / 1e6
            parse, aud = [], []
            for _ in range(a.repeat):
                parse.append(run_child("parse", a.spec, path))
                aud.append(run_child("audit", a.spec, path))
            tp = statistics.median(x["seconds"] for x in parse)
            ta = statistics.median(x["seconds"] for x in aud)
            cp = statistics.median(x["cpu_seconds"] for x in parse)
            ca = statistics.median(x["cpu_seconds"] for x in aud)
            s = aud[0]
            print(f"{n:>9,} events ({mb:.0f} MB): orjson parse {tp:.2f} s, audit {ta:.2f} s, "
                  f"ratio {ta / tp:.2f}x (CPU: {cp:.2f} s, {ca:.2f} s, ratio {ca / cp:.2f}x), "
                  f"audit {n / ta / 1e3:.0f}k events/s; "
                  f"peak RSS parse {max(x['maxrss_mb'] for x in parse):.0f} MB, "
                  f"audit {max(x['maxrss_mb'] for x in aud):.0f} MB; "
                  f"enactments {s['enactments']:,} complete {s['complete']:,}, findings {s['findings']}")


if __name__ == "__main__":
    main()
