"""Hypothesis strategies for random well-formed BSPL protocols, reusable by any test.

    from tests.strategies import bspl_protocols, flat_protocols

    @given(bspl_protocols())          # BSPL text of one protocol, named `Gen`
    @given(flat_protocols())          # the same, loaded and flattened (a FlatProtocol)

The generator draws 2-3 roles, a key `id` (bound `out` by a first message, sometimes by a
second starter of another role, or a public `in`), a few parameters p0..p3 (public
`out`, public `in`, or private), and up to `max_messages` messages whose every
parameter gets a random in/out/nil adornment. Every public `out` parameter gets at
least one binder, so the result passes `validate` without errors (warnings allowed).

With `multikey=True` (`bspl_protocols(multikey=True)`, `flat_protocols(multikey=True)`)
it draws 1-2 more key parameters k1, k2 besides id: public `out` or `in` keys, or
private keys marked `key` only where a message reads them (`in`), as in a relay chain
(one message binds q, the next is keyed by q and binds data, ...); every message then
carries a random subset of the keys (sub-enactments), at least one of them marked key.
Public `in` parameters, keyed and not, occur in both modes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

ROLES = ("A", "B", "C")


@st.composite
def bspl_protocols(draw, max_messages: int = 6, max_params: int = 4, name: str = "Gen",
                   multikey: bool = False) -> str:
    if multikey:
        return draw(_multikey_protocols(max_messages, max_params, name))
    n_roles = draw(st.integers(2, 3))
    roles = ROLES[:n_roles]
    n_params = draw(st.integers(1, max_params))
    params = [f"p{i}" for i in range(n_params)]
    kinds = {p: draw(st.sampled_from(["out", "out", "out", "private", "in"])) for p in params}
    key_in = draw(st.integers(0, 9)) == 0  # sometimes the key comes from outside

    role, recipients, adorn = _drawers(draw, roles, kinds)

    messages: list[tuple[str, list[str], list[str]]] = []  # sender, recipients, params
    n_messages = draw(st.integers(1, max_messages))
    starters = 1 if key_in else draw(st.sampled_from([1, 1, 1, 2]))
    for i in range(n_messages):
        s = role() if i else roles[0]
        if i < starters and not key_in:
            ps = ["out id key"]
        else:
            ps = ["in id key"]
        chosen = draw(st.lists(st.sampled_from(params), unique=True, max_size=3))
        ps += [f"{adorn(p)} {p}" for p in chosen]
        messages.append((s, recipients(s), ps))
    # every public out parameter needs a binder: add it to a random message, or demote it
    for p in params:
        if kinds[p] == "out" and not any(f"out {p}" in m[2] for m in messages):
            host = [m for m in messages if not any(x.endswith(f" {p}") for x in m[2])]
            if host and draw(st.booleans()):
                draw(st.sampled_from(host))[2].append(f"out {p}")
            else:
                kinds[p] = "private"
    used = {x.split()[1] for m in messages for x in m[2]}
    public = [("in id key" if key_in else "out id key")]
    public += [f"{kinds[p]} {p}" for p in params if kinds[p] in ("in", "out") and p in used]
    private = [p for p in params if kinds[p] == "private" and p in used]
    return protocol_text(name, roles, public, private, messages)


@st.composite
def _multikey_protocols(draw, max_messages: int, max_params: int, name: str) -> str:
    n_roles = draw(st.integers(2, 3))
    roles = ROLES[:n_roles]
    keys = ["id"] + [f"k{i}" for i in range(1, draw(st.integers(2, 3)))]
    # the kind of each key: id is out (sometimes in); the others out, in, or private chain keys
    kkind = {"id": "in" if draw(st.integers(0, 7)) == 0 else "out"}
    for k in keys[1:]:
        kkind[k] = draw(st.sampled_from(["out", "private", "private", "in"]))
    params = [f"p{i}" for i in range(draw(st.integers(1, max(1, max_params - 1))))]
    kinds = {p: draw(st.sampled_from(["out", "out", "private", "in"])) for p in params}

    role, recipients, adorn = _drawers(draw, roles, kinds)

    def key_item(k: str, adornment: str) -> str:
        marked = kkind[k] != "private" or adornment == "in"  # chain keys: key where read
        return f"{adornment} {k}" + (" key" if marked else "")

    messages: list[tuple[str, list[str], list[str]]] = []
    for i in range(draw(st.integers(1, max_messages))):
        s = role() if i else roles[0]
        if i == 0:
            carried = ["id"] + [k for k in keys[1:] if draw(st.booleans())]
        else:
            carried = draw(st.lists(st.sampled_from(keys), unique=True, min_size=1, max_size=len(keys)))
        ps = []
        for k in carried:
            a = "in" if kkind[k] == "in" else ("out" if i == 0 and k == "id" else
                                                draw(st.sampled_from(["in", "in", "out"])))
            ps.append(key_item(k, a))
        if not any(x.endswith(" key") for x in ps):  # every message carries a marked key
            ps.append(key_item(keys[0], "in"))
        chosen = draw(st.lists(st.sampled_from(params), unique=True, max_size=3))
        ps += [f"{adorn(p)} {p}" for p in chosen]
        messages.append((s, recipients(s), ps))
    # every public out parameter or key needs a binder: add it to a random message, or demote it
    for p in [*keys, *params]:
        kind = kkind.get(p, kinds.get(p))
        if kind == "out" and not any(x.split()[:2] == ["out", p] for m in messages for x in m[2]):
            host = [m for m in messages if not any(x.split()[1] == p for x in m[2])]
            if host and draw(st.booleans()):
                draw(st.sampled_from(host))[2].append(key_item(p, "out") if p in kkind else f"out {p}")
            elif p in kkind:
                kkind[p] = "private"
            else:
                kinds[p] = "private"
    used = {x.split()[1] for m in messages for x in m[2]}
    public = [f"{kkind[k]} {k} key" for k in keys if kkind[k] != "private" and k in used]
    public += [f"{kinds[p]} {p}" for p in params if kinds[p] in ("in", "out") and p in used]
    private = [k for k in keys if kkind[k] == "private" and k in used]
    private += [p for p in params if kinds[p] == "private" and p in used]
    return protocol_text(name, roles, public, private, messages)


@st.composite
def flat_protocols(draw, max_messages: int = 6, max_params: int = 4, multikey: bool = False):
    """A generated protocol, validated and flattened (skips, via assume, the rare ill-formed draw)."""
    from hypothesis import assume

    from protoverify.bspl import flatten, parse, validate

    text = draw(bspl_protocols(max_messages, max_params, multikey=multikey))
    spec = parse(text, "<generated>")
    errors = [d for d in validate(spec, text) if d.severity == "error"]
    assume(not errors)
    return flatten(spec, spec.protocols[0])


def protocol_text(name: str, roles: list[str], public: list[str], private: list[str],
                  messages: list[tuple[str, list[str], list[str]]]) -> str:
    """BSPL text of a generated protocol: messages `(sender, recipients, params)` named m0, m1, …"""
    lines = [f"{name} {{", f"  roles {', '.join(roles)}", f"  parameters {', '.join(public)}"]
    if private:
        lines.append(f"  private {', '.join(private)}")
    for i, (s, rs, ps) in enumerate(messages):
        lines.append(f"  {s} -> {', '.join(rs)}: m{i}[{', '.join(ps)}]")
    lines.append("}")
    return "\n".join(lines) + "\n"

def _drawers(draw: Any, roles: list[str], kinds: dict[str, str]) -> tuple[
        Callable[[], str], Callable[[str], list[str]], Callable[[str], str]]:
    """The generators' draws of a sender, its recipients, and a parameter's adornment."""
    def role() -> str:
        return str(draw(st.sampled_from(roles)))

    def recipients(sender: str) -> list[str]:
        others = [r for r in roles if r != sender]
        if len(others) > 1 and draw(st.booleans()) and draw(st.booleans()):
            return others
        return [draw(st.sampled_from(others))]

    def adorn(p: str) -> str:
        if kinds[p] == "in":
            return str(draw(st.sampled_from(["in", "in", "nil"])))
        return str(draw(st.sampled_from(["in", "out", "out", "nil"])))

    return role, recipients, adorn
