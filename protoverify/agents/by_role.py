"""A personal agent whose decisions are made by another agent per role.

Personal agents on the exchange play several roles (they call for bids and they
bid), and each decision is about one role: `view.role` for a decision in an
enactment, the role of the opening messages for a decision to open one. A
`RoleAgent` hands each decision to the agent mapped for that role, else to its
default, so a run can make only the Initiator an LLM agent and leave the
Participants scripted.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .base import Agent, Choice, View

KINDS = ("llm", "scripted", "random", "simulated-llm")


def decision_role(view: View) -> str | None:
    """The role a decision is made for: the view's role, else (opening a negotiation)
    the role that sends the opening messages offered."""
    if view.role is not None:
        return view.role
    roles = {e.role for e in view.enabled}
    return roles.pop() if len(roles) == 1 else None


class RoleAgent:
    """Delegates each decision to `by_role[role]`, else to `default`."""

    def __init__(self, name: str, default: Agent, by_role: Mapping[str, Agent]) -> None:
        self.name = name
        self.default = default
        self.by_role = dict(by_role)

    @property
    def delegates(self) -> list[Agent]:
        """Every agent decisions may go to (the default first), each once."""
        out: list[Agent] = [self.default]
        for a in self.by_role.values():
            if all(a is not b for b in out):
                out.append(a)
        return out

    def attach(self, sink: Callable[[dict[str, Any]], Any]) -> None:
        """Pass the decision sink on to the delegates that write decision records."""
        for a in self.delegates:
            attach = getattr(a, "attach", None)
            if attach is not None:
                attach(sink)

    def for_role(self, role: str | None) -> Agent:
        return self.by_role.get(role, self.default) if role is not None else self.default

    def decide(self, view: View) -> Choice | None:
        return self.for_role(decision_role(view)).decide(view)


def parse_mapping(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["Initiator=llm", ...]` -> {role: kind}; raises ValueError saying which item is wrong."""
    out: dict[str, str] = {}
    for item in items:
        role, sep, kind = item.partition("=")
        role, kind = role.strip(), kind.strip()
        if not sep or not role or not kind:
            raise ValueError(f"{item!r} is not ROLE=KIND (e.g. Initiator=llm)")
        if kind not in KINDS:
            raise ValueError(f"{item!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if role in out and out[role] != kind:
            raise ValueError(f"role {role} is mapped twice ({out[role]} and {kind})")
        out[role] = kind
    return out
