"""Hypothesis strategies for random well-formed BSPL protocols, reusable by any test.

    from tests.strategies import bspl_protocols, flat_protocols

    @given(bspl_protocols())          # BSPL text of one protocol, named `Gen`
    @given(flat_protocols())          # the same, loaded and flattened (a FlatProtocol)

The generator draws 2-3 roles, a key `id` (bound `out` by a first message, sometimes by a
second starter of another role, or a public `in`), a few parameters p0..p3 (public
`out`, public `in`, or private), and up to `max_messages` messages whose every
parameter gets a random in/out/nil adornment. Every public `out` parameter gets at
least one binder, so the result passes `validate` without errors (warnings allowed).
"""
from __future__ import annotations

from hypothesis import strategies as st

ROLES = ("A", "B", "C")


@st.composite
def bspl_protocols(draw, max_messages: int = 6, max_params: int = 4, name: str = "Gen") -> str:
    n_roles = draw(st.integers(2, 3))
    roles = ROLES[:n_roles]
    n_params = draw(st.integers(1, max_params))
    params = [f"p{i}" for i in range(n_params)]
    kinds = {p: draw(st.sampled_from(["out", "out", "out", "private", "in"])) for p in params}
    key_in = draw(st.integers(0, 9)) == 0  # sometimes the key comes from outside

    def role() -> str:
        return draw(st.sampled_from(roles))

    def recipients(sender: str) -> list[str]:
        others = [r for r in roles if r != sender]
        if len(others) > 1 and draw(st.booleans()) and draw(st.booleans()):
            return others
        return [draw(st.sampled_from(others))]

    def adorn(p: str) -> str:
        if kinds[p] == "in":
            return draw(st.sampled_from(["in", "in", "nil"]))
        return draw(st.sampled_from(["in", "out", "out", "nil"]))

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
    lines = [f"{name} {{", f"  roles {', '.join(roles)}", f"  parameters {', '.join(public)}"]
    if private:
        lines.append(f"  private {', '.join(private)}")
    for i, (s, rs, ps) in enumerate(messages):
        lines.append(f"  {s} -> {', '.join(rs)}: m{i}[{', '.join(ps)}]")
    lines.append("}")
    return "\n".join(lines) + "\n"


@st.composite
def flat_protocols(draw, max_messages: int = 6, max_params: int = 4):
    """A generated protocol, validated and flattened (skips, via assume, the rare ill-formed draw)."""
    from hypothesis import assume

    from protoverify.bspl import flatten, parse, validate

    text = draw(bspl_protocols(max_messages, max_params))
    spec = parse(text, "<generated>")
    errors = [d for d in validate(spec, text) if d.severity == "error"]
    assume(not errors)
    return flatten(spec, spec.protocols[0])
