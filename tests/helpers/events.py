"""Event-level damage to simulated logs, shared by the fast-path and compact-replay tests."""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from protoverify.traces.event import Event

#: One damage step: (operation 0-6, position, other position); see `damage`.
event_ops = st.tuples(st.integers(0, 6), st.integers(0, 500), st.integers(0, 500))

_FIELDS = ("kind", "message", "sender", "recipients", "bindings", "source", "line", "seq", "run", "agent",
           "protocol")


def with_fields(e: Event, **kw: Any) -> Event:
    """A copy of `e` with some fields replaced."""
    d = {f: getattr(e, f) for f in _FIELDS}
    d.update(kw)
    return Event(**d)


def damage(events: list[Event], ops: list[tuple[int, int, int]]) -> list[Event]:
    """Apply ops: 0 drop, 1 duplicate, 2 swap, 3 copy one value from another event, 4 take
    another event's sender, 5 take another event's agent (perhaps of another role), 6 turn a
    send into a receive (and back). Lines are renumbered."""
    evs = list(events)
    for op, i, j in ops:
        if not evs:
            break
        i %= len(evs)
        j %= len(evs)
        e = evs[i]
        if op == 0:
            del evs[i]
        elif op == 1:
            evs.insert(j, e)
        elif op == 2:
            evs[i], evs[j] = evs[j], evs[i]
        elif op == 3:
            other = evs[j].bindings
            b = dict(e.bindings)
            for p in b:
                if p in other:
                    b[p] = other[p]
                    break
            evs[i] = with_fields(e, bindings=b)
        elif op == 4:
            evs[i] = with_fields(e, sender=evs[j].sender)
        elif op == 5:
            evs[i] = with_fields(e, agent=evs[j].agent)
        else:
            evs[i] = with_fields(e, kind="receive" if e.kind == "send" else "send")
    return [with_fields(e, line=n) for n, e in enumerate(evs, 1)]
