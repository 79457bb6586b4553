"""Audit through the other readers (real corpus files): no crash, every line accounted for."""
from __future__ import annotations

from protoverify.auditor.driver import audit
from tests.helpers.paths import corpus_path


def test_ahoy_log_audits():
    spec = corpus_path("ahoy", "protocols", "purchase.bspl")
    log = corpus_path("ahoy", "demo", "demo1", "results", "demo1_20260130_234549.log")
    r = audit(spec, [log], protocol="Purchase")
    assert r.formats[str(log)] == "ahoy"
    assert r.records == len(log.read_bytes().splitlines()) == 548  # every line read
    assert (r.events, r.complete, r.incomplete) == (10, 0, 2)
    # both orders end with the Buyer's accept: incomplete, reported at that last message
    assert [(f.code, f.line) for f in r] == [("CMP001", 382), ("CMP001", 521)]
