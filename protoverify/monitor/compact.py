"""The replay of a clean native log in compact form, with the Monitor as fallback.

A long conformant log is nearly all plain sends (`FastPath._send_plain`), and for a
protocol whose messages all carry the same keys, delivered at send time, what such
sends leave in an enactment's context is fixed by *which* messages were sent: who
knows what, which parameters are bound, whether the enactment is complete and
quiescent. `CompactSends` keeps, per enactment, only that set (a bit mask), the
bindings each message carried, and the lines themselves; one step per event is a
look-up in a table of moves `(mask, message) -> (next mask, value checks, closes)`.
The table is filled on demand by running the real Monitor on a synthetic enactment
that reaches the mask (so the rules live in one place), and the shape checks of a
send (message, roles, parameters) are made by the decoder (`send_decoder`).

Anything else (a line the decoder refuses, a move the table refuses, a value that
differs from the one bound, an agent in two roles, a key of a retired enactment)
stops the compact replay *before* it changes anything: `flush` then replays the
lines it kept through the Monitor, which thereby holds exactly the state it would
have had, and the caller goes on with the Monitor alone. So every finding is the
Monitor's own, worded as always.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import msgspec

from ..traces.event import Event
from ..traces.native_fast import SendShape, decode_event, send_decoder
from .monitor import Monitor

#: `agent_role` value of an agent seen in more than one role (its enactments are checked one by one)
_MULTI = "\0several roles"
#: `moves` value of a move the Monitor's plain path refuses
_REFUSED: tuple[int, tuple[tuple[int, Callable[[Any], Any]], ...], bool] = (-1, (), False)

Move = tuple[int, tuple[tuple[int, Callable[[Any], Any]], ...], bool]
#: an enactment's state is a list: [mask, lines kept, then the bindings each message carried]
_SLOT = 2


def _no_keys(b: Any) -> tuple[()]:
    return ()


class _Plan:
    """One message: its index (bit), sender, key getter and the moves found so far."""

    __slots__ = ("idx", "slot", "name", "sender", "key", "moves")

    def __init__(self, idx: int, name: str, sender: str, key: Callable[[Any], Any]) -> None:
        self.idx = idx
        self.slot = _SLOT + idx
        self.name = name
        self.sender = sender
        self.key = key
        self.moves: dict[int, Move] = {}


class CompactSends:
    """Plain sends of native lines, applied in compact form for one Monitor (see the
    module's docstring). `take` applies lines while it can; `flush` hands the state to
    the Monitor (after which this object is inactive for good); `flush(history=False)`
    does so at the end of the input, without the retired enactments."""

    def __init__(self, mon: Monitor) -> None:
        self.monitor = mon
        rules = mon.rules
        self.plans = [_Plan(i, r.name, r.sender, _no_keys) for i, r in enumerate(rules)]
        self._index = {r.name: i for i, r in enumerate(rules)}
        names: dict[int, list[str]] = {}
        for name, r in mon._by_name.items():
            names.setdefault(self._index[r.name], []).append(name)
        shapes: list[SendShape] = [(tuple(names[i]), r.sender, r.recipients, r.carried, self.plans[i])
                                   for i, r in enumerate(rules)]
        self.decode, self._attr = send_decoder(shapes)
        #: no parameter is named `kind`: a line it takes cannot look like a receipt
        self.receipt_free = "kind" not in self._attr
        keys = rules[0].keys
        self._keys = frozenset(keys)
        if keys:
            key = attrgetter(*(self._attr[k] for k in keys))
            for plan in self.plans:
                plan.key = key
        #: open enactments: (run, key values) -> [mask, lines kept, bindings of each message]
        self.open: dict[tuple[Any, Any], list[Any]] = {}
        #: retired ones, oldest first (as `Monitor.closed`): their lines kept
        self.closed: OrderedDict[tuple[Any, Any], list[Any]] = OrderedDict()
        self.agent_role: dict[str, str] = {}
        self._paths: dict[int, tuple[int, ...]] = {0: ()}
        self.completed = 0  # enactments retired here, not yet reported to the caller
        self._retired = 0  # all enactments retired here
        self.taken = 0  # lines applied here
        self.active = True

    @staticmethod
    def applies(mon: Monitor) -> bool:
        """Can `mon`'s sends be replayed in compact form? One key set, the plain fast path,
        delivery at send time, no polymorphic message, and nothing replayed yet."""
        return bool(mon._plain and mon.delivery == "send" and mon.rules and not mon.protocol.polymorphic
                    and not mon.open and not mon.closed and not mon.complete_count)

    # ------------------------------------------------------------------ moves
    def _move(self, plan: _Plan, mask: int) -> Move:
        """What `plan`'s message does to an enactment in state `mask`, as the Monitor's
        plain path judges it: replay a synthetic enactment that reaches `mask` (every
        parameter carries one value, so every `in` agrees), then the message."""
        mon = self.monitor
        scratch = Monitor(mon.protocol, delivery="send", keep_closed=1)
        rules = mon.rules
        ok = True
        for i in (*self._paths[mask], plan.idx):
            r = rules[i]
            ev = Event(kind="send", message=r.qname, sender=r.sender, recipients=r.recipients,
                       bindings={p: "=" + p for p in r.carried})
            ok = scratch._send_plain(ev, r)
            if not ok:
                break
        if not ok:
            move = _REFUSED
        else:
            ctx = next(iter(scratch.closed.values() if scratch.closed else scratch.open.values()))
            by: dict[int, list[str]] = {}
            for p in rules[plan.idx].ins:
                if p not in self._keys:  # a key's value is the enactment's: it agrees
                    by.setdefault(self._index[ctx.bound_by[p][0]], []).append(p)
            nxt = mask | 1 << plan.idx
            self._paths.setdefault(nxt, (*self._paths[mask], plan.idx))
            move = (nxt, tuple((_SLOT + j, attrgetter(*(self._attr[p] for p in ps))) for j, ps in by.items()),
                    bool(scratch.closed))
        plan.moves[mask] = move
        return move

    # ------------------------------------------------------------------ replay
    def take(self, lines: list[bytes], start: int, end: int, no: int, source: str) -> int:
        """Apply `lines[start:end]` (line numbers from `no + 1`, of `source`) while each is
        a plainly conformant send; return how many were applied. The line it stops at
        has changed nothing. Lines of MAX_LINE bytes or more must not be given."""
        decode = self.decode
        opn, closed = self.open, self.closed
        keep = self.monitor.keep_closed
        agent_role = self.agent_role
        blank: list[Any] = [0, None] + [None] * len(self.plans)
        first = no
        done_here = 0
        for line in lines[start:end] if start or end != len(lines) else lines:
            try:
                ev = decode(line)
            except (msgspec.DecodeError, RecursionError):
                break
            plan = ev.plan
            b = ev.bindings
            key = (ev.run, plan.key(b))
            st = opn.get(key)
            if st is None:
                if key in closed:
                    break
                mask = 0
            else:
                mask = st[0]
            try:
                nxt, checks, done = plan.moves[mask]
            except KeyError:
                nxt, checks, done = self._move(plan, mask)
            if nxt < 0:
                break
            if checks:  # every `in` value is the one its binder carried
                differs = False
                for slot, get in checks:
                    if get(st[slot]) != get(b):  # type: ignore[index]
                        differs = True
                        break
                if differs:
                    break
            agent = ev.agent
            if agent is not None:
                role = agent_role.get(agent)
                if role != plan.sender:
                    if role is None:
                        agent_role[agent] = plan.sender
                    else:
                        agent_role[agent] = _MULTI
                        if st is not None and any(r[2] == agent and r[4].sender != plan.sender for r in st[1]):
                            break
            no += 1
            rec = (line, no, agent, source, plan)
            if st is None:
                st = opn[key] = blank[:]
                st[1] = [rec]
            else:
                st[1].append(rec)
            st[0] = nxt
            st[plan.slot] = b
            if done:
                del opn[key]
                done_here += 1
                if keep > 0:
                    closed[key] = st[1]  # its lines (the rest served only the checks)
                    if len(closed) > keep:
                        closed.popitem(last=False)
        self.completed += done_here
        self._retired += done_here
        self.taken += no - first
        return no - first

    def _replay(self, kept: list[Any]) -> None:
        apply = self.monitor.apply
        for line, no, _, source, _ in kept:
            found = apply(decode_event(line, source, no))
            if found:
                raise AssertionError(f"{source}:{no}: the compact replay took a line the Monitor judges: "
                                     f"{[f.code for f in found]}")

    def flush(self, history: bool = True) -> None:
        """Give the Monitor the state of every enactment kept here (retired ones first,
        in the order they retired, then the open ones in the order they opened, as the
        Monitor itself would hold them) and turn this replay off. `history=False` at the
        end of the input: the retired enactments serve only later duplicates, and carry
        nothing `Monitor.finish` reports (no receipt is expected at send time)."""
        if not self.active:
            return
        self.active = False
        mon = self.monitor
        on_status, mon.on_status = mon.on_status, None
        try:
            if history:
                for kept in self.closed.values():
                    self._replay(kept)
            for st in self.open.values():
                self._replay(st[1])
        finally:
            mon.on_status = on_status
        mon.complete_count = self._retired
        self.open.clear()
        self.closed.clear()
