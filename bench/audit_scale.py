"""Audit scaling: one process vs `--jobs 2` vs Dask with 1 and 2 workers, on one corpus.

    python -m bench.audit_scale --files 16 --runs 40 --enactments 150 [--repeat 3]

Generates a multi-file corpus of native JSONL logs (`make_corpus`: conformant
Purchase enactments from the Monitor's simulator, with receipts; some runs span
two files, one file holds run-less events, and a few faults are planted), then
times each engine (median of `--repeat`, wall clock, process or cluster start-up
included) and prints the ratio to the single-process audit. The findings of every
engine are checked identical to the single-process audit's.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from protoverify.bspl import flatten, load  # noqa: E402
from protoverify.monitor.simulate import Simulator, to_native  # noqa: E402

SPEC = REPO / "specs" / "purchase.bspl"


def make_corpus(folder: Path, files: int = 8, runs: int = 3, enactments: int = 4, seed: int = 7,
                faults: bool = True) -> list[Path]:
    """Write `files` native logs of `runs` runs each into `folder`; return their paths in order.

    Every third file boundary is crossed by a run (its second half opens the next
    file); the second-to-last file's events carry no run id. With `faults`: a
    receipt dropped (DEL001), a send duplicated, a run cut short (CMP001) and a
    corrupt line (REC001), some of them in the runs that span files."""
    spec = load(SPEC)
    flat = flatten(spec, spec.names[0])
    rng = random.Random(seed)
    content: list[list[dict[str, Any] | bytes]] = [[] for _ in range(files)]
    for f in range(files):
        for r in range(runs):
            sim = Simulator(flat, random.Random(rng.random()), delivery="receive", run=f"run-{f}-{r}")
            recs: list[dict[str, Any] | bytes] = [to_native(e) for e in sim.enactments(enactments, concurrency=3)]
            if f == files - 2:  # a run-less file
                for rec in recs:
                    assert isinstance(rec, dict)
                    rec.pop("run", None)
            if r == runs - 1 and f % 3 == 1 and f + 1 < files - 2:  # spans into the next file
                half = len(recs) // 2
                content[f].extend(recs[:half])
                content[f + 1][:0] = recs[half:]
            else:
                content[f].extend(recs)
    if faults:
        plants: list[Callable[[list[dict[str, Any] | bytes]], None]] = [
            lambda c: c.pop(next(i for i, x in enumerate(c) if isinstance(x, dict) and x["kind"] == "receive")),
            lambda c: c.insert(3, c[1]),
            lambda c: c.__delitem__(slice(len(c) - 3, None)),
            lambda c: c.insert(5, b'{"kind": "send", "message": '),
        ]
        for i, plant in enumerate(plants):
            plant(content[(1 + 2 * i) % files])
    paths = []
    for f, recs in enumerate(content):
        path = folder / f"log-{f:03d}.jsonl"
        with open(path, "wb") as out:
            for seq, rec in enumerate(recs):
                if isinstance(rec, dict):
                    rec = orjson.dumps({**rec, "seq": seq})
                out.write(rec + b"\n")
        paths.append(path)
    return paths


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    from protoverify.auditor.driver import audit
    from protoverify.auditor.parallel import audit_parallel

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--enactments", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(p) for p in make_corpus(Path(tmp), a.files, a.runs, a.enactments)]
        spec = str(SPEC)
        base_t, base = _time(lambda: audit(spec, paths), a.repeat)

        def key(r: Any) -> list[tuple[Any, ...]]:
            return [(f.code, f.source, f.line, f.text) for f in r.findings]

        print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print(f"corpus: {len(paths)} files, {base.events:,} events, {len(base.findings)} findings")
        print("| engine | workers | median s | ratio to 1 process |")
        print("|---|---|---|---|")
        print(f"| single process | 1 | {base_t:.2f} | 1.00 |")
        for engine, n in (("local", 2), ("dask", 1), ("dask", 2)):
            t, r = _time(lambda e=engine, n=n: audit_parallel(spec, paths, jobs=n, engine=e), a.repeat)
            assert key(r) == key(base), f"{engine} {n}: findings differ"
            label = "--jobs" if engine == "local" else "dask LocalCluster"
            print(f"| {label} | {n} | {t:.2f} | {t / base_t:.2f} |")


if __name__ == "__main__":
    main()
