"""`run(...)`: agents negotiate through the exchange; the logs and a summary are written.

Personal agents both request and bid: each opens negotiations at random times
(exponential, mean `interval`), in the role that starts the protocol, and
answers the negotiations others open. A negotiation (a conversation) is one
enactment of the protocol per invited agent. No negotiation opens after
`duration`; the run then lets the open ones finish, so a clean run's log
audits clean.
"""
from __future__ import annotations

import math
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..agents.adversarial import AdversarialAgent
from ..agents.base import Agent, Choice, Peer, Send, Slot, View
from ..agents.by_role import RoleAgent
from ..agents.random_agent import RandomAgent
from ..agents.scripted import ScriptedAgent
from ..bspl import FlatProtocol, Specification, flatten, load
from ..monitor.monitor import Monitor
from .bus import Transport
from .clock import Scheduler, make_clock
from .envelope import Envelope
from .faults import FaultConfig, Faults, Injection
from .gateway import Federation
from .log import LogWriter
from .policy import Limits, OnlineEvent

CAPABILITIES = ("translate", "summarize", "schedule", "search", "code", "forecast")
LOG_NAME = "exchange.jsonl"
AgentKind = str | Callable[[str], Agent]  # "scripted" | "random", or a factory of agents by name


@dataclass
class RunSummary:
    """What a run did (written as summary.json). Counts are envelopes unless named otherwise."""

    protocol: str
    policy: str
    agents: int
    gateways: int
    seed: int
    clock: str
    transport: str
    duration: float
    envelopes: int = 0
    delivered: int = 0
    rejected: int = 0
    dropped: int = 0
    enactments: int = 0
    completed: int = 0
    negotiations: int = 0
    negotiations_completed: int = 0
    messages: int = 0  # transport messages: entries + link crossings + deliveries + receipts
    receipts: int = 0
    link_crossings: int = 0
    policy_checks: int = 0
    messages_per_completed: float | None = None
    checks_per_envelope: float | None = None
    rejected_by: dict[str, int] = field(default_factory=dict)
    dropped_by: dict[str, int] = field(default_factory=dict)
    injected: dict[str, int] = field(default_factory=dict)
    latency_p50: float | None = None
    latency_p95: float | None = None
    latency_p99: float | None = None
    fairness: float | None = None  # Jain's index over awards (Contract Net) per capable agent
    wall_seconds: float = 0.0
    sim_seconds: float = 0.0
    log: str | None = None
    injections: list[Injection] = field(default_factory=list, repr=False)

    def balanced(self) -> bool:
        return self.envelopes == self.delivered + self.rejected + self.dropped

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("injections")
        return d


@dataclass
class _Enact:
    conversation: str
    key: tuple[Any, ...]
    keyd: dict[str, Any]
    requester: str
    peer: str
    roles: dict[str, str]  # agent -> role
    parties: dict[str, str]  # role -> agent
    replied: bool = False
    bound: set[str] = field(default_factory=set)
    complete: bool = False


@dataclass
class _Conv:
    id: str
    requester: str
    reply_by: float | None
    enacts: list[_Enact] = field(default_factory=list)


