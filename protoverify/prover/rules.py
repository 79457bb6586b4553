"""The enactment rules both back ends share, on a compact index of a FlatProtocol.

One enactment, one instance per message schema (a message can never be sent twice:
a message with an `out` parameter is disabled once its sender knows it, and one with
none is allowed once, as in bspl). Channels are asynchronous, reliable and unordered.

What a role may use when it sends m is its knowledge *in m's key context*
(protoverify/enactment, the one statement of the rule; docs/semantics.md, "Key
contexts"): the parameters carried by those of its observations (messages it sent
or received, the arrival of the inputs) that are linked to m's keys, directly or
through a chain of observations sharing a key parameter. A message's *tokens* are
the key parameters it carries; the arrival's are the public `in` key parameters.
A protocol with no key parameter anywhere is one implicit enactment: every
observation is linked (keyless toy specs keep their verdicts).

Inputs come from the enclosing context as in bspl's `verification/paths.py`
(`UoD.from_protocol`): an implicit External role sends each role one message carrying
every public `in` parameter, asynchronously and reliably. We model that message's
reception as an *arrival* event of the role, at an arbitrary time (before or after any
of the role's other events); every input role receives exactly one. The input roles
are the roles that send or receive a message mentioning a public `in` parameter (bspl
addresses every role; the others' arrivals change no enabling, since a role's knowledge
is only tested on its own messages' parameters). In a quiescent state every input has
arrived. The arrival is an observation like any other: it is linked only through its
key tokens, so a non-key input in a protocol whose keys are all `out` is never usable.

Role r may send m when r is m's sender, m is unsent, r knows (in m's context) every
`in` of m and none of its `out`/`nil` parameters, and not every key m binds as `out`
is already bound (a message binding a key starts a new enactment: bspl's `viable`).

This module imports no solver: the explorer, the Z3 back end and counterexample
replay all read the same `Rules`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from ..bspl.compose import FlatProtocol
from ..enactment import Shape, disabled_reasons, is_enabled, key_parameters, linked, shapes

Msg = Shape  # a message of the protocol, as the enactment rule sees it

Names = frozenset[str] | set[str]  # a set of parameter names (a live set or a frozen one)

INPUT = -1  # the index standing for the inputs' arrival among a role's observations


@dataclass(frozen=True, slots=True)
class Observation:
    """One thing a role observed: sending or receiving message `index`, or (INPUT) the
    arrival of the public inputs. `tokens`: the key parameters it links by."""

    index: int
    tokens: frozenset[str]
    carried: tuple[str, ...]


class Rules:
    """A FlatProtocol prepared for reasoning: message shapes by index, binders, public ins/outs."""

    def __init__(self, flat: FlatProtocol):
        self.flat = flat
        self.name = flat.name
        self.key_params: frozenset[str] = key_parameters(flat)
        # no key anywhere: one implicit enactment, every observation linked
        self.keyless: bool = not self.key_params
        msgs = shapes(flat)
        self.messages: tuple[Shape, ...] = msgs
        self.by_name = {m.name: m for m in msgs}
        roles = list(flat.roles)
        for m in msgs:
            for r in (m.sender, *m.recipients):
                if r not in roles:
                    roles.append(r)
        self.roles: tuple[str, ...] = tuple(roles)
        self.public_ins: frozenset[str] = frozenset(flat.ins)
        self.public_outs: tuple[str, ...] = tuple(flat.outs)
        binders: dict[str, list[Shape]] = {}
        for m in msgs:
            for p in m.outs:
                binders.setdefault(p, []).append(m)
        self.binders: dict[str, tuple[Shape, ...]] = {p: tuple(ms) for p, ms in binders.items()}
        # the External inputs: every public `in` parameter, delivered in one arrival to
        # each input role (a role that sends or receives a message mentioning one)
        self.inputs: tuple[str, ...] = tuple(p for p in flat.ins)
        self.input_tokens: frozenset[str] = self.public_ins & self.key_params
        mentioned: dict[str, set[str]] = {r: set() for r in roles}
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

    def observation(self, index: int) -> Observation:
        """Sending or receiving message `index`, or (INPUT) the arrival of the inputs."""
        if index == INPUT:
            return Observation(INPUT, self.input_tokens, self.inputs)
        m = self.messages[index]
        return Observation(index, m.links, m.carried)

    def observations(self, sent: Iterable[int], received: Iterable[tuple[int, str]],
                     arrived: Iterable[str] = ()) -> dict[str, list[Observation]]:
        """Each role's observations in the given history (sends, receptions, arrivals)."""
        obs: dict[str, list[Observation]] = {r: [] for r in self.roles}
        for r in arrived:
            obs[r].append(self.observation(INPUT))
        for i in sent:
            obs[self.messages[i].sender].append(self.observation(i))
        for i, r in received:
            obs[r].append(self.observation(i))
        return obs

    def context(self, m: Shape, observations: Sequence[Observation]) -> frozenset[str]:
        """The parameters carried by those of `observations` (one role's) that are linked
        to m's keys: what that role may use for m (everything, in a keyless protocol)."""
        hit = observations if self.keyless else linked(m.keys, observations, lambda o: o.tokens)
        return frozenset(p for o in hit for p in o.carried)

    def knows(self, m: Shape, sent: Iterable[int], received: Iterable[tuple[int, str]],
              arrived: Iterable[str] = ()) -> frozenset[str]:
        """What m's sender knows in m's key context after the given history."""
        return self.context(m, self.observations(sent, received, arrived)[m.sender])

    def bound(self, sent: Iterable[int]) -> set[str]:
        """Parameters bound as out by some sent message."""
        out: set[str] = set()
        for i in sent:
            out |= self.messages[i].outs
        return out

    def disabled_reasons(self, m: Shape, sent: AbstractSet[int], knows: AbstractSet[str],
                         bound: AbstractSet[str], seen: AbstractSet[str] = frozenset()) -> list[str]:
        """Why `m` cannot be sent now (empty list: it is enabled). `knows`: the sender's
        knowledge in m's key context; `seen`: everything the sender observed, in any
        context (a missing `in` it has seen elsewhere is reported as not linked)."""
        reasons = disabled_reasons(m, knows, sent=m.index in sent, keys_bound=bound)
        unlinked = set(seen) - set(knows)
        if unlinked:  # seen, but only in observations not linked to m's keys
            keys = ", ".join(sorted(m.keys)) or "none"
            reasons = [f"{x} (seen, but not linked to keys {keys})"
                       if x.rsplit(" ", 1)[-1] in unlinked and "does not know" in x else x
                       for x in reasons]
        return reasons

    def enabled(self, m: Shape, sent: AbstractSet[int], knows: Names, bound: Names) -> bool:
        """May m be sent now; `knows`: the sender's knowledge in m's key context."""
        return is_enabled(m, knows, sent=m.index in sent, keys_bound=bound)


