"""The LLM-X matrix: agents × policy level × horizon, each cell one exchange run of LLM
agents (simulated by default) under faults and with misbehaving agents, audited.

Every cell writes its run (exchange.jsonl, summary.json, injections.jsonl), its
audit (audit.json) and its drift series (drift.json) into `out/<cell>/`; the rows
go to `out/metrics.csv`.
"""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..agents.base import Agent
from ..agents.llm import ChatModel, LLMAgent
from ..agents.simulated_llm import SimulatedLLM
from ..bspl import flatten, load

AGENTS = (5, 9, 12)
POLICIES = ("low", "medium", "high")
HORIZONS = {"short": 1800.0, "2h": 7200.0, "12h": 43200.0}
FAULTS = "drop=0.01,duplicate=0.01,reorder=0.01,delay=0.01,crash=0.1"
THINK = (3.975, 6.354)  # an LLM agent's reaction time: the corpus's decision latencies, min..max
COLUMNS = ("cell", "agents", "policy", "horizon", "seed", "sim_hours", "negotiations", "negotiations_completed",
           "enactments", "envelopes", "latency_p50", "latency_p95", "latency_p99", "messages_per_completed",
           "fairness", "completed_correctly", "violations", "violations_stopped", "policy_stops",
           "drift_slope_p95_per_hour", "p95_first_half", "p95_second_half", "decisions", "decision_errors",
           "decision_latency_p95", "decision_findings", "wall_seconds")


@dataclass(frozen=True)
class Cell:
    agents: int
    policy: str
    horizon: str
    seed: int

    @property
    def name(self) -> str:
        return f"n{self.agents:02d}-{self.policy}-{self.horizon}-s{self.seed}"

    @property
    def duration(self) -> float:
        return HORIZONS[self.horizon]


def cells(agents: tuple[int, ...] = AGENTS, policies: tuple[str, ...] = POLICIES,
          horizons: tuple[str, ...] = tuple(HORIZONS), seeds: int = 1) -> Iterator[Cell]:
    for h in horizons:
        for n in agents:
            for p in policies:
                for s in range(seeds):
                    yield Cell(n, p, h, s)


ModelFactory = Callable[[Cell], ChatModel]


def simulated(keys: frozenset[str]) -> ModelFactory:
    """A fresh simulated model per cell (its memory of last choices is per run)."""
    return lambda cell: SimulatedLLM(keys=keys)


def run_cell(cell: Cell, spec: Path, out: Path, model: ChatModel, faults: str = FAULTS,
             adversarial: int = 1) -> dict[str, Any]:
    """Run, audit and measure one cell; returns its metrics row."""
    from ..api import audit
    from ..exchange.run import run
    from ..report import to_json
    from .metrics import metrics

    text = spec.read_text(encoding="utf-8")
    cdir = out / cell.name
    factory: Callable[[str], Agent] = lambda name: LLMAgent(name, model, text)  # noqa: E731
    s = run(spec, agents=cell.agents, policy=cell.policy, duration=cell.duration, seed=cell.seed, out=cdir,
            faults=faults, adversarial=adversarial, think=THINK, agent_factory=factory)
    res = audit(spec, [cdir / "exchange.jsonl"], record_enactments=True)
    (cdir / "audit.json").write_text(to_json(res), encoding="utf-8")
    row, d = metrics(s, cdir / "exchange.jsonl", res)
    (cdir / "drift.json").write_bytes(orjson.dumps(d, option=orjson.OPT_INDENT_2))
    head = {"cell": cell.name, "agents": cell.agents, "policy": cell.policy, "horizon": cell.horizon,
            "seed": cell.seed, "sim_hours": cell.duration / 3600}
    return head | row


def run_matrix(spec: Path, out: Path, chosen: list[Cell], model_for: ModelFactory | None = None,
               faults: str = FAULTS, adversarial: int = 1,
               progress: Callable[[Cell, dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Every cell in turn; writes metrics.csv (rewritten after each cell, so a long run
    interrupted keeps what it measured)."""
    out.mkdir(parents=True, exist_ok=True)
    if model_for is None:
        names = list(load(spec).names)
        model_for = simulated(frozenset(flatten(load(spec), names[0]).keys))
    rows: list[dict[str, Any]] = []
    for cell in chosen:
        rows.append(run_cell(cell, spec, out, model_for(cell), faults, adversarial))
        write_csv(out / "metrics.csv", rows)
        if progress is not None:
            progress(cell, rows[-1])
    return rows


def _fmt(v: Any) -> Any:
    return round(v, 6) if isinstance(v, float) else ("" if v is None else v)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(COLUMNS))
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k)) for k in COLUMNS})
