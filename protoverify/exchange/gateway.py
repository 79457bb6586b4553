"""Gateways and their federation.

Every agent attaches to one gateway. A gateway authenticates the connection,
applies its policy, logs the envelope and hands it to the bus; an envelope for
an agent on another gateway crosses the federation link (`link.<gateway>`) and
is delivered by the addressee's gateway (`inbox.<gateway>.<agent>`). Faults hit
envelopes between the gateways. Each envelope ends in exactly one `deliver`,
`drop` or `reject` line.
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..bspl.compose import FlatProtocol
from .bus import InProcTransport, Transport, safe, topic_of
from .clock import Scheduler
from .envelope import Envelope, EnvelopeError
from .faults import Faults, Injection
from .log import LogWriter
from .policy import Limits, Policy


@dataclass
class Hops:
    """Simulated transit times in seconds (per hop, and extra for the federation link)."""

    hop: tuple[float, float] = (0.002, 0.010)
    link: tuple[float, float] = (0.010, 0.030)


class Gateway:
    """One gateway: its agents, its policy, its subjects on the transport."""

    def __init__(self, name: str, fed: Federation, policy: Policy) -> None:
        self.name = name
        self.fed = fed
        self.policy = policy
        self.agents: set[str] = set()
        self.token = safe(name)
        self.receipt_subject = f"receipt.{self.token}"
        fed.transport.subscribe(f"link.{self.token}", self._from_link)
        fed.transport.subscribe(f"receipt.{self.token}", self._receipt)
        fed.transport.subscribe("bcast.capability", self._capability, via=self.token)
        self.receipts = 0

    def attach(self, agent: str) -> None:
        self.agents.add(agent)
        subject = f"inbox.{self.token}.{safe(agent)}"
        self.fed.inbox[agent] = subject
        self.fed.transport.subscribe(subject, self.fed._to_agent)

    def submit(self, env: Envelope | Mapping[str, Any], conn_agent: str) -> tuple[str, str | None]:
        """An envelope from `conn_agent`: ('accept', None) or ('reject', rule)."""
        fed = self.fed
        now = fed.sched.now()
        fed.messages += 1
        fed.entered += 1
        if not isinstance(env, Envelope):
            try:
                env = Envelope.from_wire(env)
            except EnvelopeError as e:
                line = fed.log.reject_raw(env, now, fed.run_id, self.name, self.policy.level, e.rule, str(e))
                fed.rejected_by[e.rule] += 1
                fed.last_line = line
                return "reject", e.rule
        env.ts = now
        env.run = fed.run_id
        env.gateway = self.name
        policy = self.policy
        plan = policy.plan(env.protocol, env.message)
        if plan is not None and plan.key1 is not None:  # one key: the topic in one step
            env.topic = f"{plan.topic_head}{env.payload.get(plan.key1)}"
        else:
            flat = fed.protocols.get(env.protocol)
            m = flat.message(env.message) if flat is not None else None
            env.topic = topic_of(env.protocol, m.keys, env.payload) if m is not None else env.protocol
        verdict = policy.check(env, conn_agent, now, plan) if plan is not None else policy.admit(env, conn_agent, now)
        if verdict is not None:
            rule, why = verdict
            fed.last_line = fed.log.reject(env, policy.level, rule, why)
            fed.rejected_by[rule] += 1
            policy.rejected[rule] += 1
            if fed.on_reject is not None:
                fed.on_reject(env, rule, conn_agent)
            return "reject", rule
        fed.last_line = fed.log.envelope(env, policy.level)
        fed.accept_ts[env.id] = now
        if fed.on_accept is not None:
            fed.on_accept(env)
        fed.route(env, self)
        return "accept", None

    # ---- the receiving side
    def _from_link(self, subject: str, msg: tuple[Envelope, str | None]) -> None:
        self.fed.crossings += 1
        self.fed.messages += 1
        self.policy.crossed(msg[0])
        self.fed.transport.publish(self.fed.inbox[msg[0].to[0][0]], msg)

    def _capability(self, subject: str, msg: tuple[str, frozenset[str]]) -> None:
        self.policy.advertise(*msg)

    def _receipt(self, subject: str, msg: tuple[Envelope, str, str]) -> None:
        """A receipt for an envelope one of our agents sent: its delivery happened."""
        self.receipts += 1
        env, agent, role = msg
        if self.fed.home.get(agent) is not self:
            self.policy.acknowledged(env, agent, role)


class Federation:
    """The gateways of a run, the bus between them, the log, and the faults."""

    def __init__(self, protocols: Mapping[str, FlatProtocol], level: str, sched: Scheduler, log: LogWriter,
                 faults: Faults, rng: random.Random, run_id: str, ngateways: int = 1,
                 limits: Limits | None = None, transport: Transport | None = None,
                 hops: Hops | None = None) -> None:
        self.protocols = dict(protocols)
        self.level = level
        self.sched = sched
        self.log = log
        self.faults = faults
        self.rng = rng
        self.run_id = run_id
        self.transport: Transport = transport or InProcTransport()
        self.drain: Callable[[], Any] | None = getattr(self.transport, "drain", None)
        sched.after_each = self.drain  # an asynchronous transport delivers between events
        self.hops = hops or Hops()
        self.gateways = [Gateway(f"gw{i + 1}", self, Policy(level, protocols, limits))
                         for i in range(max(1, ngateways))]
        self.home: dict[str, Gateway] = {}
        self.inbox: dict[str, str] = {}  # agent -> its inbox subject
        self.crashed: dict[str, float] = {}
        self.on_deliver: Callable[[Envelope, str, str], None] | None = None
        self.on_reject: Callable[[Envelope, str, str], None] | None = None
        self.on_accept: Callable[[Envelope], None] | None = None
        self.on_drop: Callable[[Envelope], None] | None = None
        self.messages = 0  # transport messages: entries, link crossings, deliveries, receipts
        self.entered = 0
        self.crossings = 0
        self.delivered = 0
        self.dropped = 0
        self.receipts = 0
        self.rejected_by: Counter[str] = Counter()
        self.dropped_by: Counter[str] = Counter()
        self.accept_ts: dict[str, float] = {}
        self.latencies: list[float] = []
        self.last_line = 0
        self.serial = 0
        self.pending: dict[str, Envelope] = {}  # id -> envelope in transit
        self.lost: set[str] = set()  # ids of dropped envelopes (drops are rare)
        #: a pipelining transport's `post`: each first hop goes out when routed, ahead of its arrival
        self.post: Callable[[str, Any, str | None], None] | None = None
        bind = getattr(self.transport, "bind", None)
        if bind is not None:
            bind(self)

    def attach(self, agent: str, index: int) -> Gateway:
        gw = self.gateways[index % len(self.gateways)]
        gw.attach(agent)
        self.home[agent] = gw
        return gw

    def submit(self, env: Envelope | Mapping[str, Any], conn_agent: str) -> tuple[str, str | None]:
        return self.home[conn_agent].submit(env, conn_agent)

    def advertise(self, agent: str, capabilities: frozenset[str]) -> None:
        """Broadcast an agent's capabilities to every gateway (the control plane)."""
        self.messages += self.transport.publish("bcast.capability", (agent, frozenset(capabilities)),
                                                via=self.home[agent].token)
        if self.drain is not None:
            self.drain()

    def new_id(self) -> str:
        self.serial += 1
        return f"e{self.serial}"

    # ---- transit
    def route(self, env: Envelope, origin: Gateway) -> None:
        """Schedule delivery of an accepted envelope, after the hop time and any fault."""
        target = self.home.get(env.to[0][0])
        rng = self.rng
        lo, hi = self.hops.hop
        dt = lo + (hi - lo) * rng.random()  # rng.uniform(lo, hi), without the call
        if target is not None and target is not origin:
            lo, hi = self.hops.link
            dt += lo + (hi - lo) * rng.random()
        fault = self.faults.on_envelope() if self.faults.active else None
        self.pending[env.id] = env
        if fault == "drop" or target is None:
            self.sched.after(dt, self._drop, env, origin, "drop" if target is not None else "no-such-agent")
            if fault == "drop":
                self.faults.injected.append(Injection("drop", env.id, env.sender[0], self.sched.now()))
            return
        if fault is not None:
            if fault == "delay":
                dt += self.faults.delay()
            elif fault == "reorder":
                dt += self.rng.uniform(1.0, 10.0)  # held back: later envelopes overtake it
            elif fault == "duplicate":
                self.sched.after(dt + self.faults.cfg.duplicate_after_s, self._duplicate, env)
            if fault in ("delay", "reorder"):
                self.faults.injected.append(Injection(fault, env.id, env.sender[0], self.sched.now()))
        if self.post is not None:  # a transport that sends ahead (NATS): on its way now
            self.post(*self._hop(env, origin, target, fault))
        self.sched.after(dt, self._arrive, env, origin, target, fault)

    def _duplicate(self, env: Envelope) -> None:
        """The bus resends the envelope (at-least-once transport): a copy with a new id."""
        if env.sender[0] in self.crashed or env.id in self.lost:
            return  # a copy of a lost envelope would be a retransmission, not a duplicate
        copy = Envelope(id=self.new_id(), protocol=env.protocol, message=env.message, sender=env.sender,
                        to=env.to, payload=dict(env.payload), in_reply_to=env.in_reply_to,
                        reply_by=env.reply_by, conversation=env.conversation)
        inj = Injection("duplicate", copy.id, env.sender[0], self.sched.now(), extra={"of": env.id})
        self.faults.injected.append(inj)
        self.submit(copy, env.sender[0])
        inj.line = self.last_line

    def _drop(self, env: Envelope, origin: Gateway, fault: str) -> None:
        self.pending.pop(env.id, None)
        self.accept_ts.pop(env.id, None)
        self.lost.add(env.id)
        line = self.log.drop(env, self.sched.now(), origin.name, fault)
        self.dropped += 1
        self.dropped_by[fault] += 1
        origin.policy.dropped(env, True)
        if self.on_drop is not None:
            self.on_drop(env)
        self._mark(env.id, line)

    def _hop(self, env: Envelope, origin: Gateway, target: Gateway,
             fault: str | None) -> tuple[str, tuple[Envelope, str | None], str | None]:
        """(subject, message, via) of an envelope's first hop: the inbox, or the link."""
        msg = (env, fault if fault in ("delay", "reorder") else None)
        if target is origin:
            return self.inbox[env.to[0][0]], msg, None
        return f"link.{target.token}", msg, origin.token

    def _arrive(self, env: Envelope, origin: Gateway, target: Gateway, fault: str | None) -> None:
        self.transport.publish(*self._hop(env, origin, target, fault))

    def _to_agent(self, subject: str, msg: tuple[Envelope, str | None]) -> None:
        """The addressee's gateway delivers (or the addressee has crashed: drop)."""
        env, fault = msg
        agent, role = env.to[0]
        home = self.home
        gw = home[agent]
        origin = home.get(env.sender[0], gw)
        now = self.sched.clock.now()
        self.pending.pop(env.id, None)
        if self.crashed and agent in self.crashed and self.crashed[agent] <= now:
            self.lost.add(env.id)
            self.accept_ts.pop(env.id, None)
            line = self.log.drop(env, now, gw.name, "crash")
            self.dropped += 1
            self.dropped_by["crash"] += 1
            origin.policy.dropped(env, True)
            if gw is not origin:
                gw.policy.dropped(env, False)
            if self.on_drop is not None:
                self.on_drop(env)
            self._mark(env.id, line)
            self.faults.injected.append(Injection("crash", env.id, agent, now, line))
            return
        line = self.log.deliver(env, now, gw.name, fault)
        if fault is not None:
            self._mark(env.id, line)
        self.delivered += 1
        self.messages += 1
        self.latencies.append(now - self.accept_ts.pop(env.id, now))
        policy = gw.policy
        rank = policy.rank
        if rank:
            policy.delivered(env, agent, role)
        if rank >= 2:  # receipt back to the sender's gateway
            self.receipts += 1
            self.messages += 1
            if origin is not gw:
                self.messages += 1
                self.crossings += 1
            self.transport.publish(origin.receipt_subject, (env, agent, role), via=gw.token)
        elif rank == 1 and origin is not gw:  # the link acknowledges the delivery to the sender's gateway
            self.messages += 1
            self.crossings += 1
            origin.policy.acknowledged(env, agent, role)
        if self.on_deliver is not None:
            self.on_deliver(env, agent, role)

    def _mark(self, eid: str, line: int) -> None:
        """The faults injected on envelope `eid` show at `line` (its deliver or drop)."""
        for inj in reversed(self.faults.injected):
            if inj.id == eid and inj.line is None:
                inj.line = line

    def drain_pending(self) -> None:
        """At the end of a run, envelopes still in transit are dropped (fault `end-of-run`)."""
        for env in list(self.pending.values()):
            self._drop(env, self.home.get(env.sender[0], self.gateways[0]), "end-of-run")
