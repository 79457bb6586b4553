"""DEC009 (repeated choice): an agent that keeps starting new enactments with one message while
the ones it started wait, as the Ahoy Merchant did with RequestLabel (docs/ahoy-findings.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from protoverify import audit
from protoverify.monitor.decisions import LOOP_AFTER
from tests.helpers.audit import happy, write
from tests.helpers.paths import SPECS

SPEC = SPECS / "purchase.bspl"
START = {"number": 1, "message": "Purchase/rfq", "bound": {}, "fill": ["orderID", "item"]}


def _cont(n: int) -> dict[str, Any]:
    return {"number": n, "message": "Purchase/accept", "bound": {"orderID": f"o{n}", "item": "pen", "price": 10},
            "fill": ["address", "decision"]}


def decision(choice: int | None, options: list[dict[str, Any]], agent: str = "buyer", run: str = "r1") -> dict:
    return {"kind": "decision", "run": run,
            "decision": {"agent": agent, "role": "Buyer", "options": options, "choice": choice,
                         "raw": f'{{"choice": {"null" if choice is None else choice}}}',
                         "parsed": {"choice": choice}, "params": {"item": "pen"} if choice == 1 else {}}}


def loops(tmp_path: Path, log: list[dict[str, Any]]) -> list[int]:
    r = audit(SPEC, [write(tmp_path / "l.jsonl", log)])
    return [f.line for f in r if f.code == "DEC009"]


def test_third_new_start_with_continuations_offered_fires_once(tmp_path: Path) -> None:
    offered = [START, _cont(2)]
    log = [decision(1, [START])] + [decision(1, offered) for _ in range(6)]
    # the first offered no continuation; lines 2, 3, 4 are the three in a row; 5..7 continue the same loop
    assert loops(tmp_path, log) == [4]


def test_a_continuation_chosen_breaks_the_loop(tmp_path: Path) -> None:
    offered = [START, _cont(2)]
    log = [decision(1, offered), decision(1, offered), decision(2, offered),
           decision(1, offered), decision(1, offered), decision(1, offered)]
    assert loops(tmp_path, log) == [6]


def test_no_loop_without_continuations_or_across_agents(tmp_path: Path) -> None:
    assert loops(tmp_path, [decision(1, [START]) for _ in range(5)]) == []
    offered = [START, _cont(2)]
    log = [decision(1, offered, agent=a) for a in ("a", "b", "a", "b")]
    assert loops(tmp_path, log) == []
    log = [decision(1, offered, run=r) for r in ("r1", "r2", "r1", "r2")]
    assert loops(tmp_path, log) == []


def test_replies_without_a_choice_keep_the_count_declines_reset_it(tmp_path: Path) -> None:
    offered = [START, _cont(2)]
    bad = {"kind": "decision", "run": "r1", "decision": {"agent": "buyer", "role": "Buyer", "options": offered,
                                                         "raw": "accept please", "parsed": None, "choice": None,
                                                         "error": "not JSON"}}
    assert loops(tmp_path, [decision(1, offered), bad, decision(1, offered), decision(1, offered)]) == [4]
    assert loops(tmp_path, [decision(1, offered), decision(None, offered), decision(1, offered),
                            decision(1, offered)]) == []


def test_loop_beside_a_conformant_enactment(tmp_path: Path) -> None:
    offered = [START, _cont(2)]
    log = happy() + [decision(1, offered) for _ in range(LOOP_AFTER)]
    assert loops(tmp_path, log) == [len(happy()) + LOOP_AFTER]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["start", "cont", "decline"]), max_size=14))
def test_one_finding_per_run_of_repeats(tmp_path_factory: Any, picks: list[str]) -> None:
    """A finding at the third start of each unbroken run of starts, and nowhere else."""
    offered = [START, _cont(2)]
    log = [decision({"start": 1, "cont": 2, "decline": None}[p], offered) for p in picks]
    want, n = [], 0
    for i, p in enumerate(picks, 1):
        n = n + 1 if p == "start" else 0
        if n == LOOP_AFTER:
            want.append(i)
    assert loops(tmp_path_factory.mktemp("l"), log) == want
