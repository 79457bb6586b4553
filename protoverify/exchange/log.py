"""The exchange log: one JSON line per envelope event (docs/formats.md §2).

`envelope` when an envelope is accepted, then exactly one of `deliver` or
`drop` (by a fault) for it; an envelope refused at entry is one self-contained
`reject` line (it never left the gateway, so it is never replayed as a send).
The writer counts lines so that every record can be pointed at. Lines go
through the file's buffer (one write per 64 KiB): each line is handed over as
soon as it is serialized, since holding many of orjson's results alive costs
more than the copy into the buffer.
"""
from __future__ import annotations

import os
from typing import IO, Any

import orjson

from .envelope import Envelope

_dumps = orjson.dumps
_NEWLINE = orjson.OPT_APPEND_NEWLINE


class LogWriter:
    """Append-only JSONL writer that knows the line number of every record."""

    def __init__(self, path: str | os.PathLike[str] | None, buffer: int = 1 << 16) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.f: IO[bytes] | None = open(self.path, "wb", buffering=buffer) if self.path else None
        self.line = 0
        self.counts = {"envelope": 0, "deliver": 0, "reject": 0, "drop": 0, "capability": 0}
        self._accept: dict[str, dict[str, str]] = {}  # level -> the `policy` field of an accepted envelope

    def write(self, rec: dict[str, Any]) -> int:
        """Write one record; return its line number (1-based)."""
        return self._emit(rec, rec["type"])

    def _emit(self, rec: dict[str, Any], kind: str) -> int:
        if self.f is not None:
            self.f.write(_dumps(rec, option=_NEWLINE))  # first: a record orjson refuses is no line
        self.line += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return self.line

    def envelope(self, env: Envelope, level: str) -> int:
        policy = self._accept.get(level)
        if policy is None:
            policy = self._accept[level] = {"level": level, "decision": "accept"}
        rec = env.record("envelope")
        rec["policy"] = policy
        return self._emit(rec, "envelope")

    def deliver(self, env: Envelope, ts: float, gateway: str, fault: str | None = None) -> int:
        rec: dict[str, Any] = {"v": 1, "type": "deliver", "id": env.id, "ts": ts, "gateway": gateway}
        if fault:
            rec["fault"] = fault
        return self._emit(rec, "deliver")

    def drop(self, env: Envelope, ts: float, gateway: str, fault: str) -> int:
        return self.write({"v": 1, "type": "drop", "id": env.id, "ts": ts, "gateway": gateway,
                           "fault": fault})

    def reject(self, env: Envelope, level: str, rule: str, text: str) -> int:
        return self.write(env.record("reject", policy={"level": level, "decision": "reject", "rule": rule},
                                     reason=f"{rule}: {text}"))

    def reject_raw(self, obj: Any, ts: float, run: str, gateway: str, level: str, rule: str,
                   text: str) -> int:
        """A reject of an envelope that failed validation: written as it came (plus the verdict)."""
        rec = dict(obj) if isinstance(obj, dict) else {"raw": repr(obj)[:200]}
        rec.update({"v": 1, "type": "reject", "ts": ts, "run": run, "gateway": gateway,
                    "policy": {"level": level, "decision": "reject", "rule": rule},
                    "reason": f"{rule}: {text}"})
        rec.setdefault("id", f"invalid-{self.line + 1}")
        try:
            return self.write(rec)
        except TypeError:  # a value orjson cannot write
            return self.write({k: (v if k != "payload" else repr(v)[:200]) for k, v in rec.items()})

    def capability(self, agent: str, capabilities: list[str], ts: float, run: str, gateway: str) -> int:
        return self.write({"v": 1, "type": "capability", "id": f"cap-{agent}", "ts": ts, "run": run,
                           "gateway": gateway, "agent": agent, "capabilities": capabilities})

    def close(self) -> None:
        if self.f is not None:
            self.f.close()
            self.f = None
