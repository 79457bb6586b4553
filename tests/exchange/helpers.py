"""Shared checks for exchange runs: read the log and the injections, audit, locate findings."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from protoverify.auditor.driver import AuditResult, audit
from tests.helpers.paths import SPECS

CNET = SPECS / "contract-net.bspl"
CAPN = SPECS / "capability-negotiation.bspl"


def records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "exchange.jsonl").read_text().splitlines()]


def injections(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "injections.jsonl").read_text().splitlines() if line]


def audited(out: Path, spec: Path = CNET) -> AuditResult:
    return audit(spec, [out / "exchange.jsonl"])


def findings_by_line(res: AuditResult) -> dict[int, set[str]]:
    at: dict[int, set[str]] = defaultdict(set)
    for f in res.findings:
        if f.line is not None:
            at[f.line].add(f.code)
    return at


def unexplained(out: Path, res: AuditResult) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Injections whose line shows neither a finding, nor a policy rejection, nor the fault
    annotation of a deliver line (delay/reorder, which a BSPL protocol tolerates)."""
    recs = records(out)
    at = findings_by_line(res)
    bad = []
    for inj in injections(out):
        if inj["id"] is None:  # an agent's crash: shows as the drops of what was sent to it
            continue
        line = inj["line"]
        assert line is not None, inj
        rec = recs[line - 1]
        assert rec["type"] == "reject" or rec.get("id") == inj["id"], (inj, rec)
        shown = rec["type"] == "reject" or bool(at.get(line)) or \
            (rec["type"] == "deliver" and rec.get("fault") == inj["kind"])
        if not shown:
            bad.append((inj, rec))
    return bad
