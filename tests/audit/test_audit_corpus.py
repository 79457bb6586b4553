"""The real bspl adapter captures (../shared/corpus/bspl-adapter).

Read by hand: wire.jsonl holds three complete Purchase enactments (rfq, quote,
accept, ship, deliver) and wire.nodebug.jsonl one accepted and one rejected
enactment, every message in order and carrying the values bound before; so
both must audit with no error. wire.inject.jsonl holds a quote (ID=X1) and a
ship (ID=X2) whose rfq/accept never appear: both must be flagged.
"""
from __future__ import annotations

from protoverify.auditor.driver import audit
from tests.helpers.paths import corpus_path


def _spec():
    return corpus_path("bspl-adapter", "purchase.bspl")


def test_wire_captures_are_conformant():
    for name, n in (("wire.jsonl", 3), ("wire.nodebug.jsonl", 2)):
        r = audit(_spec(), [corpus_path("bspl-adapter", name)])
        assert r.formats[str(corpus_path("bspl-adapter", name))] == "adapter"
        assert r.counts() == {"error": 0, "warning": 0, "info": 0}, [f.text for f in r]
        assert r.complete == n and r.incomplete == 0


def test_injected_messages_are_flagged():
    r = audit(_spec(), [corpus_path("bspl-adapter", "wire.inject.jsonl")])
    cau = [f for f in r if f.code == "CAU001"]
    assert [(f.line, f.message, f.enactment) for f in cau] == [
        (1, "Purchase/quote", "ID=X1"), (2, "Purchase/ship", "ID=X2")]
    assert "rfq" in cau[0].expected and "accept" in cau[1].expected
    assert r.failed("error")
