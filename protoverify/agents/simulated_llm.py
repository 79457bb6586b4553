"""A simulated chat model for offline experiments: it answers the LLM agent's prompts
and makes the mistakes real LLM agents made in the Ahoy corpus, at the rates
counted there (docs/experiments.md, "Mistake rates"):

* `repeat` — it answers with the option number it chose last time (the Merchant's
  RequestLabel loop), whatever that number now means or whether it exists;
* `decline` — `{"choice": null}` although options exist;
* `invent` — it fills key parameters itself with a made-up value that does not
  change (`CFP-001`, as the Merchant's `orderID: ORD-001`), also where the key is
  already bound and not its to fill;
* `malformed` — a reply that is not JSON.

Otherwise it answers like a careful model: the first option that serves the role
(the first one listed, now and then the second), every non-key FILL parameter filled.
Its latency is drawn from the range measured on the corpus (`latency`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from .llm import Reply, Request

_PEERS = re.compile(r"Peers: (.*)$", re.M)
_CAPS = re.compile(r"\(([^)]*)\)")


@dataclass(frozen=True)
class MistakeRates:
    """Per-call probabilities (each call draws at most one mistake)."""

    repeat: float = 10 / 39
    decline: float = 6 / 39
    invent: float = 11 / 39
    malformed: float = 0.02

    @classmethod
    def none(cls) -> MistakeRates:
        return cls(0.0, 0.0, 0.0, 0.0)


@dataclass
class SimulatedLLM:
    """A `ChatModel` that needs no network: deterministic given each agent's random stream."""

    rates: MistakeRates = field(default_factory=MistakeRates)
    keys: frozenset[str] = frozenset()
    latency: tuple[float, float] = (3.975, 6.354)  # seconds, min..max of the corpus's decisions
    name: str = "simulated"
    last: dict[str, int] = field(default_factory=dict)  # agent -> option number it chose last
    made: dict[str, int] = field(default_factory=dict)  # mistakes made, by kind

    def complete(self, req: Request) -> Reply:
        rng, opts = req.rng, req.options
        lat = rng.uniform(*self.latency)
        r = rng.random()
        cut = 0.0
        kind = None
        for k in ("malformed", "decline", "repeat", "invent"):
            cut += getattr(self.rates, k)
            if r < cut:
                kind = k
                break
        if kind == "repeat" and req.agent not in self.last:
            kind = None
        if kind is not None:
            self.made[kind] = self.made.get(kind, 0) + 1
        if kind == "malformed":
            text = rng.choice(["I would send the first option, filling in the values.",
                               '{"choice": 1, "params": {"bid": ', "Option 1"])
            return Reply(text, None, None, latency_s=lat)
        if kind == "decline":
            return self._reply({"choice": None, "reason": "waiting for more information"}, lat)
        n = self.last[req.agent] if kind == "repeat" else self._careful(req)
        self.last[req.agent] = n
        opt = next((o for o in opts if o["number"] == n), None)
        params = self._values(opt, req) if opt is not None else {}
        if kind == "invent" and opt is not None:
            for k in self.keys:
                if k in opt["fill"] or k in opt["bound"]:
                    params[k] = f"{k.upper()}-001"
        return self._reply({"choice": n, "params": params}, lat)

    @staticmethod
    def _careful(req: Request) -> int:
        """Option 1, or 2 when the other enactments of the negotiation show a better (lower)
        value of a number option 1 would settle on (a better bid elsewhere); without that
        context, now and then option 2 (a participant that refuses)."""
        opts = req.options
        if len(opts) < 2:
            return 1
        if req.context:
            for k, v in opts[0]["bound"].items():
                if isinstance(v, (int, float)) and any(isinstance(c.get(k), (int, float)) and c[k] < v
                                                       for c in req.context):
                    return 2
            return 1
        return 2 if req.rng.random() < 0.2 else 1

    def _reply(self, obj: dict[str, Any], lat: float) -> Reply:
        text = orjson.dumps(obj).decode()
        return Reply(text, None, len(text) // 4, latency_s=lat)

    def _values(self, opt: dict[str, Any], req: Request) -> dict[str, Any]:
        rng = req.rng
        out: dict[str, Any] = {}
        for p in opt["fill"]:
            if p in self.keys:
                continue  # the runtime generates keys
            if p == "task":
                caps = self._peer_caps(req) or ["task"]
                out[p] = f"{rng.choice(caps)}:{rng.randrange(10**6)}"
            elif p == "bid" or p == "terms":
                out[p] = rng.randint(10, 1000)
            else:
                out[p] = p if p in ("outcome", "verdict", "result", "agreement") else f"{p}-{rng.randrange(1000)}"
        return out

    @staticmethod
    def _peer_caps(req: Request) -> list[str]:
        text = req.messages[1]["content"] if len(req.messages) > 1 else ""
        m = _PEERS.search(text)
        if m is None:
            return []
        caps = {c.strip() for g in _CAPS.findall(m.group(1)) for c in g.split(",") if c.strip()}
        return sorted(caps)
