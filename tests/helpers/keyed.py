"""Hypothesis strategies for protocols of several key parameters.

    from tests.helpers.keyed import keyed_protocols, flat_keyed_protocols

Two or three keys k0..k2: k0 is bound `out` by the first message (sometimes a public
`in`: the inputs arrive with it); the others are public or private, bound `out` by
later messages. Each message carries a non-empty subset of the keys, so some carry
only some keys (sub-enactments) and some share none with the first (key chains,
linked only through a message that carries both). A key parameter is declared `key`
in some messages and carried plainly in others (Relay's `ask[out id key, out q]`).
Non-key parameters p0..p2 are public `out`, public `in` or private.
"""
from __future__ import annotations

from hypothesis import strategies as st

from tests.helpers.strategies import protocol_text

ROLES = ("A", "B", "C")


@st.composite
def keyed_protocols(draw, max_messages: int = 6, name: str = "Keyed") -> str:
    roles = ROLES[:draw(st.integers(2, 3))]
    keys = [f"k{i}" for i in range(draw(st.integers(2, 3)))]
    params = [f"p{i}" for i in range(draw(st.integers(0, 3)))]
    k0_in = draw(st.integers(0, 4)) == 0
    kind = {"k0": "in" if k0_in else "out"}
    for k in keys[1:]:
        kind[k] = draw(st.sampled_from(["out", "private", "private"]))
    for p in params:
        kind[p] = draw(st.sampled_from(["out", "out", "private", "in"]))

    def adorn(p: str, first: bool) -> str:
        if kind[p] == "in":
            return draw(st.sampled_from(["in", "in", "nil"]))
        return draw(st.sampled_from(["in", "out", "out", "nil"] if not first else ["out"]))

    def recipients(sender: str) -> list[str]:
        others = [r for r in roles if r != sender]
        if len(others) > 1 and draw(st.booleans()) and draw(st.booleans()):
            return others
        return [draw(st.sampled_from(others))]

    messages: list[tuple[str, list[str], list[str]]] = []
    for i in range(draw(st.integers(2, max_messages))):
        sender = roles[0] if i == 0 else draw(st.sampled_from(roles))
        if i == 0:
            ps = [f"{'in' if k0_in else 'out'} k0 key"]
            extra = draw(st.lists(st.sampled_from(keys[1:]), unique=True, max_size=1))
            ps += [f"out {k}" for k in extra]  # carried, not declared key here
        else:
            ks = draw(st.lists(st.sampled_from(keys), unique=True, min_size=1, max_size=len(keys)))
            ps = []
            for j, k in enumerate(ks):
                a = "in" if kind[k] == "in" else draw(st.sampled_from(["in", "in", "out"]))
                declared = j == 0 or draw(st.booleans())
                ps.append(f"{a} {k}{' key' if declared else ''}")
        chosen = draw(st.lists(st.sampled_from(params), unique=True, max_size=3)) if params else []
        ps += [f"{adorn(p, False)} {p}" for p in chosen]
        messages.append((sender, recipients(sender), ps))
    # every public out parameter needs a binder: add it to a message, or make it private
    for p in [*keys, *params]:
        if kind[p] == "out" and not any(x.startswith(f"out {p}") for m in messages for x in m[2]):
            host = [m for m in messages[1:] if not any(x.split()[1] == p for x in m[2])]
            if host and draw(st.booleans()):
                draw(st.sampled_from(host))[2].append(f"out {p}")
            else:
                kind[p] = "private"
    used = {x.split()[1] for m in messages for x in m[2]}
    public = [f"{kind[k]} {k} key" for k in keys if kind[k] in ("in", "out") and k in used]
    public += [f"{kind[p]} {p}" for p in params if kind[p] in ("in", "out") and p in used]
    private = [p for p in [*keys, *params] if kind[p] == "private" and p in used]
    return protocol_text(name, roles, public, private, messages)


@st.composite
def flat_keyed_protocols(draw, max_messages: int = 6):
    """A generated keyed protocol, validated and flattened (ill-formed draws are assumed away)."""
    from hypothesis import assume

    from protoverify.bspl import flatten, parse, validate

    text = draw(keyed_protocols(max_messages))
    spec = parse(text, "<generated>")
    assume(not [d for d in validate(spec, text) if d.severity == "error"])
    return flatten(spec, spec.protocols[0])
