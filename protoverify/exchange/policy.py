"""Policy levels: what a gateway checks before it lets an envelope through.

The levels are this project's definitions (the LLM-X paper names Low/Medium/High
but publishes no definition); each adds checks to the one below, like a checker
profile adds rules:

* **low** — schema (known protocol and message, exactly the message's
  parameters, scalar values, the message's recipient roles), authentication
  (`from.agent` is the agent attached on this connection), and role (the sender
  plays `from.role`, the message is that role's, and within an enactment each
  role is one agent and each agent one role).
* **medium** — low, plus the Monitor's enabling rule before delivery (the same
  `Monitor` class the auditor replays logs with, run online: the message must be
  enabled for its sender with the values it carries), and a rate limit per agent
  (token bucket).
* **high** — medium, plus de-duplication (same sender, message and bindings, or
  a repeated envelope id), bid deadlines (a reply to a message that carried
  `reply_by` must enter by then), fair award (an award must go to the best bid
  its initiator received in the conversation) and delivery receipts (one more
  message per delivery, back to the sender's gateway).

A gateway keeps one Policy; its Monitor learns only from what passes through
that gateway (its agents' sends and the deliveries to them, plus the sends that
cross the federation link to reach them), which is exactly what its agents know.
"""
from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..bspl.compose import FlatMessage, FlatProtocol
from ..monitor.compiled import MessageRule, key_getter
from ..monitor.monitor import Monitor
from .envelope import SCALARS, Envelope

Level = Literal["low", "medium", "high"]
LEVELS: tuple[str, ...] = ("low", "medium", "high")
_SCALAR_TYPES = frozenset(SCALARS)  # exactly these types: scalars without an isinstance call each
#: rule names a rejection can carry (the `policy.rule` field of a `reject` line)
RULES: dict[str, str] = {
    "schema": "not a well-formed envelope of a known message (low)",
    "auth": "from.agent is not the agent on this connection (low)",
    "role": "the sender does not play the role, or the role is another agent's (low)",
    "rate": "the agent exceeded its rate limit (medium)",
    "enabling": "the message is not enabled for its sender with these values (medium)",
    "duplicate": "a repeated envelope id, or the same message and bindings again (high)",
    "deadline": "a reply after the reply_by of the message it answers (high)",
    "fair-award": "an award that is not the best bid received in the conversation (high)",
    "fair-invite": "an award in a conversation whose call skipped an agent able to do the task (high)",
}


@dataclass
class Limits:
    """Tunables of the levels (seconds are the run's clock)."""

    rate: float = 5.0  # envelopes per second per agent, sustained
    burst: float = 40.0  # bucket size
    dedup_window: int = 100_000  # remembered (sender, message, bindings) for de-duplication
    award_message: str = "accept-proposal"
    call_message: str = "cfp"
    task_param: str = "task"  # the capability a task needs: its value up to the first ':'
    bid_message: str = "propose"
    bid_param: str = "bid"


