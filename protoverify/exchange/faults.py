"""Injected faults: drop, duplicate, reorder, delay and crash, each at a rate, from a seed.

Faults act on the bus between gateways (and on agents, for crash), never on the
policy: what the policy decides is the same with or without them. Every fault
injected is recorded (`Injection`) with the envelope it hit, so tests and the
summary can check that each one shows up in the log.
"""
from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("drop", "duplicate", "reorder", "delay", "crash")


@dataclass
class FaultConfig:
    """Rates: per envelope for drop/duplicate/reorder/delay; per agent over the run for crash."""

    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay: float = 0.0
    crash: float = 0.0
    seed: int = 0
    delay_s: tuple[float, float] = (30.0, 120.0)  # how late a delayed envelope arrives
    duplicate_after_s: float = 5.0  # the copy enters after the original was delivered

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any] | FaultConfig | None, seed: int = 0) -> FaultConfig:
        """`"drop=0.01,duplicate=0.02,seed=3"` (or a mapping) -> FaultConfig; raises ValueError."""
        if isinstance(spec, FaultConfig):
            return spec
        cfg = cls(seed=seed)
        if not spec:
            return cfg
        items = spec.items() if isinstance(spec, Mapping) else \
            (part.split("=", 1) if "=" in part else (part, "") for part in str(spec).split(",") if part.strip())
        for k, v in items:
            k = str(k).strip()
            if k not in FAULT_KINDS + ("seed",):
                raise ValueError(f"unknown fault {k!r}: expected {', '.join(FAULT_KINDS)} or seed")
            try:
                val = int(v) if k == "seed" else float(v)
            except (TypeError, ValueError):
                raise ValueError(f"fault {k}: {v!r} is not a number") from None
            if k != "seed" and not 0.0 <= val <= 1.0:
                raise ValueError(f"fault {k}: rate {val} is not between 0 and 1")
            setattr(cfg, k, val)
        return cfg

    def any(self) -> bool:
        return any(getattr(self, k) > 0 for k in FAULT_KINDS)


@dataclass
class Injection:
    """One injected fault or misbehaviour and where it shows in the log."""

    kind: str
    id: str | None = None  # envelope id it hit
    agent: str | None = None
    at: float = 0.0
    line: int | None = None  # log line where it shows (filled in when written)
    extra: dict[str, Any] = field(default_factory=dict)


class Faults:
    """Draws faults from their own random stream (so faults do not shift agent choices)."""

    def __init__(self, cfg: FaultConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(f"faults-{cfg.seed}")
        self.active = cfg.any()
        self.injected: list[Injection] = []

    def on_envelope(self) -> str | None:
        """The fault hitting one envelope in transit, if any (at most one per envelope)."""
        if not self.active:
            return None
        c, r = self.cfg, self.rng.random()
        for kind in ("drop", "duplicate", "reorder", "delay"):
            rate = getattr(c, kind)
            if r < rate:
                return kind
            r -= rate
        return None

    def delay(self) -> float:
        return self.rng.uniform(*self.cfg.delay_s)

    def crash_times(self, agents: list[str], duration: float) -> dict[str, float]:
        """Which agents crash, and when (uniform over the run)."""
        out: dict[str, float] = {}
        if self.cfg.crash <= 0:
            return out
        for a in agents:
            if self.rng.random() < self.cfg.crash:
                out[a] = self.rng.uniform(0.1 * duration, 0.9 * duration)
        return out
