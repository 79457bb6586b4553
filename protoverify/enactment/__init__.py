"""The enactment rule, stated once: what a role may use, and when it may send.

Both judges read this module: the verifier and explorer on parameter *names*
(one symbolic enactment, where a name has one value), the Monitor on
concrete *bindings* (name, value) across the many enactments of a log. See
docs/semantics.md, "Key contexts".

**Key context.** A role may use, for message m, the information of exactly
those of its observations (messages it sent or received, and the arrival of
the public inputs) that are *linked* to m: an observation is linked when it
carries a key parameter binding of m, or a key parameter binding of another
linked observation (transitively, among what the role has observed so far).
A *key parameter* is one declared `key` in the protocol or in any of its
messages. Only key bindings link: a non-key value (a price, an item name)
identifies nothing, and linking through it would merge enactments that
merely share a value.

**Enabling.** Role r may send m when r is m's sender, m was not sent in its
enactment, r knows (in m's key context) every `in` parameter of m and none
of its `out` and `nil` parameters, and not every key m binds as `out` is
already bound (a message that binds a key starts a new enactment).

This module imports nothing of the solver, the Monitor or the readers.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ..bspl.compose import FlatMessage, FlatProtocol

__all__ = ["Shape", "disabled_reasons", "input_roles", "is_enabled", "key_parameters", "linked", "linked_bindings",
           "shapes"]

T = TypeVar("T", bound=Hashable)
Obs = TypeVar("Obs")


def key_parameters(protocol: FlatProtocol) -> frozenset[str]:
    """Every parameter that is a key of the protocol or of one of its messages."""
    return frozenset(protocol.keys) | frozenset(p.name for m in protocol.messages for p in m.params if p.key)


@dataclass(frozen=True, slots=True)
class Shape:
    """What the rule needs of one message schema (names only)."""

    index: int
    name: str
    sender: str
    recipients: tuple[str, ...]  # without the sender, in order, each once
    ins: frozenset[str]
    outs: frozenset[str]
    nils: frozenset[str]
    carried: tuple[str, ...]  # in and out, in declaration order
    keys: frozenset[str]  # m's key parameters: the seed of its key context
    out_keys: frozenset[str]  # keys bound as out: sending starts a new enactment
    links: frozenset[str]  # carried key parameters: what an observation of m links by

    @classmethod
    def of(cls, index: int, m: FlatMessage, keyparams: frozenset[str]) -> Shape:
        keys = frozenset(p.name for p in m.params if p.key)
        recips = tuple(dict.fromkeys(r for r in m.recipients if r != m.sender))
        return cls(index, m.name, m.sender, recips, m.ins, m.outs, m.nils, m.carried,
                   keys, frozenset(m.outs & keys), frozenset(m.carried) & keyparams)


def shapes(protocol: FlatProtocol) -> tuple[Shape, ...]:
    """The shapes of a flat protocol's messages, indexed in declaration order."""
    kp = key_parameters(protocol)
    return tuple(Shape.of(i, m, kp) for i, m in enumerate(protocol.messages))


def linked(seed: Iterable[T], observations: Sequence[Obs], tokens: Callable[[Obs], Iterable[T]]) -> list[Obs]:
    """The observations linked to `seed`: the least set closed under "carries a token
    of the seed or of a linked observation". Order-independent (a fixpoint).

    Tokens are parameter names for the verifier, (name, value) pairs for the Monitor;
    `tokens(o)` yields o's key-parameter tokens. Returns them in their given order.
    """
    by_token: dict[T, list[int]] = {}
    toks = [tuple(tokens(o)) for o in observations]
    for i, ts in enumerate(toks):
        for t in ts:
            by_token.setdefault(t, []).append(i)
    frontier = list(dict.fromkeys(seed))
    seen_tokens = set(frontier)
    hit: set[int] = set()
    while frontier:
        t = frontier.pop()
        for i in by_token.get(t, ()):
            if i in hit:
                continue
            hit.add(i)
            for u in toks[i]:
                if u not in seen_tokens:
                    seen_tokens.add(u)
                    frontier.append(u)
    return [o for i, o in enumerate(observations) if i in hit]


def disabled_reasons(m: Shape, knows: Iterable[str] | frozenset[str] | set[str], *, sent: bool,
                     keys_bound: Iterable[str] = ()) -> list[str]:
    """Why `m.sender` may not send `m` now (an empty list: it may).

    `knows`: the parameters the sender knows in m's key context; `sent`: m was
    already sent in this enactment; `keys_bound`: the keys already bound as out
    in this enactment (by anyone).
    """
    if sent:
        return ["already sent (one instance per enactment)"]
    k = knows if isinstance(knows, (set, frozenset)) else set(knows)
    reasons = [f"{m.sender} does not know in {p}" for p in sorted(m.ins - k)]
    reasons += [f"{m.sender} already knows out {p}" for p in sorted(m.outs & k)]
    reasons += [f"{m.sender} knows nil {p}" for p in sorted(m.nils & k)]
    if m.out_keys and m.out_keys <= set(keys_bound):
        reasons.append(f"key {', '.join(sorted(m.out_keys))} already bound (a new enactment)")
    return reasons


def is_enabled(m: Shape, knows: frozenset[str] | set[str], *, sent: bool,
               keys_bound: frozenset[str] | set[str]) -> bool:
    """`not disabled_reasons(...)`, without building the reasons (the hot path)."""
    return (not sent and m.ins <= knows and not (m.outs & knows) and not (m.nils & knows)
            and not (m.out_keys and m.out_keys <= keys_bound))


def input_roles(protocol: FlatProtocol) -> frozenset[str]:
    """The roles the External inputs (every public `in`) arrive at: those that send or
    receive a message mentioning a public `in` parameter (the others never use them)."""
    ins = frozenset(protocol.ins)
    if not ins:
        return frozenset()
    return frozenset(r for m in protocol.messages if ins & {p.name for p in m.params}
                     for r in (m.sender, *m.recipients))


def linked_bindings(seed: Mapping[str, Hashable], lookup: Callable[[tuple[str, Hashable]], Iterable[Obs]],
                    tokens: Callable[[Obs], Iterable[tuple[str, Hashable]]]) -> list[Obs]:
    """`linked` on bindings (the Monitor's reading), over an index instead of a list.

    `seed` maps m's key parameters to their values; `lookup(t)` yields the observations
    carrying the binding t = (name, value); `tokens(o)` the key bindings o carries.
    One refinement that names cannot see: an observation carrying one of m's key
    parameters with *another* value belongs to another enactment of that key (the
    item i1 of an order is not the item i2 of the same order) and is not linked. On
    names (one value per name) this never excludes anything, so it is `linked`.
    Observations must be hashable (identity will do); returned in discovery order.
    """
    frontier: list[tuple[str, Hashable]] = list(seed.items())
    seen_tokens = set(frontier)
    hit: dict[Obs, None] = {}
    rejected: set[Obs] = set()
    while frontier:
        t = frontier.pop()
        for o in lookup(t):
            if o in hit or o in rejected:
                continue
            toks = tuple(tokens(o))
            if any(k in seed and seed[k] != v for k, v in toks):
                rejected.add(o)
                continue
            hit[o] = None
            for u in toks:
                if u not in seen_tokens:
                    seen_tokens.add(u)
                    frontier.append(u)
    return list(hit)