class _Plan:
    """One message of one protocol compiled for the checks of a level: what `admit`,
    `delivered` and the online Monitor's fast paths read for it, looked up once per
    envelope instead of piecemeal."""

    __slots__ = ("m", "name", "qname", "carried", "order", "nrecip", "recip0", "recip_set", "sender",
                 "key_values", "carried_values", "replies", "award", "call", "bid", "monitor", "rule",
                 "send_plain", "receive_plain", "topic_head", "protocol", "key1", "recipients")

    def __init__(self, protocol: str, flat: FlatProtocol, m: FlatMessage, limits: Limits,
                 monitor: Monitor | None) -> None:
        self.m = m
        self.protocol = flat.name
        self.key1 = m.keys[0] if len(m.keys) == 1 else None  # the one key: its value without a call
        self.recipients = tuple(m.recipients)
        #: the routing topic (`bus.topic_of`) up to the value of its one key (`key1`)
        self.topic_head = f"{protocol}/{m.keys[0]}=" if len(m.keys) == 1 else ""
        self.name = m.name
        self.qname = f"{flat.name}/{m.name}"
        self.carried = frozenset(m.carried)
        self.order = m.carried
        self.nrecip = len(m.recipients)
        self.recip0 = m.recipients[0] if m.recipients else None
        self.recip_set = set(m.recipients)
        self.sender = m.sender
        self.key_values = key_getter(tuple(m.keys))
        self.carried_values = key_getter(tuple(m.carried))
        self.replies = frozenset(r.name for r in flat.messages
                                 if r.sender in m.recipients and r.ins and r.ins <= self.carried)
        self.award = m.name == limits.award_message
        self.call = m.name == limits.call_message
        self.bid = m.name == limits.bid_message
        self.monitor = monitor
        #: the Monitor's rule of the message, when its plain fast paths may be called directly
        #: (as `Monitor.apply` would call them: one declaration of the name, plain protocol)
        self.rule: MessageRule | None = None
        self.send_plain: Callable[[Any, MessageRule], bool] = _never
        self.receive_plain: Callable[[Any, MessageRule], bool] = _never
        if monitor is not None and monitor._plain and self.qname not in flat.polymorphic:
            self.rule = monitor.rule(self.qname)
            if self.rule is not None:
                self.send_plain = monitor._send_plain
                self.receive_plain = monitor._receive_plain


class _Proto:
    """Per protocol, what the checks look up (compiled once)."""

    def __init__(self, protocol: str, flat: FlatProtocol, limits: Limits, monitor: Monitor | None) -> None:
        self.flat = flat
        self.name = flat.name
        self.plans = {m.name: _Plan(protocol, flat, m, limits, monitor) for m in flat.messages}