class _Context:
    """One key context kept up to date as a role observes more (the fixpoint of `linked`,
    grown one observation at a time): the tokens reached, what is known, the rest."""

    __slots__ = ("tokens", "known", "pending", "keyless")

    def __init__(self, seed: frozenset[str], keyless: bool):
        self.tokens: set[str] = set(seed)
        self.known: set[str] = set()
        self.pending: list[Observation] = []
        self.keyless = keyless

    def add(self, o: Observation) -> None:
        if not (self.keyless or o.tokens & self.tokens):
            self.pending.append(o)
            return
        self.known.update(o.carried)
        new: set[str] = set(o.tokens - self.tokens)
        while new:  # new tokens may link observations set aside so far
            self.tokens |= new
            new = set()
            rest: list[Observation] = []
            for q in self.pending:
                if q.tokens & self.tokens:
                    self.known.update(q.carried)
                    new |= q.tokens - self.tokens
                else:
                    rest.append(q)
            self.pending = rest


class History:
    """A growing history (sends, receptions, arrivals) with each role's knowledge kept
    up to date, per key context, incrementally: replay and simulation add one event at
    a time (same answers as `Rules.knows`, without recomputing the fixpoint)."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self.sent: set[int] = set()
        self.received: set[tuple[int, str]] = set()
        self.arrived: set[str] = set()
        self.bound: set[str] = set()
        self._obs: dict[str, list[Observation]] = {r: [] for r in rules.roles}
        self._ctx: dict[tuple[str, frozenset[str]], _Context] = {}

    def seen(self, role: str) -> frozenset[str]:
        """Everything `role` observed so far, in any key context."""
        return frozenset(p for o in self._obs[role] for p in o.carried)

    def context(self, m: Shape) -> set[str]:
        """What m's sender knows in m's key context now (a live set: it grows in place
        as the sender observes more)."""
        key = (m.sender, m.keys)
        c = self._ctx.get(key)
        if c is None:
            c = self._ctx[key] = _Context(m.keys, self.rules.keyless)
            for o in self._obs[m.sender]:
                c.add(o)
        return c.known

    def _observe(self, role: str, index: int) -> None:
        o = self.rules.observation(index)
        self._obs[role].append(o)
        for (r, _), c in self._ctx.items():
            if r == role:
                c.add(o)

    def send(self, m: Shape) -> None:
        self.sent.add(m.index)
        self.bound |= m.outs
        self._observe(m.sender, m.index)

    def receive(self, index: int, role: str) -> None:
        self.received.add((index, role))
        self._observe(role, index)

    def arrive(self, role: str) -> None:
        self.arrived.add(role)
        self._observe(role, INPUT)

    def enabled(self, m: Shape) -> bool:
        return is_enabled(m, self.context(m), sent=m.index in self.sent, keys_bound=self.bound)

    def disabled_reasons(self, m: Shape) -> list[str]:
        if self.enabled(m):
            return []
        return self.rules.disabled_reasons(m, self.sent, self.context(m), self.bound, self.seen(m.sender))


class ReplayError(ValueError):
    """A counterexample that is not a valid enactment."""


State = tuple[frozenset[int], frozenset[tuple[int, str]], frozenset[str]]  # sent, received, arrived


def replay(rules: Rules, events: Sequence[Mapping[str, Any]]) -> State:
    """Check `events` (send/receive/input dicts as produced by counterexamples) step by step.

    Returns the final (sent, received, arrived); raises ReplayError at the first invalid step.
    """
    h = History(rules)
    for n, e in enumerate(events):
        if e["kind"] == "input":
            r = e["role"]
            if r not in rules.input_roles or r in h.arrived:
                raise ReplayError(f"event {n}: no input arrives at {r} here")
            h.arrive(r)
            continue
        m = rules.by_name.get(e["message"])
        if m is None:
            raise ReplayError(f"event {n}: unknown message {e['message']!r}")
        if e["kind"] == "send":
            reasons = h.disabled_reasons(m)
            if reasons:
                raise ReplayError(f"event {n}: {m.name} not enabled: {'; '.join(reasons)}")
            h.send(m)
        elif e["kind"] == "receive":
            r = e["role"]
            if m.index not in h.sent:
                raise ReplayError(f"event {n}: {r} receives {m.name} before it is sent")
            if r not in m.recipients or (m.index, r) in h.received:
                raise ReplayError(f"event {n}: {r} may not receive {m.name} here")
            h.receive(m.index, r)
        else:
            raise ReplayError(f"event {n}: unknown kind {e['kind']!r}")
    return frozenset(h.sent), frozenset(h.received), frozenset(h.arrived)


def simulate(rules: Rules, seed: int, max_steps: int = 100_000) -> frozenset[int]:
    """One random maximal enactment (sends, receptions, arrivals in random order); its sent set.

    Used to settle enactability of most messages without the solver: whatever a run
    sends is enactable.
    """
    import random

    rng = random.Random(seed)
    h = History(rules)
    pending: list[tuple[int, str]] = [(INPUT, r) for r in rules.input_roles]
    # each unsent message with its sender's live context set (updated in place by h)
    unsent = [(m, h.context(m)) for m in rules.messages]
    for _ in range(max_steps):
        bound = h.bound
        sends = [m for m, known in unsent if is_enabled(m, known, sent=False, keys_bound=bound)]
        n = len(sends) + len(pending)
        if not n:
            break
        pick = rng.randrange(n)
        if pick < len(sends):
            m = sends[pick]
            h.send(m)
            unsent = [x for x in unsent if x[0] is not m]
            pending.extend((m.index, r) for r in m.recipients)
        else:
            i, r = pending.pop(pick - len(sends))
            if i == INPUT:
                h.arrive(r)
            else:
                h.receive(i, r)
    return frozenset(h.sent)
