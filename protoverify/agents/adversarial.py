"""Adversarial agents: behave like scripted ones, and at a set rate also send a bad envelope.

Misbehaviours, each tagged on its Send so a run can check where it shows:

* `out-of-turn` — a message of its role that is not enabled now (values invented);
* `forged` — a message of its role claiming another agent as its sender;
* `duplicate` — its last envelope again (same message and bindings, new id), at least
  a second after it (so the original has been delivered);
* `wrong-role` — a message of the role its peer plays, claiming that role.
"""
from __future__ import annotations

from typing import Any

from ..monitor.simulate import default_value
from .base import Choice, Send, View
from .scripted import ScriptedAgent

MISBEHAVIOURS = ("out-of-turn", "forged", "duplicate", "wrong-role")


class AdversarialAgent:
    """A scripted agent that misbehaves with probability `rate` at each decision."""

    kind = "adversarial"

    def __init__(self, name: str, protocol: str | None = None, rate: float = 0.3,
                 kinds: tuple[str, ...] = MISBEHAVIOURS) -> None:
        self.name = name
        self.inner = ScriptedAgent(name, protocol=protocol)
        self.rate = rate
        self.kinds = kinds
        self.last: Send | None = None
        self.last_at = float("-inf")

    def decide(self, view: View) -> Choice | None:
        choice = self.inner.decide(view)
        bad = self._bad(view, view.rng.choice(self.kinds)) if view.rng.random() < self.rate else None
        # remembered after: a duplicate repeats a send of an earlier decision, one that has
        # been delivered by now, never one still in flight
        if choice is not None and choice.sends:
            self.last, self.last_at = choice.sends[-1], view.now
        if bad is None:
            return choice
        choice = choice or Choice()
        choice.sends.append(bad)
        return choice

    def _payload(self, view: View, name: str) -> dict[str, Any]:
        m = view.protocol.message(name)
        assert m is not None
        known = dict(view.slot.knows) if view.slot is not None else {}
        return {p: known.get(p, default_value(p, 0, view.rng)) for p in m.carried}

    def _bad(self, view: View, kind: str) -> Send | None:
        s = view.slot
        if kind == "duplicate" or s is None:
            if self.last is None or view.now - self.last_at < 1.0:
                return None
            return Send(self.last.message, dict(self.last.payload), self.last.to, conversation=self.last.conversation,
                        misbehaviour="duplicate")
        enabled = {e.message.split("/", 1)[1] for e in s.enabled}
        if kind == "out-of-turn":
            mine = [m.name for m in view.protocol.messages if m.sender == view.role and m.name not in enabled
                    and m.ins]
            if not mine:
                return None
            name = view.rng.choice(mine)
            m = view.protocol.message(name)
            if m is None:  # not reached: the names are the protocol's own
                return None
            return Send(name, self._payload(view, name), tuple((s.peer, r) for r in m.recipients),
                        conversation=view.conversation, misbehaviour="out-of-turn")
        if kind == "forged":
            others = [p.name for p in view.peers if p.name != s.peer] or [s.peer]
            own = [msg for msg in view.protocol.messages if msg.sender == view.role]
            m = view.rng.choice(own)
            return Send(m.name, self._payload(view, m.name), tuple((s.peer, r) for r in m.recipients),
                        conversation=view.conversation, as_agent=view.rng.choice(others),
                        misbehaviour="forged")
        if kind == "wrong-role":
            theirs = [m for m in view.protocol.messages if m.sender != view.role and view.role in m.recipients]
            if not theirs:
                return None
            m = view.rng.choice(theirs)
            return Send(m.name, self._payload(view, m.name), ((s.peer, view.role or m.recipients[0]),),
                        conversation=view.conversation, as_role=m.sender, misbehaviour="wrong-role")
        return None
