"""Generate conformant enactments of a protocol by random scheduling.

The scheduler asks the Monitor what each role may send (`Monitor.enabled`), picks
one enabled message (or, with receipts, one in-flight delivery) at random, fills
its `out` parameters with fresh values and applies it. Public `in` parameters that
arrive with an enactment (`Enabled.inputs`) get a fresh value for a key, and one
fixed value per parameter otherwise (the enclosing enactment's). Whatever it produces is
conformant by construction, so an audit of it must be clean; tests mutate one
event to check the auditor, and the exchange reuses the scheduler to drive
scripted agents.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from ..bspl.compose import FlatProtocol
from ..traces.event import Event, EventKind
from .monitor import Context, Enabled, Monitor

ValueMaker = Callable[[str, int, random.Random], Any]


def default_value(param: str, serial: int, rng: random.Random) -> Any:
    """A fresh value for `param`: ints for prices, strings otherwise."""
    if param.lower() in ("price", "amount", "qty", "quantity", "cost"):
        return rng.randint(1, 100)
    return f"{param}-{serial}-{rng.randrange(1 << 30):x}"


class Simulator:
    """Random conformant scheduler over one Monitor (which it owns and updates)."""

    def __init__(self, protocol: FlatProtocol, rng: random.Random | None = None,
                 delivery: str = "send", run: str = "sim", source: str = "<sim>",
                 values: ValueMaker = default_value, max_instances: int = 2) -> None:
        self.protocol = protocol
        #: how often one message may be sent in one enactment (in its sub-enactments: a
        #: message binding a key afresh, like an item of an order, could repeat forever)
        self.max_instances = max_instances
        self.rng = rng or random.Random(0)
        self.delivery = delivery
        self.run = run
        self.source = source
        self.values = values
        self.monitor = Monitor(protocol, delivery="receive" if delivery == "receive" else "send",
                               keep_closed=0)
        self.line = 0
        self.serial = 0
        self.inflight: list[Event] = []  # receive events still to happen (receive mode)

    def _event(self, kind: EventKind, e: Enabled, bindings: dict[str, Any], recipients: tuple[str, ...],
               agent: str) -> Event:
        self.line += 1
        return Event(kind=kind, message=e.message, sender=e.role, recipients=recipients,
                     bindings=bindings, source=self.source, line=self.line, seq=self.line,
                     run=self.run, agent=agent, protocol=self.protocol.name)

    def _send(self, e: Enabled) -> list[Event]:
        b = dict(e.bound)
        for p in e.inputs:
            if p in self.monitor.keyparams:
                self.serial += 1
                b[p] = self.values(p, self.serial, self.rng)
            else:
                b[p] = f"{p}-input"
        for p in e.fill:
            self.serial += 1
            b[p] = self.values(p, self.serial, self.rng)
        rule = self.monitor.rule(e.message)
        assert rule is not None
        ordered = {p: b[p] for p in rule.carried}
        ev = self._event("send", e, ordered, e.recipients, e.role.lower())
        findings = self.monitor.apply(ev)
        assert not findings, findings  # the scheduler only picks enabled messages
        out = [ev]
        if self.delivery == "receive":
            for r in e.recipients:
                self.inflight.append(Event(kind="receive", message=e.message, sender=e.role,
                                           recipients=(r,), bindings=ordered, source=self.source,
                                           run=self.run, agent=r.lower(), protocol=self.protocol.name))
        return out

    def _deliver(self, i: int) -> Event:
        ev = self.inflight.pop(i)
        self.line += 1
        ev = Event(kind=ev.kind, message=ev.message, sender=ev.sender, recipients=ev.recipients,
                   bindings=ev.bindings, source=ev.source, line=self.line, seq=self.line, run=ev.run,
                   agent=ev.agent, protocol=ev.protocol)
        findings = self.monitor.apply(ev)
        assert not findings, findings
        return ev

    def _choices(self, ctxs: list[Context]) -> list[Enabled]:
        out: list[Enabled] = []
        for ctx in ctxs:
            for r in self.protocol.roles:
                for e in self.monitor.enabled(self.run, ctx, r):
                    if e not in out:
                        out.append(e)
        return out

    def enactments(self, n: int, concurrency: int = 4, max_steps: int = 1000) -> Iterator[Event]:
        """Yield the events of `n` enactments, up to `concurrency` interleaved at a time."""
        active: list[tuple[list[Context], dict[str, int]]] = []
        started = 0
        steps = 0
        while started < n or active or self.inflight:
            if started < n and len(active) < concurrency and (not active or self.rng.random() < 0.5):
                starters = [e for r in self.protocol.roles for e in self.monitor.enabled(self.run, None, r)]
                if not starters:
                    raise ValueError(f"{self.protocol.name}: no message can start an enactment")
                e = self.rng.choice(starters)
                evs = self._send(e)
                yield from evs
                rule = self.monitor.rule(e.message)
                if rule is None:  # enabled() offered a message the monitor has no rule for
                    raise ValueError(f"{self.protocol.name}: no rule for message {e.message}")
                ctx = self.monitor.context(self.run, {k: evs[0].bindings[k] for k in rule.keys})
                active.append(([ctx] if ctx is not None else [], {e.message: 1}))
                started += 1
                continue
            steps += 1
            if self.inflight and (not active or self.rng.random() < 0.4):
                yield self._deliver(self.rng.randrange(len(self.inflight)))
                continue
            if not active:
                continue
            i = self.rng.randrange(len(active))
            group, sent = active[i]
            # contexts opened since in the same enactment (linked by key bindings)
            seen = {id(c) for c in group}
            for c in list(group):
                for ch in self.monitor.enactment_of(c):
                    if id(ch) not in seen:
                        group.append(ch)
                        seen.add(id(ch))
            choices = [e for e in self._choices(group) if sent.get(e.message, 0) < self.max_instances]
            if not choices:
                if not self.inflight:
                    active.pop(i)
                elif all(ev.bindings is None for ev in self.inflight):  # pragma: no cover
                    active.pop(i)
                else:
                    # waiting for deliveries of this enactment, if any are in flight
                    keys = {(ctx.keys, ctx.kv) for ctx in group}
                    mine = [j for j, ev in enumerate(self.inflight)
                            if any(tuple(ev.bindings.get(k) for k in ks) == kv for ks, kv in keys)]
                    if mine:
                        yield self._deliver(self.rng.choice(mine))
                    else:
                        active.pop(i)
                continue
            e = self.rng.choice(choices)
            sent[e.message] = sent.get(e.message, 0) + 1
            yield from self._send(e)
            if steps > max_steps * max(n, 1):
                raise RuntimeError("simulation did not terminate")


def simulate(protocol: FlatProtocol, n: int = 1, seed: int = 0, delivery: str = "send",
             concurrency: int = 4, run: str = "sim", source: str = "<sim>") -> list[Event]:
    """The events of `n` random conformant enactments (a convenience over Simulator)."""
    sim = Simulator(protocol, random.Random(seed), delivery=delivery, run=run, source=source)
    return list(sim.enactments(n, concurrency))


def to_native(ev: Event) -> dict[str, Any]:
    """The native JSONL object of an Event (docs/formats.md §1)."""
    d: dict[str, Any] = {"kind": ev.kind, "message": ev.message, "sender": ev.sender,
                         "recipients": list(ev.recipients), "bindings": ev.bindings}
    for k in ("seq", "ts", "run", "agent", "id", "reason", "decision"):
        v = getattr(ev, k)
        if v is not None:
            d[k] = v
    return d
