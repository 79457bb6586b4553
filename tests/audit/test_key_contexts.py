"""The key-context rule in logs (docs/auditing.md, "Key contexts in logs").

A role may use, for message m, only what it observed linked to m's key bindings
through shared key bindings (same name, same value). Relay is nonlive under that
rule: A never learns which `id` its `answer` belongs to.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from protoverify.auditor.driver import audit
from protoverify.bspl import flatten, load
from protoverify.monitor import Monitor
from protoverify.traces.event import Event
from tests.helpers.audit import ev, write

RELAY = """
Relay {
  roles A, B, C
  parameters out id key, out answer, out done
  private q, data
  A -> B: ask[out id key, out q]
  B -> C: fetch[in q key, out data]
  C -> A: reply[in data key, out answer]
  A -> B: close[in id key, in answer, out done]
}
"""
#: the live keyed chain: reply also carries q, which links it at A to ask (and so to id)
RELAY_LIVE = RELAY.replace("reply[in data key, out answer]", "reply[in data key, in q, out answer]")

ASK = ev("send", "ask", "A", ["B"], {"id": "i1", "q": "q1"})
FETCH = ev("send", "fetch", "B", ["C"], {"q": "q1", "data": "d1"})
REPLY = ev("send", "reply", "C", ["A"], {"data": "d1", "answer": "a1"})
CLOSE = ev("send", "close", "A", ["B"], {"id": "i1", "answer": "a1", "done": "y"})


def _spec(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "spec.bspl"
    p.write_text(text)
    return p


def _audit(tmp_path: Path, text: str, records: list[dict[str, Any]], **kw: Any):
    return audit(_spec(tmp_path, text), [write(tmp_path / "log.jsonl", records)], **kw)


def _live_log() -> list[dict[str, Any]]:
    reply = dict(REPLY, bindings={"data": "d1", "q": "q1", "answer": "a1"})
    return [ASK, FETCH, reply, CLOSE]


def test_relay_fetch_accepted_close_is_causality_finding(tmp_path):
    r = _audit(tmp_path, RELAY, [ASK, FETCH, REPLY, CLOSE])
    assert [(f.code, f.line, f.role, f.message) for f in r if f.severity == "error"] == \
        [("CAU001", 4, "A", "Relay/close")]
    (f,) = [f for f in r if f.code == "CAU001"]
    assert "answer" in f.text and f.enactment == "id=i1"
    # the chain of contexts is one enactment, complete (close bound done, if unlawfully)
    assert [s.status for s in r.statuses] == ["complete"]


def test_relay_live_variant_audits_clean(tmp_path):
    for delivery in ("send", "receive"):
        recs = _live_log()
        if delivery == "receive":
            recs = [x for e in recs for x in (e, dict(e, kind="receive"))]
        r = _audit(tmp_path, RELAY_LIVE, recs, delivery=delivery, record_enactments=True)
        assert list(r) == [], (delivery, [(f.code, f.line, f.text) for f in r])
        assert [s.status for s in r.statuses] == ["complete"]


def _monitor(text: str, **kw: Any) -> Monitor:
    s = load(text)
    return Monitor(flatten(s, s.names[0]), **kw)


def _apply(mon: Monitor, recs: list[dict[str, Any]]) -> list:
    out = []
    for n, r in enumerate(recs, 1):
        out += mon.apply(Event(kind=r["kind"], message=r["message"], sender=r["sender"],
                               recipients=tuple(r["recipients"]), bindings=r["bindings"],
                               source="<t>", line=n, run="r"))
    return out


def test_relay_enabled_lists_linked_messages_with_values():
    for fast in (True, False):
        mon = _monitor(RELAY, fast_path=fast)
        assert _apply(mon, [ASK]) == []
        # fetch is B's in the id enactment: q is a key binding ask carried
        (e,) = mon.enabled("r", {"id": "i1"}, "B")
        assert (e.message, e.bound, e.fill) == ("Relay/fetch", {"q": "q1"}, ("data",))
        assert _apply(mon, [FETCH, REPLY]) == []
        assert mon.enabled("r", {"id": "i1"}, "A") == []  # close: answer not linked to id
        live = _monitor(RELAY_LIVE, fast_path=fast)
        assert _apply(live, _live_log()[:3]) == []
        (e,) = live.enabled("r", {"id": "i1"}, "A")
        assert (e.message, e.bound) == ("Relay/close", {"id": "i1", "answer": "a1"})


def test_relay_other_values_do_not_link(tmp_path):
    """A reply whose q is another enactment's gives A nothing for i1."""
    ask2 = ev("send", "ask", "A", ["B"], {"id": "i2", "q": "q2"})
    fetch2 = dict(FETCH, bindings={"q": "q2", "data": "d2"})
    reply2 = ev("send", "reply", "C", ["A"], {"data": "d2", "q": "q2", "answer": "a2"})
    close1 = dict(CLOSE, bindings={"id": "i1", "answer": "a2", "done": "y"})
    r = _audit(tmp_path, RELAY_LIVE, [ASK, ask2, fetch2, reply2, close1])
    assert [(f.code, f.line) for f in r if f.severity == "error"] == [("CAU001", 5)]


