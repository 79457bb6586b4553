"""bspl 1.1.0's knowledge rule, replayed on our explorer, to explain disagreements.

protoverify departs from bspl's `known()` (verification/paths.py) in two ways
(docs/semantics.md, "Key contexts"): (a) only key parameters link observations (bspl
links through any parameter a message mentions, and grows the context with every
parameter it carries), (b) the context is a fixpoint (bspl scans the role's path once,
in order). This module explores one enactment path by path (a role's observations keep
their order) with either rule switched, everything else as in protoverify.prover. A
disagreement with bspl on a generated protocol is *explained* by the departures when
exploring with bspl's rule gives bspl's verdict while exploring with ours gives ours.
"""
from __future__ import annotations

from dataclasses import dataclass

from protoverify.prover.rules import INPUT, Rules

MODES = ("ours", "a", "b", "bspl")  # (a) switched, (b) switched, both


@dataclass
class Verdicts:
    safe: bool
    live: bool
    truncated: bool
    safe_by_key_tuple: bool = True  # bspl's safety check: conflicts only within one key tuple


def _context(rules: Rules, seq: tuple[int, ...], keys: frozenset[str], mode: str) -> frozenset[str]:
    """What a role that observed `seq` (message indices, INPUT) knows for a message keyed `keys`."""
    if rules.keyless:
        return frozenset(p for i in seq for p in _carried(rules, i))
    any_param = mode in ("a", "bspl")
    one_pass = mode in ("b", "bspl")

    def links(i: int) -> frozenset[str]:
        if i == INPUT:
            return frozenset(rules.inputs) if any_param else rules.input_tokens
        m = rules.messages[i]
        return frozenset(m.carried) | m.nils if any_param else m.links

    ctx, known, hit = set(keys), set(), set()
    while True:
        grew = False
        for n, i in enumerate(seq):
            if n in hit or not (links(i) & ctx):
                continue
            hit.add(n)
            grew = True
            known |= set(_carried(rules, i))
            ctx |= set(_carried(rules, i)) if any_param else links(i)
        if one_pass or not grew:
            return frozenset(known)


def _carried(rules: Rules, i: int) -> tuple[str, ...]:
    return rules.inputs if i == INPUT else rules.messages[i].carried


def explore(rules: Rules, mode: str, max_states: int = 300_000) -> Verdicts:
    """Every reachable (sent, received, arrived, each role's observation sequence). With
    a fixpoint rule (modes "ours", "a") order does not matter: sequences are kept sorted,
    so the states are as few as the set-based explorer's."""
    ordered = mode in ("b", "bspl")

    def put(seq: tuple[int, ...], i: int) -> tuple[int, ...]:
        return seq + (i,) if ordered else tuple(sorted(seq + (i,)))

    roles = rules.roles
    ridx = {r: n for n, r in enumerate(roles)}
    start = (frozenset(), frozenset(), frozenset(), tuple(() for _ in roles))
    seen = {start}
    stack = [start]
    safe, live, by_tuple = True, True, True
    contested = rules.contested()
    while stack:
        sent, received, arrived, seqs = stack.pop()
        bound = rules.bound(sent)
        for p in contested:
            if len({m.sender for m in rules.binders[p] if m.index in sent}) > 1:
                safe = False
                groups: dict[frozenset[str], set[str]] = {}
                for m in rules.binders[p]:
                    if m.index in sent:
                        groups.setdefault(m.keys, set()).add(m.sender)
                by_tuple = by_tuple and all(len(g) < 2 for g in groups.values())
        succ = []
        for m in rules.messages:
            ctx = _context(rules, seqs[ridx[m.sender]], m.keys, mode)
            if rules.enabled(m, sent, ctx, bound):
                s = list(seqs)
                s[ridx[m.sender]] = put(s[ridx[m.sender]], m.index)
                succ.append((sent | {m.index}, received, arrived, tuple(s)))
        for i in sent:
            for r in rules.messages[i].recipients:
                if (i, r) not in received:
                    s = list(seqs)
                    s[ridx[r]] = put(s[ridx[r]], i)
                    succ.append((sent, received | {(i, r)}, arrived, tuple(s)))
        for r in rules.input_roles:
            if r not in arrived:
                s = list(seqs)
                s[ridx[r]] = put(s[ridx[r]], INPUT)
                succ.append((sent, received, arrived | {r}, tuple(s)))
        if not succ and any(p not in bound for p in rules.public_outs):
            live = False
        for st in succ:
            if st not in seen:
                if len(seen) >= max_states:
                    return Verdicts(safe, live, True, by_tuple)
                seen.add(st)
                stack.append(st)
    return Verdicts(safe, live, False, by_tuple)


def explained(text: str, row: dict) -> str | None:
    """Which departure explains a disagreement row ("nonkey-link", "link-fixpoint", or
    both joined by "+"), "multikey-safety" (bspl 1.1.0's safety check compares binders
    only within one key tuple: tests/fixtures/bspl_quirks/multikey-safety.bspl), or None
    when none of these, run on our explorer, gives bspl's verdicts (or ours not ours)."""
    from protoverify.bspl import flatten, parse

    spec = parse(text, "<generated>")
    rules = Rules(flatten(spec, spec.protocols[0]))

    def words(v: Verdicts) -> dict[str, str]:
        return {"safety": "safe" if v.safe else "unsafe", "liveness": "live" if v.live else "nonlive"}

    runs: dict[str, Verdicts] = {"ours": explore(rules, "ours")}
    if runs["ours"].truncated or any(words(runs["ours"])[p] != row["ours"][p] for p in row["differs"]):
        return None

    def gives_bspl(mode: str) -> bool:
        if mode not in runs:
            runs[mode] = explore(rules, mode)
        v = runs[mode]
        return not v.truncated and all(words(v)[p] == row["bspl"][p] for p in row["differs"])

    if gives_bspl("a"):
        return "nonkey-link"
    if gives_bspl("b"):
        return "link-fixpoint"
    if gives_bspl("bspl"):
        return "nonkey-link+link-fixpoint"
    if (row["differs"] == ["safety"] and row["ours"]["safety"] == "unsafe"
            and row["bspl"]["safety"] == "safe" and runs["ours"].safe_by_key_tuple):
        return "multikey-safety"
    return None
