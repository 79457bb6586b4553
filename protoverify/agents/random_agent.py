"""Random agents: pick any enabled message (the Monitor's list) and invent its values."""
from __future__ import annotations

from .base import Choice, View
from .scripted import generic_values, send_of


class RandomAgent:
    """Conformant but aimless: every send is enabled, no send is chosen for a reason."""

    kind = "random"

    def __init__(self, name: str) -> None:
        self.name = name

    def decide(self, view: View) -> Choice | None:
        if view.start:
            if not view.enabled or not view.peers:
                return None
            e = view.rng.choice(view.enabled)
            peer = view.rng.choice(view.peers).name
            return Choice([send_of(view, e, generic_values(view, e), peer)])
        s = view.slot
        if s is None or not s.enabled:
            return None
        e = view.rng.choice(s.enabled)
        return Choice([send_of(view, e, generic_values(view, e), s.peer)])