def test_in_value_must_be_the_linked_one(tmp_path):
    """Known, but not with that value: CAU002."""
    recs = _live_log()
    recs[3] = dict(CLOSE, bindings={"id": "i1", "answer": "forged", "done": "y"})
    r = _audit(tmp_path, RELAY_LIVE, recs)
    assert [(f.code, f.line) for f in r if f.severity == "error"] == [("CAU002", 4)]


ORDERS = """
Orders {
  roles M, W, P
  parameters out orderID key, out itemID key, out item, out status
  private label
  M -> P: open[out orderID key, out label]
  M -> W: wrap[in orderID key, out itemID key, out item]
  W -> P: wrapped[in orderID key, in itemID key, in item]
  P -> M: packed[in orderID key, in itemID key, in item, in label, out status]
}
"""


def _order_log(items: list[str]) -> list[dict[str, Any]]:
    recs = [ev("send", "open", "M", ["P"], {"orderID": "o1", "label": "L"})]
    for i in items:
        b = {"orderID": "o1", "itemID": i, "item": f"pen-{i}"}
        recs.append(ev("send", "wrap", "M", ["W"], b))
        recs.append(ev("send", "wrapped", "W", ["P"], b))
    for i in items:
        recs.append(ev("send", "packed", "P", ["M"], {"orderID": "o1", "itemID": i, "item": f"pen-{i}",
                                                      "label": "L", "status": "ok"}))
    return recs


def test_items_of_one_order_are_separate_enactments(tmp_path):
    """Linked through orderID, but an observation of item i1 carries itemID=i1, not i2:
    it belongs to another enactment of itemID, and the second item is lawful."""
    r = _audit(tmp_path, ORDERS, _order_log(["i1", "i2"]))
    assert list(r) == [], [(f.code, f.line, f.text) for f in r]
    # packed uses label, known through the order (a context of fewer keys)
    recs = _order_log(["i1"])
    recs[-1]["bindings"]["item"] = "pen-i2"  # another item's value: not this enactment's
    r = _audit(tmp_path, ORDERS, recs)
    assert "CAU002" in [f.code for f in r]


INPUT_KEY = """
Pack {
  roles M, P
  parameters in orderID key, in note, out package
  M -> P: request[in orderID key, in note, out contents]
  P -> M: packed[in orderID key, in contents, out package]
}
"""


def test_public_inputs_arrive_with_an_in_key(tmp_path):
    """orderID is an `in` key: the inputs (orderID, note) arrive with the enactment."""
    recs = [ev("send", "request", "M", ["P"], {"orderID": "o1", "note": "n", "contents": "c"}),
            ev("send", "packed", "P", ["M"], {"orderID": "o1", "contents": "c", "package": "p"})]
    r = _audit(tmp_path, INPUT_KEY, recs)
    assert list(r) == [], [(f.code, f.line, f.text) for f in r]
    mon = _monitor(INPUT_KEY)
    (e,) = mon.enabled("r", None, "M")
    assert (e.message, e.inputs, e.fill) == ("Pack/request", ("orderID", "note"), ("contents",))


def test_public_input_without_in_key_is_never_known(tmp_path):
    """tests/fixtures/bspl_divergences/unlinked-external-input.bspl: the arrival carries
    no key, so it links to no enactment: m0 is never lawful."""
    spec = Path(__file__).resolve().parents[1] / "fixtures" / "bspl_divergences" / "unlinked-external-input.bspl"
    recs = [ev("send", "m0", "A", ["B"], {"id": "x", "p0": "v", "done": "d"})]
    r = audit(spec, [write(tmp_path / "log.jsonl", recs)])
    assert [f.code for f in r if f.severity == "error"] == ["CAU001"]
    s = load(spec)
    assert Monitor(flatten(s, s.names[0])).enabled("r", None, "A") == []


def test_chain_of_contexts_is_judged_as_one_enactment(tmp_path):
    """Without close, Relay ends in deadlock: one finding for the id, q and data contexts."""
    r = _audit(tmp_path, RELAY, [ASK, FETCH, REPLY])
    assert [(f.code, f.enactment) for f in r] == [("CMP002", "id=i1")]
    assert "done" in r.statuses[0].missing and r.statuses[0].status == "deadlock"
