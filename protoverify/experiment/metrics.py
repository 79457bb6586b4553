"""The LLM-X metrics of one run, computed from its exchange log, summary and audit.

Definitions are ours (docs/experiments.md); the LLM-X paper publishes none:

* latency p50/p95/p99 — seconds from a gateway accepting an envelope to its delivery;
* messages per completed negotiation — transport messages / negotiations whose every
  enactment completed;
* fairness — Jain's index over the awards won by the non-adversarial agents;
* completed correctly — enactments the audit saw complete with no error finding
  (other than decision findings) / all enactments the audit saw;
* violations stopped — envelopes refused for a protocol rule (schema, auth, role,
  enabling, duplicate, deadline) / those plus the accepted envelopes the audit
  reports an error at (other than an incomplete enactment, CMP); refusals for a
  house rule (rate, fair-award, fair-invite) are counted apart (`policy_stops`);
* drift — p95 latency in consecutive windows (an hour for runs of 2 h and more, else
  a sixth of the run): least-squares slope in seconds per simulated hour, and the p95
  of the first half and of the second half of the run.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from ..auditor.result import AuditResult
from ..exchange.run import RunSummary, percentile
from ..findings import Severity

PROTOCOL_RULES = frozenset({"schema", "auth", "role", "enabling", "duplicate", "deadline"})


def _records(log: Path) -> list[dict[str, Any]]:
    with open(log, "rb") as f:
        return [orjson.loads(line) for line in f if line.strip()]


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys over xs; None with fewer than two points."""
    if len(xs) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else None


def drift(deliveries: list[tuple[float, float]], duration: float) -> dict[str, Any]:
    """p95 latency per window of (delivery time, latency) pairs over the run's `duration`."""
    window = 3600.0 if duration >= 7200 else duration / 6
    bins: dict[int, list[float]] = defaultdict(list)
    for t, lat in deliveries:
        if t <= duration:
            bins[int(t // window)].append(lat)
    series = [((i + 0.5) * window / 3600, p) for i in sorted(bins) if (p := percentile(bins[i], 95)) is not None]
    half = duration / 2
    first = percentile([lat for t, lat in deliveries if t < half], 95)
    second = percentile([lat for t, lat in deliveries if half <= t <= duration], 95)
    return {"window_s": window, "series": series,
            "slope_per_hour": slope([h for h, _ in series], [p for _, p in series]),
            "p95_first_half": first, "p95_second_half": second}


def metrics(summary: RunSummary, log: Path, res: AuditResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the metrics row, the drift series) of one run."""
    recs = _records(log)
    accepted: dict[str, float] = {}
    deliveries: list[tuple[float, float]] = []
    stopped = house = 0
    decisions: list[dict[str, Any]] = []
    env_line: dict[int, str] = {}
    for i, r in enumerate(recs, 1):
        typ = r.get("type")
        if typ == "envelope":
            accepted[r["id"]] = r["ts"]
            env_line[i] = r["id"]
        elif typ == "deliver" and r["id"] in accepted:
            deliveries.append((r["ts"], r["ts"] - accepted[r["id"]]))
        elif typ == "reject":
            rule = (r.get("policy") or {}).get("rule")
            if rule in PROTOCOL_RULES:
                stopped += 1
            else:
                house += 1
        elif typ == "decision":
            decisions.append(r["decision"])
    errors = [f for f in res.findings if f.severity >= Severity.ERROR and not f.code.startswith("DEC")]
    # a violation that passed: an error the audit reports at an accepted envelope, other than
    # the end state of its enactment (CMP: incomplete), which is not something a gateway can refuse
    passed = len({f.line for f in errors if f.line in env_line and not f.code.startswith("CMP")})
    bad_enactments = {f.enactment for f in errors if f.enactment}
    complete_ok = sum(1 for s in res.statuses if s.status == "complete" and s.enactment not in bad_enactments)
    d = drift(deliveries, summary.duration)
    dec_lat = [float(x["latency_s"]) for x in decisions if x.get("latency_s") is not None]
    row: dict[str, Any] = {
        "negotiations": summary.negotiations, "negotiations_completed": summary.negotiations_completed,
        "enactments": res.enactments, "envelopes": summary.envelopes,
        "latency_p50": summary.latency_p50, "latency_p95": summary.latency_p95,
        "latency_p99": summary.latency_p99,
        "messages_per_completed": summary.messages_per_completed, "fairness": summary.fairness,
        "completed_correctly": complete_ok / res.enactments if res.enactments else None,
        "violations": stopped + passed,
        "violations_stopped": stopped / (stopped + passed) if stopped + passed else None,
        "policy_stops": house,
        "drift_slope_p95_per_hour": d["slope_per_hour"], "p95_first_half": d["p95_first_half"],
        "p95_second_half": d["p95_second_half"],
        "decisions": len(decisions), "decision_errors": sum(1 for x in decisions if x.get("error")),
        "decision_latency_p95": percentile(dec_lat, 95),
        "decision_findings": sum(1 for f in res.findings if f.code.startswith("DEC")),
        "wall_seconds": summary.wall_seconds,
    }
    return row, d
