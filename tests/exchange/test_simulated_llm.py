"""The simulated LLM: careful without mistakes; with the corpus rates its mistakes show
in the audit as the decision findings real LLM mistakes give."""
from __future__ import annotations

import pytest

from protoverify.agents.llm import LLMAgent
from protoverify.agents.simulated_llm import MistakeRates, SimulatedLLM
from protoverify.bspl import flatten, load
from protoverify.exchange import run
from tests.exchange.helpers import CNET, audited

FLAT = flatten(load(CNET), "Contract Net")
TEXT = CNET.read_text()


def _run(tmp_path, rates: MistakeRates, policy: str = "low", duration: float = 2 * 3600):
    sim = SimulatedLLM(rates, keys=frozenset(FLAT.keys))
    s = run(CNET, agents=6, policy=policy, duration=duration, seed=5, out=tmp_path, think=(4.0, 6.0),
            agent_factory=lambda n: LLMAgent(n, sim, TEXT))
    return sim, s, audited(tmp_path)


def test_without_mistakes_the_simulated_agents_enact_cleanly(tmp_path):
    sim, s, res = _run(tmp_path, MistakeRates.none())
    assert sim.made == {}
    assert s.negotiations_completed > 0 and s.envelopes == s.delivered
    assert [f for f in res.findings if f.code.startswith("DEC")] == []
    assert res.complete > 0


def test_mistakes_at_the_corpus_rates_show_as_decision_findings(tmp_path):
    sim, s, res = _run(tmp_path, MistakeRates(), duration=6 * 3600)
    codes = res.codes()
    assert codes["DEC005"] == sim.made["decline"]  # every decline with options is reported
    assert codes["DEC001"] == sim.made["malformed"]
    assert codes["DEC004"] > 0 and codes["DEC006"] > 0
    total = sum(sim.made.values())
    assert total > 100
    assert s.negotiations > s.negotiations_completed  # the mistakes cost completions


@pytest.mark.parametrize("kind", ["repeat", "decline", "invent", "malformed"])
def test_each_mistake_happens_at_about_its_rate(kind):
    import random

    from protoverify.agents.llm import Request

    rates = MistakeRates()
    sim = SimulatedLLM(rates, keys=frozenset({"cfpID"}))
    opts = [{"number": 1, "message": "Contract Net/propose", "bound": {"cfpID": "k1"}, "fill": ["bid"]},
            {"number": 2, "message": "Contract Net/refuse", "bound": {"cfpID": "k1"}, "fill": ["bid", "outcome"]}]
    rng = random.Random(1)
    n = 4000
    for _ in range(n):
        sim.complete(Request([{"role": "system", "content": ""}, {"role": "user", "content": ""}], opts, "a", rng))
    expected = getattr(rates, kind)
    assert abs(sim.made.get(kind, 0) / n - expected) < 0.03
