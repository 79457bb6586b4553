"""`run --role-agent ROLE=KIND`: each personal agent's decisions for a role go to the agent
kind mapped for it, through the real CLI and the real openai client on 127.0.0.1."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from protoverify.agents.by_role import RoleAgent, decision_role, parse_mapping
from protoverify.commands.run import main
from protoverify.exchange import run
from tests.exchange.helpers import CNET, audited, findings_by_line, records
from tests.exchange.llm_server import ChatServer, Script

INITIATOR = {"Contract Net/cfp", "Contract Net/accept-proposal", "Contract Net/reject-proposal"}

BAD = [
    ("text", "Sure, I will call for proposals."),   # non-JSON
    ("text", '{"choice": 1, "params": {}}'),       # empty params: the cfp's task is missing
]


def cli(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(args), stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def initiator_llm(tmp_path_factory):
    out = tmp_path_factory.mktemp("roles")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_API_KEY", "sk-loopback-roles")
    script = Script(list(BAD))
    try:
        with ChatServer(script) as srv:
            code, err = cli("--spec", str(CNET), "--agents", "3", "--duration", "900s", "--seed", "3",
                            "--out", str(out), "--role-agent", "Initiator=llm", "--base-url", srv.url,
                            "--model", "test-model")
    finally:
        mp.undo()
    assert code == 0, err
    return out, script


def lines_of(out: Path, kind: str) -> list[tuple[int, dict]]:
    return [(i, r) for i, r in enumerate(records(out), 1) if r["type"] == kind]


def test_only_the_mapped_role_asks_the_model(initiator_llm):
    out, script = initiator_llm
    ds = lines_of(out, "decision")
    assert ds and len(ds) == script.requests
    assert {r["decision"]["role"] for _, r in ds} == {"Initiator"}
    chosen = [r["decision"]["message"] for _, r in ds if r["decision"].get("message") and not r["decision"]["error"]]
    assert set(chosen) <= INITIATOR and "Contract Net/cfp" in chosen
    sends = [r for _, r in lines_of(out, "envelope")]
    participant = [r for r in sends if r["from"]["role"] == "Participant"]
    initiator = [r for r in sends if r["from"]["role"] == "Initiator"]
    # the Participants' sends came without any model call: scripted agents answered
    assert participant and all(r["message"] not in INITIATOR for r in participant)
    # every Initiator send was chosen by a valid decision (a cfp may go to several peers)
    assert len({r["conversation"] for r in initiator if r["message"] == "cfp"}) == chosen.count("Contract Net/cfp")
    assert len([r for r in initiator if r["message"] != "cfp"]) == len([m for m in chosen if m != "Contract Net/cfp"])


def test_the_run_audits_clean_apart_from_the_bad_replies(initiator_llm):
    out, _ = initiator_llm
    ds = [i for i, _ in lines_of(out, "decision")]
    at = findings_by_line(audited(out))
    assert at[ds[0]] == {"DEC001"}
    assert at[ds[1]] == {"DEC006", "DEC007"}
    assert at[ds[2]] == {"DEC006"}
    assert set(at) == set(ds[:3])  # nothing else, anywhere in the log


def test_the_other_way_round_with_the_simulated_model(tmp_path):
    code, err = cli("--spec", str(CNET), "--agents", "4", "--duration", "1200s", "--seed", "1",
                    "--out", str(tmp_path), "--role-agent", "Participant=simulated-llm")
    assert code == 0, err
    ds = lines_of(tmp_path, "decision")
    assert ds and {r["decision"]["role"] for _, r in ds} == {"Participant"}
    assert any(r["from"]["role"] == "Initiator" for _, r in lines_of(tmp_path, "envelope"))


@pytest.mark.parametrize("item, says", [
    ("Initiator", "is not ROLE=KIND"),
    ("Initiator=robot", "kind 'robot' is not one of llm, scripted, random, simulated-llm"),
    ("Bidder=scripted", "no role 'Bidder' in Contract Net; its roles: Initiator, Participant"),
])
def test_bad_mappings_are_usage_errors(tmp_path, item, says):
    code, err = cli("--spec", str(CNET), "--out", str(tmp_path), "--role-agent", item)
    assert code == 2 and says in err


def test_a_role_mapped_twice_two_ways_is_refused():
    assert parse_mapping(["A=llm", "A=llm", "B=random"]) == {"A": "llm", "B": "random"}
    with pytest.raises(ValueError, match="mapped twice"):
        parse_mapping(["A=llm", "A=scripted"])


class Spy:
    """A random agent that notes the role of every decision it is asked to make."""

    def __init__(self, name: str, seen: list[str | None]) -> None:
        from protoverify.agents.random_agent import RandomAgent

        self.name, self.inner, self.seen = name, RandomAgent(name), seen

    def decide(self, view):
        self.seen.append(decision_role(view))
        return self.inner.decide(view)


def test_decisions_are_routed_by_role(tmp_path):
    """Participant decisions reach the mapped agent, and only they do; the rest stay scripted."""
    seen: list[str | None] = []
    s = run(CNET, agents=3, duration=1200, seed=2, out=tmp_path,
            role_agents={"Participant": lambda name: Spy(name, seen)})
    assert s.enactments > 0 and seen and set(seen) == {"Participant"}
    assert any(r["message"] == "cfp" for _, r in lines_of(tmp_path, "envelope"))


def test_an_opening_decision_belongs_to_the_role_of_the_opening_messages():
    a, b = Spy("x", []), Spy("x", [])
    agent = RoleAgent("x", a, {"Participant": b})
    assert agent.for_role("Participant") is b and agent.for_role("Initiator") is a and agent.for_role(None) is a
    assert agent.delegates == [a, b]
