"""Ahoy reader: a small crafted log and every real log in the corpus."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from protoverify.traces import BadRecord, Event, ReadStats, read, read_ahoy
from tests.helpers.traces import TRACES, corpus_dir, line_count

SEND = re.compile(r"Sending message:")
PROMPT = re.compile(r" - USER PROMPT FOR MESSAGE CHOICE$", re.M)
RAW = re.compile(r" - RAW LLM RESPONSE$", re.M)


def _all(path: Path, **kw):
    st = ReadStats()
    items = list(read_ahoy(str(path), stats=st, **kw))
    return items, st


def test_small_log() -> None:
    items, st = _all(TRACES / "ahoy_small.log", schema=lambda n: {"Purchase/rfq": ("Buyer", ("Seller",))}.get(n))
    assert st.lines == line_count(TRACES / "ahoy_small.log") and st.unaccounted() == 0
    ev = [i for i in items if isinstance(i, Event)]
    bad = [i for i in items if isinstance(i, BadRecord)]
    sends = [e for e in ev if e.kind == "send"]
    assert [(s.message, s.sender, s.recipients) for s in sends] == [("Purchase/rfq", "Buyer", ("Seller",))]
    assert sends[0].bindings == {"ID": "a1", "item": "pen, blue"}  # comma inside a quoted value
    # history shows quote a1 three times and b2 twice: one receive each
    recv = [e for e in ev if e.kind == "receive"]
    assert [(r.message, r.bindings["ID"], r.bindings["price"]) for r in recv] == [
        ("Purchase/quote", "a1", 5), ("Purchase/quote", "b2", 7)]
    assert recv[0].sender == "Seller" and recv[0].recipients == ("Buyer",) and recv[0].agent == "Buyer"
    dec = [e.decision for e in ev if e.kind == "decision"]
    assert len(dec) == 4
    assert dec[0]["choice"] == 0 and dec[0]["error"] is None and dec[0]["latency_s"] == 2.5
    assert dec[0]["options"] == [{"number": 0, "message": "Purchase/rfq", "bound": {}, "fill": ["ID", "item"]}]
    assert dec[0]["parsed"] == {"choice": 0, "params": {"item": "pen"}} and "```json" in dec[0]["raw"]
    assert dec[1]["error"].startswith("reply is not valid JSON") and dec[1]["parsed"] is None
    assert dec[1]["options"][1]["bound"] == {"ID": "a1", "item": "pen, blue", "price": 5}
    assert dec[2]["choice"] == 7 and "not an offered option" in dec[2]["error"]
    assert dec[3]["declined"] and dec[3]["error"] is None
    assert all(d["agent"] == "Buyer" and d["role"] == "Buyer" for d in dec)
    assert [(b.line, "make_resp" in b.reason or "truncated" in b.reason) for b in bad] == [(167, True), (168, True)]


def _ahoy_logs() -> list[Path]:
    try:
        root = corpus_dir() / "ahoy"
    except pytest.skip.Exception:
        return []
    return sorted(root.rglob("*.log"))


@pytest.mark.parametrize("path", _ahoy_logs(), ids=lambda p: p.name)
def test_real_log_accounts_for_every_line(path: Path) -> None:
    items, st = _all(path)
    text = path.read_text(encoding="utf-8")
    assert st.lines == line_count(path)
    assert st.unaccounted() == 0
    ev = [i for i in items if isinstance(i, Event)]
    sends = [e for e in ev if e.kind == "send"]
    assert len(sends) == len(SEND.findall(text))
    assert [e.line for e in sends] == [n for n, row in enumerate(text.splitlines(), 1) if SEND.search(row)]
    assert all(e.message.count("/") == 1 and e.sender for e in sends)
    decisions = [e for e in ev if e.kind == "decision"]
    # one decision per prompt; a reply whose prompt was cut off is one more
    prompts, raws = len(PROMPT.findall(text)), len(RAW.findall(text))
    assert len(decisions) == max(prompts, raws) if prompts != raws else len(decisions) == prompts
    assert not [i for i in items if isinstance(i, BadRecord)]


def test_largest_log_details(corpus: Path) -> None:
    path = corpus / "ahoy/demo/demo1/results/demo1_20260130_234930.log"
    ev = [e for e in read(str(path)) if isinstance(e, Event)]
    dec = [e.decision for e in ev if e.kind == "decision"]
    assert len(dec) == 15 and sum(d["error"] == "no LLM response in log" for d in dec) == 1
    assert [e.message for e in ev if e.kind == "send"].count("Logistics/RequestLabel") == 11
    logistics = {(e.sender, e.agent) for e in ev if e.message and e.message.startswith("Logistics/")}
    assert logistics == {("Merchant", "Merchant")}
    assert len([e for e in ev if e.kind == "receive"]) == 2  # two quotes, shown in 2 history blocks


def test_declined_choice_in_real_log(corpus: Path) -> None:
    path = corpus / "ahoy/demo/demo1/results/demo1_20260130_234111.log"
    dec = [e.decision for e in read(str(path)) if isinstance(e, Event) and e.kind == "decision"]
    assert [d["declined"] for d in dec] == [False, False, False, True]
    assert dec[3]["role"] == "Merchant" and dec[3]["options"][0]["message"] == "Logistics/RequestLabel"


def test_cut_prompt_gives_decision_without_options(corpus: Path) -> None:
    path = corpus / "ahoy/demo/demo1/results/demo1_20260130_234549.log"
    dec = [e.decision for e in read(str(path)) if isinstance(e, Event) and e.kind == "decision"]
    assert dec[0]["options"] is None and dec[0]["choice"] == 0 and dec[0]["error"] is None


def test_ahoy_json_analysis(corpus: Path) -> None:
    paths = sorted((corpus / "ahoy/demo/demo4/results").glob("demo4_analysis_*.json"))
    assert len(paths) == 10
    for path in paths:
        st = ReadStats()
        ev = list(read(str(path), stats=st))
        text = path.read_text(encoding="utf-8")
        # every send is quoted twice (raw_line and log_content): one event per raw_line
        assert len(ev) == len(re.findall(r'"raw_line": "[^"]*Sending message:', text)) == len(SEND.findall(text)) // 2
        assert all(isinstance(e, Event) and e.kind == "send" for e in ev)
        assert st.unaccounted() == 0 and st.lines == line_count(path)


def test_ahoy_json_extraction(corpus: Path) -> None:
    path = corpus / "ahoy/demo/demo2/demo3_extracted_v3.json"
    ev = [e for e in read(str(path)) if isinstance(e, Event)]
    dec = [e for e in ev if e.kind == "decision"]
    assert len(dec) == 18 and sum(d.decision["declined"] for d in dec) == 5
    sends = [e for e in ev if e.kind == "send"]
    assert {e.sender for e in sends} == {"Buyer", "Merchant"}
    receives = [e for e in ev if e.kind == "receive"]
    assert len(receives) == 6 and all(e.sender in ("Seller", "Shipper") for e in receives)
    assert len({(e.message, e.bindings["ID"]) for e in sends if "ID" in e.bindings}) == len(
        [e for e in sends if "ID" in e.bindings])  # de-duplicated across the 18 cumulative histories
