"""The enactment rules both back ends share, on a compact index of a FlatProtocol.

One enactment, one instance per message schema (a message can never be sent twice:
a message with an `out` parameter is disabled once its sender knows it, and one with
none is allowed once, as in bspl). Channels are asynchronous, reliable and unordered.

A role knows parameter p when it sent or received a message carrying p (in or out),
or, for a public `in` parameter, once the inputs have arrived at it. Inputs come from
the enclosing context as in bspl's `verification/paths.py` (`UoD.from_protocol`): an
implicit External role sends each role one message carrying every public `in`
parameter, asynchronously and reliably. We model that message's reception as an
*arrival* event of the role, at an arbitrary time (before or after any of the role's
other events); every input role receives exactly one. The input roles are the roles
that send or receive a message mentioning a public `in` parameter (bspl addresses
every role; the others' arrivals change no enabling, since a role's knowledge is only
tested on its own messages' parameters). In a quiescent state every input has arrived.
Role r may send m when r is m's sender, m is unsent, r knows every `in` of m and none
of its `out`/`nil` parameters, and not every key m binds as `out` is already bound
(a message binding a key starts a new enactment: bspl's `viable`).

This module imports no solver: the explorer, the Z3 back end and counterexample
replay all read the same `Rules`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..bspl.compose import FlatProtocol


@dataclass(frozen=True)
class Msg:
    index: int
    name: str
    sender: str
    recipients: tuple[str, ...]
    ins: frozenset[str]
    outs: frozenset[str]
    nils: frozenset[str]
    carried: tuple[str, ...]  # in and out, in declaration order
    out_keys: frozenset[str]  # key parameters bound as out


class Rules:
    """A FlatProtocol prepared for reasoning: messages by index, binders, public ins/outs."""

    def __init__(self, flat: FlatProtocol):
        self.flat = flat
        self.name = flat.name
        msgs: list[Msg] = []
        for i, m in enumerate(flat.messages):
            recips = tuple(dict.fromkeys(r for r in m.recipients if r != m.sender))
            keys = {p.name for p in m.params if p.key}
            msgs.append(Msg(i, m.name, m.sender, recips, m.ins, m.outs, m.nils, m.carried,
                            frozenset(m.outs & keys)))
        self.messages: tuple[Msg, ...] = tuple(msgs)
        self.by_name = {m.name: m for m in msgs}
        roles = list(flat.roles)
        for m in msgs:
            for r in (m.sender, *m.recipients):
                if r not in roles:
                    roles.append(r)
        self.roles: tuple[str, ...] = tuple(roles)
        self.public_ins: frozenset[str] = frozenset(flat.ins)
        self.public_outs: tuple[str, ...] = tuple(flat.outs)
        binders: dict[str, list[Msg]] = {}
        for m in msgs:
            for p in m.outs:
                binders.setdefault(p, []).append(m)
        self.binders: dict[str, tuple[Msg, ...]] = {p: tuple(ms) for p, ms in binders.items()}
        # the External inputs: every public `in` parameter, delivered in one arrival to
        # each input role (a role that sends or receives a message mentioning one)
        self.inputs: tuple[str, ...] = tuple(p for p in flat.ins)
        mentioned = {r: set() for r in roles}
        for m in msgs:
            ps = m.ins | m.outs | m.nils | set(m.carried)
            for r in (m.sender, *m.recipients):
                mentioned[r] |= ps
        self.input_roles: tuple[str, ...] = tuple(
            r for r in roles if self.inputs and mentioned[r] & self.public_ins)

    def contested(self) -> list[str]:
        """Parameters bound as out by messages of two or more roles: the safety candidates."""
        return [p for p, ms in self.binders.items() if len({m.sender for m in ms}) > 1]

    # -- knowledge and enabling on an explicit history ---------------------------------

    def knowledge(self, sent: Iterable[int], received: Iterable[tuple[int, str]],
                  arrived: Iterable[str] = ()) -> dict[str, set[str]]:
        """What each role knows after the given sends, receptions and input arrivals."""
        k: dict[str, set[str]] = {r: set() for r in self.roles}
        for r in arrived:
            k[r].update(self.inputs)
        for i in sent:
            m = self.messages[i]
            k[m.sender].update(m.carried)
        for i, r in received:
            k[r].update(self.messages[i].carried)
        return k

    def bound(self, sent: Iterable[int]) -> set[str]:
        """Parameters bound as out by some sent message."""
        out: set[str] = set()
        for i in sent:
            out |= self.messages[i].outs
        return out

    def disabled_reasons(self, m: Msg, sent: frozenset[int] | set[int], knows: set[str],
                         bound: set[str]) -> list[str]:
        """Why `m` cannot be sent now (empty list: it is enabled)."""
        reasons: list[str] = []
        if m.index in sent:
            return ["already sent (one instance per enactment)"]
        for p in sorted(m.ins - knows):
            reasons.append(f"{m.sender} does not know in {p}")
        for p in sorted(m.outs & knows):
            reasons.append(f"{m.sender} already knows out {p}")
        for p in sorted(m.nils & knows):
            reasons.append(f"{m.sender} knows nil {p}")
        if m.out_keys and m.out_keys <= bound:
            reasons.append(f"key {', '.join(sorted(m.out_keys))} already bound (a new enactment)")
        return reasons

    def enabled(self, m: Msg, sent, knows: set[str], bound: set[str]) -> bool:
        return (m.index not in sent and m.ins <= knows and not (m.outs & knows)
                and not (m.nils & knows) and not (m.out_keys and m.out_keys <= bound))


class ReplayError(ValueError):
    """A counterexample that is not a valid enactment."""


def replay(rules: Rules, events: list[dict]) -> tuple[frozenset[int], frozenset[tuple[int, str]], frozenset[str]]:
    """Check `events` (send/receive/input dicts as produced by counterexamples) step by step.

    Returns the final (sent, received, arrived); raises ReplayError at the first invalid step.
    """
    sent: set[int] = set()
    received: set[tuple[int, str]] = set()
    arrived: set[str] = set()
    k = rules.knowledge((), ())
    bound: set[str] = set()
    for n, e in enumerate(events):
        if e["kind"] == "input":
            r = e["role"]
            if r not in rules.input_roles or r in arrived:
                raise ReplayError(f"event {n}: no input arrives at {r} here")
            arrived.add(r)
            k[r].update(rules.inputs)
            continue
        m = rules.by_name.get(e["message"])
        if m is None:
            raise ReplayError(f"event {n}: unknown message {e['message']!r}")
        if e["kind"] == "send":
            reasons = rules.disabled_reasons(m, sent, k[m.sender], bound)
            if reasons:
                raise ReplayError(f"event {n}: {m.name} not enabled: {'; '.join(reasons)}")
            sent.add(m.index)
            k[m.sender].update(m.carried)
            bound |= m.outs
        elif e["kind"] == "receive":
            r = e["role"]
            if m.index not in sent:
                raise ReplayError(f"event {n}: {r} receives {m.name} before it is sent")
            if r not in m.recipients or (m.index, r) in received:
                raise ReplayError(f"event {n}: {r} may not receive {m.name} here")
            received.add((m.index, r))
            k[r].update(m.carried)
        else:
            raise ReplayError(f"event {n}: unknown kind {e['kind']!r}")
    return frozenset(sent), frozenset(received), frozenset(arrived)


def simulate(rules: Rules, seed: int, max_steps: int = 100_000) -> frozenset[int]:
    """One random maximal enactment (sends, receptions, arrivals in random order); its sent set.

    Used to settle enactability of most messages without the solver: whatever a run
    sends is enactable.
    """
    import random

    rng = random.Random(seed)
    sent: set[int] = set()
    pending: list[tuple[int, str]] = [(-1, r) for r in rules.input_roles]  # -1: input arrival
    k = rules.knowledge((), ())
    bound: set[str] = set()
    for _ in range(max_steps):
        sends = [m for m in rules.messages if rules.enabled(m, sent, k[m.sender], bound)]
        n = len(sends) + len(pending)
        if not n:
            break
        pick = rng.randrange(n)
        if pick < len(sends):
            m = sends[pick]
            sent.add(m.index)
            k[m.sender].update(m.carried)
            bound |= m.outs
            pending.extend((m.index, r) for r in m.recipients)
        else:
            i, r = pending.pop(pick - len(sends))
            k[r].update(rules.messages[i].carried if i >= 0 else rules.inputs)
    return frozenset(sent)
