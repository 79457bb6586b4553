"""`check` over many specs: the proofs run in parallel processes, and each proof is
cached by the spec's content, the protocol, the options and the tool's version, so a
CI run with the cache restored re-solves only the protocols whose spec changed.

Parsing and validation are cheap and always rerun; only verification (Z3) is
farmed out and cached. An inconclusive proof (a solver timeout) is never cached.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .._version import __version__

if TYPE_CHECKING:
    from ..check import FileReport, ProtocolReport
    from ..prover.result import Report

#: Below this many proofs to run, `--jobs auto` stays in one process (a worker costs a Z3 start).
AUTO_PARALLEL = 4


def cache_key(text: str, protocol: str, timeout: float) -> str:
    h = hashlib.sha256()
    h.update(f"protoverify {__version__}\0{protocol}\0{timeout!r}\0".encode())
    h.update(text.encode("utf-8"))
    return h.hexdigest()


def _prove(text: str, source: str, protocol: str, timeout: float) -> dict[str, Any]:
    """In a worker: parse, flatten and verify one protocol; the Report as plain data."""
    from ..bspl import BSPLError, flatten, parse
    from ..prover import verify

    try:
        flat = flatten(parse(text, source), protocol)
    except BSPLError:
        return {"name": protocol, "flatten_error": True}  # the parent reports it as check does
    report = verify(flat, timeout=timeout)
    return {"name": report.name, **report.to_dict(), "seconds": report.seconds}


def _report(data: dict[str, Any]) -> Report:
    from ..prover.result import LivenessResult, Report, SafetyResult

    return Report(data["name"], SafetyResult(**data["safety"]), LivenessResult(**data["liveness"]),
                  dict(data["enactable"]), data["complete"], float(data["seconds"]))


def _read(cache: Path | None, key: str) -> dict[str, Any] | None:
    if cache is None:
        return None
    try:
        data = orjson.loads((cache / f"{key}.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("key") == key else None


def _write(cache: Path, key: str, data: dict[str, Any]) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(orjson.dumps({**data, "key": key}))
        os.replace(tmp, cache / f"{key}.json")
    except OSError:
        pass  # a cache that cannot be written only costs time


def verify_all(reports: Sequence[FileReport], texts: dict[str, str], timeout: float, jobs: int,
               cache_dir: str | None) -> dict[str, int]:
    """Set `result` of every protocol of `reports` (as `check_file(verify=True)` would),
    from the cache or by proving, in up to `jobs` processes (0: auto). Returns counts
    {"cached": n, "proved": m}."""
    from ..check import verify_protocol

    cache = Path(cache_dir) if cache_dir else None
    todo: list[tuple[ProtocolReport, str, str, str]] = []
    counts = {"cached": 0, "proved": 0}
    for r in reports:
        for p in r.protocols:
            if r.spec is None or not p.wellformed or r.path not in texts:
                if r.spec is not None:
                    verify_protocol(r.spec, p, timeout)  # a skipped Report, or a flatten diagnostic
                continue
            key = cache_key(texts[r.path], p.name, timeout)
            hit = _read(cache, key)
            if hit is not None:
                p.result = _report(hit)
                counts["cached"] += 1
            else:
                todo.append((p, key, texts[r.path], r.path))
    if jobs == 0:
        jobs = min(os.cpu_count() or 1, len(todo)) if len(todo) >= AUTO_PARALLEL else 1
    if jobs > 1 and len(todo) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            done = list(pool.map(_prove, [t[2] for t in todo], [t[3] for t in todo], [t[0].name for t in todo],
                                 [timeout] * len(todo)))
    else:
        done = [_prove(text, path, p.name, timeout) for p, _, text, path in todo]
    specs = {id(p): r.spec for r in reports for p in r.protocols}
    for (p, key, _, _), data in zip(todo, done, strict=True):
        if data.get("flatten_error"):
            spec = specs[id(p)]
            if spec is not None:
                verify_protocol(spec, p, timeout)
            continue
        p.result = _report(data)
        counts["proved"] += 1
        if cache is not None and p.result.verdict.value != "unknown":
            _write(cache, key, data)
    return counts
