"""The agent interface and what it sees and returns."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..bspl.compose import FlatProtocol
from ..monitor.monitor import Enabled


@dataclass
class Peer:
    """Another agent, as the exchange's capability advertisements show it."""

    name: str
    capabilities: frozenset[str]


@dataclass
class Slot:
    """One enactment of a negotiation, seen by the agent that is in it."""

    key: dict[str, Any]  # key parameter bindings
    peer: str  # the other agent
    enabled: list[Enabled]  # what this agent may send in it now
    replied: bool  # the peer has answered the opening message
    knows: dict[str, Any]  # the values this agent knows there
    parties: dict[str, str] = field(default_factory=dict)  # role -> the agent playing it


@dataclass
class View:
    """What an agent sees when it is asked to decide.

    `start` is True when the agent may open a new negotiation (`enabled` then
    holds the protocol's opening messages). Otherwise `slots` holds every
    enactment of the negotiation `conversation` this agent is in, and `slot` the
    one that just changed.
    """

    agent: str
    protocol: FlatProtocol
    now: float
    rng: random.Random
    capabilities: frozenset[str]
    peers: list[Peer]
    role: str | None = None
    start: bool = False
    enabled: list[Enabled] = field(default_factory=list)
    conversation: str | None = None
    slots: list[Slot] = field(default_factory=list)
    slot: Slot | None = None
    reply_by: float | None = None
    reply_window: float = 60.0  # how long a call for replies stays open
    new_id: Any = None  # callable () -> str: a fresh identifier (deterministic per run)


@dataclass
class Send:
    """One envelope to send: `message` (bare name), the full `payload`, the addressee."""

    message: str
    payload: dict[str, Any]
    to: tuple[tuple[str, str], ...]
    reply_by: float | None = None
    conversation: str | None = None
    as_agent: str | None = None  # claim another sender identity (adversarial only)
    as_role: str | None = None  # claim another role (adversarial only)
    misbehaviour: str | None = None  # what an adversarial send is meant to be


@dataclass
class Choice:
    """Envelopes to send now, and optionally when to be asked again."""

    sends: list[Send] = field(default_factory=list)
    wait_until: float | None = None


class Agent(Protocol):
    """An agent: decides what to send given its view."""

    name: str

    def decide(self, view: View) -> Choice | None: ...


def fill_payload(e: Enabled, values: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """The payload of an enabled message: its bound `in` values plus `values` for what it fills."""
    b = dict(e.bound)
    b.update({k: v for k, v in values.items() if k in e.fill})
    return {p: b[p] for p in order if p in b}