class Policy:
    """The checks of one level at one gateway, with the state they need."""

    def __init__(self, level: str, protocols: Mapping[str, FlatProtocol], limits: Limits | None = None) -> None:
        if level not in LEVELS:
            raise ValueError(f"policy must be one of {', '.join(LEVELS)}, not {level!r}")
        self.level = level
        self.rank = LEVELS.index(level)
        self.limits = limits or Limits()
        self.monitors: dict[str, Monitor] = {}
        if self.rank >= 1:
            self.monitors = {name: Monitor(fp, delivery="receive", keep_closed=1000)
                             for name, fp in protocols.items()}
        self.protos = {name: _Proto(name, fp, self.limits, self.monitors.get(name))
                       for name, fp in protocols.items()}
        self.checks = 0  # rule evaluations (the cost of a level, by mechanism)
        self.rejected: Counter[str] = Counter()
        self.roles: dict[tuple[Any, ...], dict[str, str]] = {}  # enactment -> role -> agent
        self.buckets: dict[str, list[float]] = {}  # agent -> [tokens, last time]
        # de-duplication windows: a set-like dict, and its keys oldest first (each key enters once)
        self.seen_ids: dict[str, None] = {}
        self.seen_content: dict[tuple[Any, ...], None] = {}
        self._ids_order: deque[str] = deque()
        self._content_order: deque[tuple[Any, ...]] = deque()
        self.deadlines: dict[tuple[Any, ...], tuple[float, frozenset[str]]] = {}
        self.bids: dict[str, dict[tuple[Any, ...], Any]] = {}  # conversation -> enactment -> bid
        self.sent: set[tuple[Any, ...]] = set()  # (enactment, message) accepted and not lost
        self.capabilities: dict[str, frozenset[str]] = {}  # agent -> what it advertised
        self.calls: dict[str, tuple[str, str | None, set[str]]] = {}  # conversation -> (caller, capability, invited)
        self.line = 0

    def plan(self, protocol: str, message: str) -> _Plan | None:
        """The compiled checks of `message` (its flat name) in `protocol`, if it has one."""
        p = self.protos.get(protocol)
        return p.plans.get(message) if p is not None else None

    # ------------------------------------------------------------------ checks
    def admit(self, env: Envelope, conn_agent: str, now: float) -> tuple[str, str] | None:
        """Check `env`, submitted on `conn_agent`'s connection at `now`: (rule, why) when it
        must be rejected (nothing it carried is remembered), None when it is accepted (and
        the checks' state, the online Monitor's included, has taken it in)."""
        p = self.protos.get(env.protocol)
        if p is None:
            self.checks += 1
            return "schema", f"unknown protocol {env.protocol!r}"
        plan = p.plans.get(env.message)
        if plan is None:
            self.checks += 2
            return "schema", f"{env.protocol} has no message {env.message!r}"
        return self.check(env, conn_agent, now, plan)

    def check(self, env: Envelope, conn_agent: str, now: float, plan: _Plan) -> tuple[str, str] | None:
        """`admit` of an envelope whose message is known: `plan` is its plan (`Policy.plan`)."""
        self.checks += 8  # schema (5), auth, role, role in the enactment: counted together
        payload = env.payload
        if payload.keys() != plan.carried:
            want = ", ".join(plan.order)
            return "schema", f"{plan.name} carries exactly {want}, not {', '.join(payload) or 'nothing'}"
        if not _SCALAR_TYPES.issuperset(map(type, payload.values())):  # else: subclasses, or not scalars
            for v in payload.values():
                if not isinstance(v, SCALARS):
                    return "schema", "payload values must be strings, numbers or booleans"
        to = env.to
        if len(to) != plan.nrecip or (to[0][1] != plan.recip0 if len(to) == 1
                                      else {r for _, r in to} != plan.recip_set):
            return "schema", f"{plan.name} goes to {', '.join(plan.m.recipients)}"
        agent, role = env.sender
        if agent != conn_agent:
            return "auth", f"{conn_agent} sent as {agent}"
        if role != plan.sender:
            return "role", f"{plan.name} is sent by {plan.sender}, not {role}"
        k1 = plan.key1
        key = (env.run, plan.protocol, (payload[k1],) if k1 is not None else plan.key_values(payload))
        assigned = self.roles.get(key)
        if assigned is not None:
            who = assigned.get(role)
            if who is not None and who != agent:
                return "role", f"{role} is {who} in this enactment, not {agent}"
            for r, a in assigned.items():
                if a == agent and r != role:
                    return "role", f"{agent} plays {r} in this enactment, not {role}"
            for a, r in to:
                who = assigned.get(r)
                if who is not None and who != a:
                    return "role", f"{r} is {who} in this enactment, not {a}"
        rank = self.rank
        if rank == 0:
            self._register(key, assigned, env)
            return None
        # ---- medium: rate limit, enabling; high: + de-duplication, deadline, fair award
        self.checks += 2 if rank == 1 else 5
        b = self.buckets.get(agent)
        lim = self.limits
        if b is None:
            b = self.buckets[agent] = [lim.burst, now]
        if now > b[1]:  # never refill backwards (envelopes may be checked out of time order)
            tokens = b[0] + (now - b[1]) * lim.rate
            b[0] = tokens if tokens < lim.burst else lim.burst
            b[1] = now
        if b[0] < 1.0:
            return "rate", f"{agent} exceeded {lim.rate:g}/s (burst {lim.burst:g})"
        b[0] -= 1.0  # every attempt costs a token, accepted or not
        ck = None
        if rank >= 2:
            # ---- high: de-duplication, deadline, fair award (before the Monitor: they name the cause)
            if env.id in self.seen_ids:
                return "duplicate", f"envelope id {env.id} already entered"
            ck = (agent, env.run, plan.protocol, plan.name, *plan.carried_values(payload))  # flat: one tuple
            if ck in self.seen_content:
                return "duplicate", f"{agent} already sent {plan.name} with these bindings"
            dl = self.deadlines.get(key)
            if dl is not None and now > dl[0] and plan.name in dl[1]:
                return "deadline", f"{plan.name} at {now:.3f} after reply_by {dl[0]:.3f}"
            if plan.award and env.conversation is not None:
                unfair = self._fair(env, payload.get(lim.bid_param))
                if unfair is not None:
                    return unfair
        # ---- medium: the Monitor's enabling rule, on the send itself. A second send of a
        # message in its enactment is refused before the Monitor sees it: the Monitor reports
        # resends without recording them as sends, so there would be nothing of it to undo.
        sk = (key, plan.name)
        if sk in self.sent:
            return "enabling", f"{plan.name} was already sent in {plan.protocol} " + \
                ",".join(f"{k}={payload[k]}" for k in plan.m.keys)
        recipients = plan.recipients if len(to) == 1 else tuple([r for _, r in to])
        self.line += 1
        ev = OnlineEvent("send", plan.qname, role, recipients, payload, self.line, env.run, agent, env.id,
                         env.protocol, "<gateway>")
        rule = plan.rule
        if rule is None or not plan.send_plain(ev, rule):
            why = self._enabling(env, plan, ev)
            if why is not None:
                return "enabling", why
        self.sent.add(sk)
        # ---- accepted: remember who plays what, and (high) what entered
        if assigned is None:
            assigned = self.roles[key] = {}
        assigned.setdefault(role, agent)
        for a, r in to:
            assigned.setdefault(r, a)
        if ck is not None:
            cap = lim.dedup_window
            ids, order = self.seen_ids, self._ids_order
            ids[env.id] = None
            order.append(env.id)
            if len(order) > cap:
                del ids[order.popleft()]
            content, corder = self.seen_content, self._content_order
            content[ck] = None
            corder.append(ck)
            if len(corder) > cap:
                del content[corder.popleft()]
            if plan.call and env.conversation is not None:
                call = self.calls.get(env.conversation)
                if call is None:
                    task = payload.get(lim.task_param)
                    cap_ = task.split(":", 1)[0] if isinstance(task, str) and ":" in task else None
                    call = self.calls[env.conversation] = (agent, cap_, set())
                call[2].update(a for a, _ in to)
        return None

    def _fair(self, env: Envelope, mine: Any) -> tuple[str, str] | None:
        """An award (high): the best bid received, and a call that skipped no capable agent."""
        conversation = env.conversation
        assert conversation is not None
        bids = self.bids.get(conversation)
        if bids:
            best = min(bids.values(), key=_order)
            if _order(mine) > _order(best):
                return "fair-award", f"awarded bid {mine!r} while {best!r} was received"
        call = self.calls.get(conversation)
        if call is not None and call[1] is not None:
            skipped = sorted(a for a, caps in self.capabilities.items()
                             if call[1] in caps and a != call[0] and a not in call[2])
            if skipped:
                return "fair-invite", f"the call for {call[1]!r} did not invite {', '.join(skipped)}"
        return None

    def _enabling(self, env: Envelope, plan: _Plan, ev: OnlineEvent) -> str | None:
        """The send `ev` through the Monitor's full check: on a finding, undo it and say why."""
        mon = plan.monitor
        assert mon is not None
        found = mon.apply(ev)
        if found:
            mon.apply(self._event("reject", env, ev.recipients, env.sender[0]))
            f = found[0]
            return f"{f.code} {f.text}"
        return None

    # ------------------------------------------------------------------ state updates
    def _event(self, kind: str, env: Envelope, recipients: tuple[str, ...], agent: str) -> OnlineEvent:
        self.line += 1
        return OnlineEvent(kind, self.protos[env.protocol].plans[env.message].qname, env.sender[1], recipients,
                           env.payload, self.line, env.run, agent, env.id, env.protocol, "<gateway>")

    def crossed(self, env: Envelope) -> None:
        """`env` arrived over the federation link for an agent of this gateway."""
        p = self.protos[env.protocol]
        plan = p.plans[env.message]
        key = (env.run, plan.protocol, plan.key_values(env.payload))
        self._register(key, self.roles.get(key), env)
        if self.rank >= 1:
            self.sent.add((key, plan.name))
            ev = self._event("send", env, tuple([r for _, r in env.to]), env.sender[0])
            rule = plan.rule
            if rule is None or not plan.send_plain(ev, rule):
                self.monitors[p.name].apply(ev)

    def delivered(self, env: Envelope, agent: str, role: str) -> None:
        """`env` was delivered to `agent` (one of ours) as `role`."""
        if self.rank == 0:
            return
        p = self.protos[env.protocol]
        plan = p.plans[env.message]
        self.line += 1
        payload = env.payload
        ev = OnlineEvent("receive", plan.qname, env.sender[1], (role,), payload, self.line, env.run, agent,
                         env.id, env.protocol, "<gateway>")
        rule = plan.rule
        if rule is None or not plan.receive_plain(ev, rule):
            self.monitors[env.protocol].apply(ev)
        if self.rank >= 2:
            if env.reply_by is not None:
                key = (env.run, p.name, plan.key_values(payload))
                self.deadlines[key] = (env.reply_by, plan.replies)
            if plan.bid and env.conversation is not None and self.limits.bid_param in payload:
                key = (env.run, p.name, plan.key_values(payload))
                self.bids.setdefault(env.conversation, {})[key] = payload[self.limits.bid_param]

    def advertise(self, agent: str, capabilities: frozenset[str]) -> None:
        """An agent's advertised capabilities (broadcast to every gateway at attach time)."""
        self.capabilities[agent] = frozenset(capabilities)

    def acknowledged(self, env: Envelope, agent: str, role: str) -> None:
        """`env`, sent by one of ours, was delivered to `agent` on another gateway: the
        Monitor records the receipt (else the send would stay in flight, its enactment open)."""
        if self.rank >= 1:
            plan = self.protos[env.protocol].plans[env.message]
            ev = self._event("receive", env, (role,), agent)
            rule = plan.rule
            if rule is None or not plan.receive_plain(ev, rule):
                self.monitors[env.protocol].apply(ev)

    def dropped(self, env: Envelope, here: bool) -> None:
        """`env` (accepted `here`, or crossed to here) was lost by a fault: undo its send."""
        if self.rank >= 1:
            plan = self.protos[env.protocol].plans[env.message]
            self.sent.discard(((env.run, env.protocol, plan.key_values(env.payload)), plan.name))
            self.monitors[env.protocol].apply(self._event("drop", env, tuple(r for _, r in env.to), env.sender[0]))

    def _register(self, key: tuple[Any, ...], assigned: dict[str, str] | None, env: Envelope) -> None:
        """Who plays which role in the enactment `key` (first come: the checks above hold it);
        `assigned`: its roles so far, as `admit` looked them up."""
        if assigned is None:
            assigned = self.roles[key] = {}
        assigned.setdefault(env.sender[1], env.sender[0])
        for a, r in env.to:
            assigned.setdefault(r, a)


class OnlineEvent:
    """An event handed to the online Monitor: the fields of `traces.event.Event`, in a plain
    slotted record (a frozen dataclass costs several times more to build, twice per envelope).
    The fields an online event never has are class attributes: nothing to store per event."""

    __slots__ = ("kind", "message", "sender", "recipients", "bindings", "source", "line",
                 "run", "agent", "id", "protocol")
    seq: None = None
    ts: None = None
    reason: None = None
    decision: None = None

    def __init__(self, kind: str, message: str, sender: str, recipients: tuple[str, ...],
                 bindings: dict[str, Any], line: int, run: str | None, agent: str | None, id: str | None,
                 protocol: str | None, source: str = "<exchange>") -> None:
        self.kind = kind
        self.message = message
        self.sender = sender
        self.recipients = recipients
        self.bindings = bindings
        self.source = source
        self.line = line
        self.run = run
        self.agent = agent
        self.id = id
        self.protocol = protocol


def _never(ev: Any, rule: MessageRule) -> bool:
    """The fast path of a message that has none: always the full check."""
    return False


def _order(v: Any) -> tuple[int, Any]:
    """Bids compare as numbers when they are numbers, else as text."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, v)
    return (1, str(v))