def percentile(xs: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of the values; None when there are none."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))
    return s[k]


def jain(xs: list[float]) -> float | None:
    """Jain's fairness index (Σx)²/(n·Σx²): 1/n when one gets all, 1 when all get equal."""
    sq = sum(x * x for x in xs)
    return (sum(xs) ** 2) / (len(xs) * sq) if xs and sq else None


class _Run:
    def __init__(self, flat: FlatProtocol, n: int, level: str, duration: float, seed: int,
                 out: Path | None, clock: str, faults: FaultConfig, ngateways: int, adversarial: int,
                 adversarial_rate: float, agent_kind: str, interval: float, limits: Limits | None,
                 reply_window: float, think: tuple[float, float], transport: Transport | None,
                 biased: int, agent_factory: Callable[[str], Agent] | None = None,
                 role_agents: Mapping[str, AgentKind] | None = None) -> None:
        self.flat = flat
        self.level = level
        self.duration = duration
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock_kind = clock
        self.sched = Scheduler(make_clock(clock))
        self.out = out
        self.log = LogWriter(out / LOG_NAME if out is not None else None)
        self.faults = Faults(faults)
        self.run_id = f"run-{seed}"
        self.fed = Federation({flat.name: flat}, level, self.sched, self.log, self.faults,
                              random.Random(f"bus-{seed}"), self.run_id, ngateways, limits, transport)
        self.fed.on_accept = self._accepted
        self.fed.on_deliver = self._delivered
        self.fed.on_drop = self._dropped
        self.world = Monitor(flat, delivery="receive", keep_closed=1_000_000)
        self.interval = interval
        self.reply_window = reply_window
        self.think = think
        self.serial = 0
        self.wline = 0
        self.names = [f"agent-{i + 1:02d}" for i in range(n)]
        self.caps: dict[str, frozenset[str]] = {}
        self.agents: dict[str, Agent] = {}
        self.arng: dict[str, random.Random] = {}
        for i, name in enumerate(self.names):
            k = self.rng.randint(2, 3)
            self.caps[name] = frozenset(self.rng.sample(CAPABILITIES, k))
            self.arng[name] = random.Random(f"{seed}-{name}")
            if i >= n - adversarial:
                self.agents[name] = AdversarialAgent(name, flat.name, adversarial_rate)
            else:
                favourites = 2 if i < biased else None
                agent = self._honest(name, agent_factory or agent_kind, favourites)
                if role_agents:
                    agent = RoleAgent(name, agent, {r: self._honest(name, k, favourites)
                                                    for r, k in role_agents.items()})
                self.agents[name] = agent
                attach = getattr(agent, "attach", None)
                if attach is not None:
                    attach(self._decided)
            self.fed.attach(name, i)
        self.enacts: dict[tuple[Any, ...], _Enact] = {}
        self.convs: dict[str, _Conv] = {}
        self.starting: dict[str, tuple[str, float | None]] = {}  # envelope id -> conversation
        self.starters = {m.name for m in flat.messages if not m.ins}
        self.public_outs = set(flat.outs)
        self.awards: Counter[str] = Counter()
        self.stopped: set[str] = set()

    # ------------------------------------------------------------------ helpers
    def _honest(self, name: str, kind: AgentKind, favourites: int | None) -> Agent:
        """An honest agent of a built-in kind ("scripted", "random") or from a factory."""
        if callable(kind):
            return kind(name)
        if kind == "random":
            return RandomAgent(name)
        return ScriptedAgent(name, protocol=self.flat.name, favourites=favourites)

    def new_id(self) -> str:
        self.serial += 1
        return f"k{self.serial}"

    def _decided(self, rec: dict[str, Any]) -> int:
        """An LLM agent's call, as a `decision` line of the log (docs/formats.md §2)."""
        return self.log.write({"v": 1, "type": "decision", "id": f"d{self.log.line + 1}", "ts": self.sched.now(),
                               "run": self.run_id, "protocol": self.flat.name, "decision": rec})

    def _key(self, env: Envelope) -> tuple[Any, ...] | None:
        m = self.flat.message(env.message)
        if m is None or any(k not in env.payload for k in m.keys):
            return None
        return tuple(env.payload[k] for k in m.keys)

    def _world(self, kind: str, env: Envelope, agent: str, recipients: tuple[str, ...]) -> None:
        self.wline += 1
        self.world.apply(OnlineEvent(kind, f"{env.protocol}/{env.message}", env.sender[1], recipients,
                                     env.payload, self.wline, env.run, agent, env.id, env.protocol, "<agents>"))

    def peers(self, me: str) -> list[Peer]:
        return [Peer(a, self.caps[a]) for a in self.names if a != me]

    # ------------------------------------------------------------------ exchange hooks
    def _accepted(self, env: Envelope) -> None:
        self._world("send", env, env.sender[0], tuple(r for _, r in env.to))
        key = self._key(env)
        if key is None:
            return
        starter = self.flat.message(env.message) if env.message in self.starters else None
        if starter is not None and key not in self.enacts and env.conversation in self.convs:
            conv = self.convs[env.conversation]
            peer = env.to[0][0]
            # one agent per role: the caller, the invited agent, and for any further role
            # (a shipper, a carrier) an agent drawn from the others
            parties = {env.sender[1]: env.sender[0]}
            for a, r in env.to:
                parties.setdefault(r, a)
            free = [n for n in self.names if n not in parties.values()]
            for r in self.flat.roles:
                if r not in parties and free:
                    parties[r] = free.pop(self.rng.randrange(len(free)))
            new = _Enact(conv.id, key, {k: env.payload[k] for k in starter.keys},
                         env.sender[0], peer, {a: r for r, a in parties.items()}, parties)
            self.enacts[key] = new
            conv.enacts.append(new)
        e = self.enacts.get(key)
        agent = env.sender[0]
        if e is not None and agent in e.roles and agent not in self.stopped and agent in self.agents:
            # the sender may have more to say in the enactment (e.g. `open` then `requestPacking`)
            self.sched.after(self.arng[agent].uniform(*self.think), self._react, agent, key)

    def _dropped(self, env: Envelope) -> None:
        self._world("drop", env, env.sender[0], tuple(r for _, r in env.to))

    def _delivered(self, env: Envelope, agent: str, role: str) -> None:
        self._world("receive", env, agent, (role,))
        key = self._key(env)
        e = self.enacts.get(key) if key is not None else None
        if e is None or agent not in e.roles:
            return
        e.bound.update(env.payload)
        if not e.complete and self.public_outs <= e.bound:
            e.complete = True
        if agent == e.requester and env.sender[0] == e.peer:
            e.replied = True
        if env.message == "accept-proposal":
            self.awards[agent] += 1
        if agent in self.stopped:
            return
        think = self.arng[agent].uniform(*self.think)
        self.sched.after(think, self._react, agent, key)

    # ------------------------------------------------------------------ agents
    def _view(self, agent: str, **kw: Any) -> View:
        return View(agent=agent, protocol=self.flat, now=self.sched.now(), rng=self.arng[agent],
                    capabilities=self.caps[agent], peers=self.peers(agent), new_id=self.new_id,
                    reply_window=self.reply_window, **kw)

    def _slot(self, e: _Enact, agent: str) -> Slot:
        role = e.roles[agent]
        enabled = self.world.enabled(self.run_id, e.keyd, role)
        knows = dict(e.keyd)
        for en in enabled:
            knows.update(en.bound)
        return Slot(dict(e.keyd), e.peer if agent == e.requester else e.requester, enabled, e.replied, knows,
                    dict(e.parties))

    def _react(self, agent: str, key: tuple[Any, ...]) -> None:
        if agent in self.stopped:
            return
        e = self.enacts[key]
        conv = self.convs[e.conversation]
        role = e.roles[agent]
        mine = conv.enacts if agent == conv.requester else [e]
        slots = [self._slot(x, agent) for x in mine]
        slot = slots[mine.index(e)]
        view = self._view(agent, role=role, conversation=conv.id, slots=slots, slot=slot,
                          reply_by=conv.reply_by)
        self._act(agent, self.agents[agent].decide(view), role, key)

    def _act(self, agent: str, choice: Choice | None, role: str | None, key: tuple[Any, ...] | None) -> None:
        if choice is None:
            return
        for s in choice.sends:
            self._submit(agent, s)
        if choice.wait_until is not None and key is not None:
            self.sched.at(max(choice.wait_until, self.sched.now()), self._react, agent, key)

    def _submit(self, agent: str, s: Send) -> None:
        m = self.flat.message(s.message)
        role = s.as_role or (m.sender if m is not None else "?")
        env = Envelope(id=self.fed.new_id(), protocol=self.flat.name, message=s.message,
                       sender=(s.as_agent or agent, role), to=tuple(s.to), payload=s.payload,
                       reply_by=s.reply_by, conversation=s.conversation)
        self.fed.submit(env, agent)
        if s.misbehaviour is not None:
            self.faults.injected.append(Injection(s.misbehaviour, env.id, agent, self.sched.now(),
                                                  self.fed.last_line))

    def _tick(self, agent: str) -> None:
        now = self.sched.now()
        if agent in self.stopped or now >= self.duration:
            return
        enabled = [e for r in self.flat.roles for e in self.world.enabled(self.run_id, None, r)]
        cid = f"c{len(self.convs) + 1}"
        view = self._view(agent, start=True, enabled=enabled, conversation=cid)
        choice = self.agents[agent].decide(view)
        if choice is not None and choice.sends:
            rb = next((s.reply_by for s in choice.sends if s.reply_by is not None), None)
            self.convs[cid] = _Conv(cid, agent, rb)
            for s in choice.sends:
                s.conversation = cid
            self._act(agent, choice, None, None)
            if not self.convs[cid].enacts:
                del self.convs[cid]
        self.sched.after(self.arng[agent].expovariate(1.0 / self.interval), self._tick, agent)

    def _crash(self, agent: str) -> None:
        self.stopped.add(agent)
        self.faults.injected.append(Injection("crash", None, agent, self.sched.now()))

    # ------------------------------------------------------------------ the run
    def watch(self, progress: Callable[[float], None]) -> None:
        """Call `progress(now)` every 512 events, after the transport's own hook (if any)."""
        sched, inner = self.sched, self.sched.after_each
        count = 0

        def tick() -> None:
            nonlocal count
            if inner is not None:
                inner()
            count += 1
            if count & 511 == 0:
                progress(sched.now())

        sched.after_each = tick

    def go(self) -> RunSummary:
        t0 = time.perf_counter()
        for name in self.names:
            gw = self.fed.home[name]
            self.log.capability(name, sorted(self.caps[name]), self.sched.now(), self.run_id, gw.name)
            self.fed.advertise(name, self.caps[name])
            self.sched.after(self.arng[name].expovariate(1.0 / self.interval), self._tick, name)
        for agent, t in self.faults.crash_times(self.names, self.duration).items():
            self.fed.crashed[agent] = t
            self.sched.at(t, self._crash, agent)
        try:
            self.sched.run(until=self.duration * 2 + 3600.0)
            self.fed.drain_pending()
            wall = time.perf_counter() - t0
        finally:
            self.log.close()  # also when interrupted: the lines written so far reach the file
        self.fed.transport.close()
        return self.summary(wall)

    def summary(self, wall: float) -> RunSummary:
        fed = self.fed
        counts = self.log.counts
        completed_convs = sum(1 for c in self.convs.values() if c.enacts and all(e.complete for e in c.enacts))
        capable = [a for a in self.names if not isinstance(self.agents[a], AdversarialAgent)]
        checks = sum(g.policy.checks for g in fed.gateways)
        entered = counts["envelope"] + counts["reject"]
        s = RunSummary(
            protocol=self.flat.name, policy=self.level, agents=len(self.names), gateways=len(fed.gateways),
            seed=self.seed, clock=self.clock_kind, transport=getattr(fed.transport, "name", "inproc"),
            duration=self.duration, envelopes=entered, delivered=counts["deliver"],
            rejected=counts["reject"], dropped=counts["drop"], enactments=len(self.enacts),
            completed=sum(1 for e in self.enacts.values() if e.complete),
            negotiations=len(self.convs), negotiations_completed=completed_convs,
            messages=fed.messages, receipts=fed.receipts, link_crossings=fed.crossings, policy_checks=checks,
            messages_per_completed=(fed.messages / completed_convs) if completed_convs else None,
            checks_per_envelope=(checks / entered) if entered else None,
            rejected_by=dict(sorted(fed.rejected_by.items())), dropped_by=dict(sorted(fed.dropped_by.items())),
            injected=dict(sorted(Counter(i.kind for i in self.faults.injected).items())),
            latency_p50=percentile(fed.latencies, 50), latency_p95=percentile(fed.latencies, 95),
            latency_p99=percentile(fed.latencies, 99),
            fairness=jain([float(self.awards.get(a, 0)) for a in capable]) if self.awards else None,
            wall_seconds=round(wall, 4), sim_seconds=round(self.sched.now(), 4),
            log=str(self.out / LOG_NAME) if self.out is not None else None,
            injections=list(self.faults.injected))
        if self.out is not None:
            (self.out / "summary.json").write_bytes(orjson.dumps(s.to_dict(), option=orjson.OPT_INDENT_2))
            with open(self.out / "injections.jsonl", "wb") as f:
                for inj in s.injections:
                    f.write(orjson.dumps(asdict(inj)) + b"\n")
        return s


def _flat(spec: Specification | FlatProtocol | str | os.PathLike[str], protocol: str | None) -> FlatProtocol:
    if isinstance(spec, FlatProtocol):
        return spec
    loaded = spec if isinstance(spec, Specification) else load(Path(spec))
    names = list(loaded.names)
    if protocol is None:
        if len(names) != 1:
            raise ValueError(f"{loaded.source} has several protocols ({', '.join(names)}): name one")
        protocol = names[0]
    elif protocol not in names:
        raise ValueError(f"no protocol named {protocol!r} in {loaded.source}; it has: {', '.join(names)}")
    return flatten(loaded, protocol)


def run(spec: Specification | FlatProtocol | str | os.PathLike[str], agents: int = 12, policy: str = "high",
        duration: float = 3600.0, seed: int = 0, out: str | os.PathLike[str] | None = None, clock: str = "sim",
        faults: str | Mapping[str, Any] | FaultConfig | None = None, gateways: int = 1,
        protocol: str | None = None, adversarial: int = 0, adversarial_rate: float = 0.3,
        agent_kind: str = "scripted", interval: float = 600.0, limits: Limits | None = None,
        reply_window: float = 60.0, think: tuple[float, float] = (0.5, 5.0),
        transport: Transport | None = None, biased: int = 0,
        progress: Callable[[float], None] | None = None,
        agent_factory: Callable[[str], Agent] | None = None,
        role_agents: Mapping[str, AgentKind] | None = None) -> RunSummary:
    """Run `agents` agents negotiating by the protocol in `spec` through the exchange.

    `policy`: low | medium | high. `duration`: seconds (simulated with clock="sim")
    during which negotiations open. `faults`: "drop=0.01,duplicate=0.01,reorder=…,
    delay=…,crash=…" (rates). `gateways`: how many federated gateways the agents are
    spread over. `adversarial`: how many of the agents misbehave (at
    `adversarial_rate` per decision). `interval`: mean seconds between the negotiations
    an agent opens; `reply_window`: the bid deadline after a call; `think`: range of an
    agent's reaction time. `transport`: the bus between the gateways (default: a fresh
    `InProcTransport`; anything with `subscribe`/`publish`/`close` and a `name`).
    `biased`: how many of the honest scripted agents call only their two favourite
    peers (the first capable ones by name) instead of every capable one. `progress`: called
    with the run's clock now and then (every 512 events), for a progress bar.
    `agent_factory(name)`: the honest agents (e.g. LLM agents, protoverify.agents.llm)
    instead of `agent_kind`. `role_agents`: {role: kind or factory}: each honest agent's
    decisions for that role are made by an agent of that kind ("scripted", "random", or
    `factory(name)`), its other decisions by the agent above (agents.by_role). Writes
    exchange.jsonl, summary.json and injections.jsonl into `out` (when given).
    """
    if agents < 2:
        raise ValueError("a run needs at least 2 agents")
    if not 0 <= adversarial <= agents:
        raise ValueError(f"adversarial must be between 0 and {agents}")
    if not 0 <= biased <= agents - adversarial:
        raise ValueError(f"biased must be between 0 and {agents - adversarial} (the honest agents)")
    if agent_kind not in ("scripted", "random"):
        raise ValueError(f"agent kind must be 'scripted' or 'random', not {agent_kind!r}")
    if duration <= 0:
        raise ValueError("duration must be positive")
    flat = _flat(spec, protocol)
    for role, kind in (role_agents or {}).items():
        if role not in flat.roles:
            raise ValueError(f"no role {role!r} in {flat.name}; its roles: {', '.join(flat.roles)}")
        if not callable(kind) and kind not in ("scripted", "random"):
            raise ValueError(f"agent kind for {role} must be 'scripted', 'random' or a factory, not {kind!r}")
    cfg = FaultConfig.parse(faults, seed=seed)
    outp = Path(out) if out is not None else None
    if outp is not None:
        outp.mkdir(parents=True, exist_ok=True)
    r = _Run(flat, agents, policy, duration, seed, outp, clock, cfg, gateways, adversarial,
             adversarial_rate, agent_kind, interval, limits, reply_window, think, transport, biased,
             agent_factory, role_agents)
    if progress is not None:
        r.watch(progress)
    return r.go()
