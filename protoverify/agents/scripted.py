"""Scripted agents: one decision function per role, deterministic given the seed.

Playbooks exist for the two exchange protocols (`Contract Net`,
`Capability Negotiation`); for any other protocol a role sends the first of its
enabled messages (in the spec's order) with generated values, so every
enactment the spec makes live still completes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..monitor.monitor import Enabled
from ..monitor.simulate import default_value
from .base import Choice, Send, Slot, View, fill_payload

Decision = Callable[[View], "Choice | None"]


def _carried(view: View, message: str) -> tuple[str, ...]:
    m = view.protocol.message(message)
    return m.carried if m is not None else ()


def _bare(e: Enabled) -> str:
    """The flat message name (`cfp`, `Pack/packed`) of `Protocol/name`."""
    return e.message.split("/", 1)[1] if "/" in e.message else e.message


def send_of(view: View, e: Enabled, values: dict[str, Any], peer: str, **kw: Any) -> Send:
    """A Send of the enabled message `e` with `values` for what it fills, to the agents that
    play its recipient roles in its enactment (`peer` for a role the enactment has not named)."""
    name = _bare(e)
    key = {k: v for k, v in e.bound.items() if k in view.protocol.keys}
    parties: dict[str, str] = {}
    for s in ([view.slot] if view.slot is not None else []) + view.slots:
        if key and s.key == key:
            parties = s.parties
            break
    return Send(name, fill_payload(e, values, _carried(view, name)),
                tuple((parties.get(r, peer), r) for r in e.recipients), conversation=view.conversation, **kw)


def _find(slot: Slot | None, name: str) -> Enabled | None:
    if slot is None:
        return None
    for e in slot.enabled:
        if _bare(e) == name:
            return e
    return None


def generic_values(view: View, e: Enabled) -> dict[str, Any]:
    return {p: (view.new_id() if p in view.protocol.keys else default_value(p, 0, view.rng)) for p in e.fill}


# ---------------------------------------------------------------- Contract Net
def cn_start(view: View, favourites: int | None = None) -> Choice | None:
    """Initiator: a call for proposals for a task needing one capability, to every peer that
    has it (or, biased, only to the first `favourites` of them by name)."""
    cfp = next((e for e in view.enabled if _bare(e) == "cfp"), None)
    if cfp is None:
        return None
    caps = sorted({c for p in view.peers for c in p.capabilities})
    if not caps:
        return None
    cap = view.rng.choice(caps)
    invited = [p.name for p in view.peers if cap in p.capabilities]
    if favourites is not None:
        invited = sorted(invited)[:favourites]
    task = f"{cap}:{view.new_id()}"
    rb = view.now + view.reply_window
    return Choice([send_of(view, cfp, {"cfpID": view.new_id(), "task": task}, peer, reply_by=rb)
                   for peer in invited])


def cn_initiator(view: View) -> Choice | None:
    """Award the best bid once every invited participant answered (or the deadline passed)."""
    open_bids = [(s, e) for s in view.slots for e in [_find(s, "accept-proposal")] if e is not None]
    if not open_bids:
        return None
    waiting = any(not s.replied for s in view.slots)
    if waiting and view.reply_by is not None and view.now <= view.reply_by:
        return Choice(wait_until=view.reply_by + 0.5)
    best = min(open_bids, key=lambda se: (_num(se[1].bound.get("bid")), se[0].peer))[0]
    sends = []
    for s, e in open_bids:
        if s is best:
            sends.append(send_of(view, e, {"verdict": "accept", "award": f"award-{s.key['cfpID']}"}, s.peer))
        else:
            rej = _find(s, "reject-proposal")
            if rej is not None:
                sends.append(send_of(view, rej, {"verdict": "reject", "outcome": "rejected"}, s.peer))
    return Choice(sends)


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) else float("inf")


def cn_participant(view: View) -> Choice | None:
    """Bid when capable of the task, else refuse; after an award, report done (or, rarely, failure)."""
    s = view.slot
    if s is None:
        return None
    prop, ref = _find(s, "propose"), _find(s, "refuse")
    if prop is not None and ref is not None:
        cap = str(prop.bound.get("task", "")).split(":", 1)[0]
        if cap in view.capabilities:
            return Choice([send_of(view, prop, {"bid": view.rng.randint(10, 1000)}, s.peer)])
        return Choice([send_of(view, ref, {"bid": "none", "outcome": "refused"}, s.peer)])
    done, fail = _find(s, "inform-done"), _find(s, "failure")
    if done is not None:
        if fail is not None and view.rng.random() < 0.1:
            return Choice([send_of(view, fail, {"result": "failed", "outcome": "failed"}, s.peer)])
        return Choice([send_of(view, done, {"result": "done", "outcome": "done"}, s.peer)])
    return None


# ---------------------------------------------------------------- Capability Negotiation
def capn_start(view: View) -> Choice | None:
    adv = next((e for e in view.enabled if _bare(e) == "advertise"), None)
    if adv is None or not view.peers or not view.capabilities:
        return None
    peers = [p.name for p in view.peers]
    k = min(len(peers), 3)
    chosen = view.rng.sample(peers, k)
    caps = ",".join(sorted(view.capabilities))
    return Choice([send_of(view, adv, {"sessionID": view.new_id(), "capabilities": caps}, p) for p in chosen])


def capn_consumer(view: View) -> Choice | None:
    s = view.slot
    if s is None:
        return None
    q = _find(s, "query")
    if q is not None:
        offered = str(q.bound.get("capabilities", "")).split(",")
        wanted = sorted({c for p in view.peers for c in p.capabilities} | set(offered))
        return Choice([send_of(view, q, {"request": view.rng.choice(wanted)}, s.peer)])
    agree, decline = _find(s, "agree"), _find(s, "decline")
    if agree is not None:
        terms = agree.bound.get("terms")
        ok = isinstance(terms, (int, float)) and terms <= 600
        e = agree if ok or decline is None else decline
        return Choice([send_of(view, e, {"agreement": "agreed" if e is agree else "declined"}, s.peer)])
    return None


def capn_provider(view: View) -> Choice | None:
    s = view.slot
    if s is None:
        return None
    offer, unsup = _find(s, "offer"), _find(s, "unsupported")
    if offer is not None:
        if offer.bound.get("request") in view.capabilities or unsup is None:
            return Choice([send_of(view, offer, {"terms": view.rng.randint(10, 1000)}, s.peer)])
        return Choice([send_of(view, unsup, {"terms": "none", "agreement": "unsupported"}, s.peer)])
    return None


# ---------------------------------------------------------------- generic
def generic_start(view: View) -> Choice | None:
    if not view.enabled or not view.peers:
        return None
    e = view.enabled[0]
    peer = view.rng.choice(view.peers).name
    return Choice([send_of(view, e, generic_values(view, e), peer)])


def generic_role(view: View) -> Choice | None:
    s = view.slot
    if s is None or not s.enabled:
        return None
    e = s.enabled[0]
    return Choice([send_of(view, e, generic_values(view, e), s.peer)])


PLAYBOOKS: dict[str, dict[str, Decision]] = {
    "Contract Net": {"start": cn_start, "Initiator": cn_initiator, "Participant": cn_participant},
    "Capability Negotiation": {"start": capn_start, "Consumer": capn_consumer, "Provider": capn_provider},
}


class ScriptedAgent:
    """Decides by a function per role (and one for opening a negotiation)."""

    kind = "scripted"

    def __init__(self, name: str, decisions: dict[str, Decision] | None = None,
                 protocol: str | None = None, favourites: int | None = None) -> None:
        self.name = name
        self.decisions = decisions if decisions is not None else dict(PLAYBOOKS.get(protocol or "", {}))
        if favourites is not None and protocol == "Contract Net":
            self.decisions["start"] = lambda view: cn_start(view, favourites)

        self.bound: dict[tuple[Any, ...], set[str]] = {}  # enactment -> parameters it bound there

    def decide(self, view: View) -> Choice | None:
        if view.start:
            fn = self.decisions.get("start", generic_start)
        else:
            fn = self.decisions.get(view.role or "", generic_role)
        choice = fn(view)
        if choice is None or not choice.sends:
            return choice
        # An agent remembers what it bound: a message lost in transit (which the Monitor
        # forgets) is not followed by a different choice of the same parameters.
        kept = []
        for send in choice.sends:
            m = view.protocol.message(send.message)
            if m is None:
                kept.append(send)
                continue
            key = (m.keys, tuple(send.payload.get(k) for k in m.keys))
            mine = self.bound.setdefault(key, set())
            if mine & set(m.outs):
                continue
            mine.update(m.outs)
            kept.append(send)
        choice.sends = kept
        return choice
