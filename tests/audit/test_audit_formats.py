"""Audit through the other readers (real corpus files): no crash, every line accounted for."""
from __future__ import annotations

from tests.helpers.paths import corpus_path
from protoverify.audit.driver import audit


def test_ahoy_log_audits():
    spec = corpus_path("ahoy", "protocols", "purchase.bspl")
    log = corpus_path("ahoy", "demo", "demo1", "results", "demo1_20260130_234549.log")
    r = audit(spec, [log], protocol="Purchase")
    assert r.formats[str(log)] == "ahoy" and r.events > 0
    assert all(f.code[:3] in {"REC", "ROL", "CAU", "INT", "DUP", "DEL", "CMP", "DEC"} for f in r)
