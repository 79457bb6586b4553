"""The Monitor: per-enactment knowledge of each role, and the send/receive rules.

One object, three users: the auditor (offline, `apply` over a log), the
exchange's policy engine (online: `check`/`enabled` before delivery) and the
simulator that generates conformant enactments (`enabled`). It does no I/O and
prints nothing.

Model (docs/design semantics, "The enactment model"):

* An enactment is identified, within one run, by the values of the key
  parameters a message carries. A message carrying only some of the keys lives
  in the sub-enactment of those keys; a message carrying more keys can read
  what is known in the enactments of fewer keys (its ancestors).
* Each role knows the parameters of the messages it sent or received there.
* A role may send m when it knows every `in` parameter of m and none of its
  `out`/`nil` parameters; every carried value must agree with what is known.
* Delivery: with ``delivery="send"`` recipients learn at send time (a log with
  no receipts); with ``delivery="receive"`` only at the `receive` event.

Hot path: every message of the protocol is compiled once into a `_Rule`
(tuples and frozensets); `apply` of a conformant send allocates one small list
and touches a few dicts.
"""
from __future__ import annotations

from collections import OrderedDict
from operator import itemgetter
from types import SimpleNamespace
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal, Mapping

from ..findings import Finding, finding
from ..bspl.compose import FlatMessage, FlatProtocol

Delivery = Literal["send", "receive"]
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Enabled:
    """A message `role` may send now: the values it would carry for its `in`
    parameters (`bound`) and the `out` parameters it would have to fill."""

    message: str
    role: str
    recipients: tuple[str, ...]
    bound: dict[str, Any]
    fill: tuple[str, ...]

    def describe(self) -> str:
        b = ", ".join(f"{k}={v!r}" for k, v in self.bound.items())
        f = ", ".join(self.fill)
        return f"{self.role}: {self.message}[{b}{' | ' if b and f else ''}{('fill ' + f) if f else ''}]"


@dataclass(frozen=True, slots=True)
class EnactmentStatus:
    """How one enactment ended (reported when it closes or at the end of the log)."""

    run: str | None
    enactment: str
    status: str  # complete | stalled | deadlock
    source: str | None
    first_line: int | None
    last_line: int | None
    events: int
    missing: tuple[str, ...] = ()


class _Rule:
    """One message compiled for checking."""

    __slots__ = ("msg", "name", "qname", "sender", "recipients", "recip_set", "keys", "keyset",
                 "ins", "outs", "nils", "carried", "carried_set", "params", "ncarried", "ancestors",
                 "pub_outs", "in_keys", "ins_set", "outs_nils", "npub_outs", "key_values")

    def __init__(self, m: FlatMessage, proto: FlatProtocol, ancestors: tuple[tuple[str, ...], ...],
                 pub_outs: frozenset[str]) -> None:
        order = {k: i for i, k in enumerate(proto.keys)}
        self.msg = m
        self.name = m.name
        self.qname = f"{proto.name}/{m.name}"
        self.sender = m.sender
        self.recipients = m.recipients
        self.recip_set = frozenset(m.recipients)
        self.keys = tuple(sorted(m.keys, key=lambda k: order.get(k, len(order))))
        self.keyset = frozenset(self.keys)
        self.ins = tuple(p.name for p in m.params if p.adornment == "in")
        self.outs = tuple(p.name for p in m.params if p.adornment == "out")
        self.nils = tuple(p.name for p in m.params if p.adornment == "nil")
        self.carried = tuple(p.name for p in m.params if p.adornment != "nil")
        self.carried_set = frozenset(self.carried)
        self.params = frozenset(p.name for p in m.params)
        self.ncarried = len(self.carried)
        self.ancestors = ancestors
        self.pub_outs = tuple(p for p in self.outs if p in pub_outs)
        self.in_keys = frozenset(k for k in self.keys if k in self.ins)
        self.ins_set = frozenset(self.ins)
        self.outs_nils = frozenset(self.outs + self.nils)
        self.npub_outs = len(self.pub_outs)
        #: bindings -> the key values of the enactment (a tuple, as `Monitor._ctx_key` builds it)
        self.key_values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = \
            _key_getter(self.keys)


def _key_getter(keys: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A C-level getter of the key values of a bindings dict, always as a tuple."""
    if len(keys) == 1:
        k = keys[0]
        return lambda b: (b[k],)
    if not keys:
        return lambda b: ()
    return itemgetter(*keys)


class _Sent:
    __slots__ = ("bindings", "line", "source", "pending", "new", "role")

    def __init__(self, bindings: Mapping[str, Any], line: int, source: str, role: str,
                 pending: dict[str, int] | None, new: tuple[str, ...]) -> None:
        self.bindings = bindings
        self.line = line
        self.source = source
        self.role = role
        self.pending = pending  # recipient role -> receipts still expected (receive mode)
        self.new = new  # parameters this send bound first (rolled back on reject/drop)


class Context:
    """What is known in one (sub-)enactment of one run."""

    __slots__ = ("run", "keys", "kv", "_label", "values", "bound_by", "know", "sent", "agents",
                 "nout", "parents", "children", "source", "first_line", "last_line", "events",
                 "closed", "pending")

    def __init__(self, run: str | None, keys: tuple[str, ...], kv: tuple[Any, ...], source: str,
                 line: int) -> None:
        self.run = run
        self.keys = keys
        self.kv = kv
        self._label: str | None = None
        self.values: dict[str, Any] = {}
        self.bound_by: dict[str, tuple[str, int]] = {}
        self.know: dict[str, set[str]] = {}
        self.sent: dict[str, _Sent] = {}
        self.agents: dict[str, str] = {}
        self.nout = 0
        self.parents: list[Context] = []
        self.children: list[Context] = []
        self.source = source
        self.first_line = line
        self.last_line = line
        self.events = 0
        self.closed = False
        self.pending = 0  # receipts still expected for sends in this context

    @property
    def label(self) -> str:
        """`orderID=o1` (the key bindings), built on first use."""
        if self._label is None:
            self._label = ",".join([k + "=" + (v if type(v) is str and len(v) <= 60 else _show(v))
                                    for k, v in zip(self.keys, self.kv)]) or "(no keys)"
        return self._label

    def knows(self, role: str, p: str) -> Context | None:
        """The context (this or an ancestor) where `role` knows `p`, else None."""
        k = self.know.get(role)
        if k is not None and p in k:
            return self
        for par in self.parents:
            c = par.knows(role, p)
            if c is not None:
                return c
        return None

    def value(self, p: str) -> Any:
        if p in self.values:
            return self.values[p]
        for par in self.parents:
            v = par.value(p)
            if v is not _MISSING:
                return v
        return _MISSING


def _show(v: Any) -> str:
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _hashable(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return ("<unhashable>", repr(v))


class Monitor:
    """Replays events of one protocol, enactment by enactment.

    `apply(event) -> list[Finding]` checks one event and updates the state;
    `finish() -> list[Finding]` reports what is left open at the end of the log;
    `enabled(run, enactment, role)` lists what a role may send now.
    `keep_closed` bounds how many closed (complete, quiescent) enactments are
    remembered for late duplicates; open ones are all kept.
    """

    def __init__(self, protocol: FlatProtocol, delivery: Delivery = "send",
                 keep_closed: int = 10000,
                 on_status: Callable[[EnactmentStatus], None] | None = None) -> None:
        self.protocol = protocol
        self.delivery: Delivery = delivery
        self.keep_closed = keep_closed
        self.on_status = on_status
        self.pub_outs = frozenset(protocol.outs)
        self.roles = frozenset(protocol.roles)
        keysets = {tuple(m.keys) for m in protocol.messages}
        rules: list[_Rule] = []
        for m in protocol.messages:
            ks = frozenset(m.keys)
            anc = tuple(sorted((tuple(k for k in protocol.keys if k in other) for other in keysets
                                if frozenset(other) < ks), key=len))
            rules.append(_Rule(m, protocol, anc, self.pub_outs))
        self.rules = tuple(rules)
        self.multikey = any(r.ancestors for r in rules) or len({r.keyset for r in rules}) > 1
        #: per rule, what `_maybe_close` tests (run once per complete enactment)
        self._quiet = tuple((r.name, r.sender, r.ins_set, r.outs_nils, r.outs) for r in rules)
        self._by_name: dict[str, _Rule] = {}
        for r in rules:
            self._by_name[r.name] = r
            self._by_name[r.qname] = r
        for r in rules:  # unique local names (`Wrap` for `Pack/Wrap`) as well
            if r.msg.local and r.msg.local not in self._by_name:
                if sum(1 for o in rules if o.msg.local == r.msg.local) == 1:
                    self._by_name[r.msg.local] = r
                    self._by_name[f"{protocol.name}/{r.msg.local}"] = r
        # rules a role may consider in a context of a given key set
        self._applicable: dict[tuple[frozenset[str], str], tuple[_Rule, ...]] = {}
        self.open: dict[tuple[Any, ...], Context] = {}
        self.closed: OrderedDict[tuple[Any, ...], Context] = OrderedDict()
        self.complete_count = 0
        self.incomplete_count = 0
        self._last_error: dict[tuple[str | None, str | None], bool] = {}

    # ---------------------------------------------------------------- lookup
    def rule(self, name: str | None) -> _Rule | None:
        return self._by_name.get(name) if name is not None else None

    def _ctx_key(self, run: str | None, keys: tuple[str, ...], b: Mapping[str, Any]) -> tuple[Any, ...]:
        if len(keys) == 1:
            kv: tuple[Any, ...] = (b[keys[0]],)
        else:
            kv = tuple([b[k] for k in keys])
        try:
            hash(kv)
        except TypeError:
            kv = tuple(_hashable(b[k]) for k in keys)
        return (run, keys, kv)

    def context(self, run: str | None, enactment: Mapping[str, Any] | str | None) -> Context | None:
        """The context of `enactment` (key bindings, or its label) in `run`, if any."""
        if enactment is None:
            return None
        if isinstance(enactment, str):
            for d in (self.open, self.closed):
                for c in d.values():
                    if c.run == run and c.label == enactment:
                        return c
            return None
        keys = tuple(k for k in self.protocol.keys if k in enactment)
        key = self._ctx_key(run, keys, enactment)
        return self.open.get(key) or self.closed.get(key)

    def contexts(self) -> Iterable[Context]:
        yield from self.open.values()
        yield from self.closed.values()

    def _get(self, run: str | None, rule: _Rule, b: Mapping[str, Any], ev: Any, create: bool) -> Context | None:
        key = self._ctx_key(run, rule.keys, b)
        ctx = self.open.get(key)
        if ctx is None:
            ctx = self.closed.get(key)
            if ctx is None:
                if not create:
                    return None
                ctx = Context(run, rule.keys, key[2], ev.source, ev.line)
                for anc in rule.ancestors:
                    par = self.open.get(self._ctx_key(run, anc, b)) or self.closed.get(self._ctx_key(run, anc, b))
                    if par is not None:
                        ctx.parents.append(par)
                        par.children.append(ctx)
                self.open[key] = ctx
            else:
                self.closed.move_to_end(key)
        return ctx

    # ---------------------------------------------------------------- rules
    def _applicable_rules(self, keyset: frozenset[str], role: str) -> tuple[_Rule, ...]:
        got = self._applicable.get((keyset, role))
        if got is None:
            got = tuple(r for r in self.rules if r.sender == role
                        and (r.keyset - frozenset(r.outs)) <= keyset <= r.keyset)
            self._applicable[(keyset, role)] = got
        return got

    def _enabled_in(self, ctx: Context | None, role: str) -> list[Enabled]:
        out: list[Enabled] = []
        keyset = frozenset(ctx.keys) if ctx is not None else frozenset()
        for r in self._applicable_rules(keyset, role):
            if ctx is None:
                if r.ins:
                    continue
                out.append(Enabled(r.qname, role, r.recipients, {}, r.outs))
                continue
            bound: dict[str, Any] = {}
            ok = True
            for p in r.ins:
                holder = ctx.knows(role, p)
                if holder is None:
                    ok = False
                    break
                bound[p] = holder.value(p)
            if not ok:
                continue
            if any(ctx.knows(role, p) is not None for p in r.outs) or \
                    any(ctx.knows(role, p) is not None for p in r.nils):
                continue
            if r.name in ctx.sent or any(ctx.value(p) is not _MISSING for p in r.outs):
                continue
            out.append(Enabled(r.qname, role, r.recipients, bound, r.outs))
        return out

    def enabled(self, run: str | None, enactment: Mapping[str, Any] | str | Context | None,
                role: str) -> list[Enabled]:
        """Messages `role` may send now in `enactment` of `run` (None: a new enactment)."""
        ctx = enactment if isinstance(enactment, Context) else self.context(run, enactment)
        if ctx is None and enactment:
            return [e for e in self._enabled_in(None, role)]
        return self._enabled_in(ctx, role)

    # ---------------------------------------------------------------- apply
    def apply(self, ev: Any) -> list[Finding]:
        """Check one normalized event against the protocol and update the state."""
        kind = ev.kind
        name = ev.message
        if name in self.protocol.polymorphic:  # one name, several declarations: by what it carries
            name = getattr(self.protocol.resolve(name, ev.bindings, ev.sender), "name", name)
        if kind == "send":
            rule = self._by_name.get(name)
            if rule is not None and self._send_plain(ev, rule):
                return []
        elif kind == "decision":
            return self._decision(ev)
        rule = self._by_name.get(name)
        if rule is None and name is not None and ev.protocol and "/" not in name:
            rule = self._by_name.get(f"{ev.protocol}/{name}")
        if rule is None:
            known = ", ".join(r.name for r in self.rules)
            return [finding("REC003", f"unknown message {ev.message!r}: not in protocol "
                            f"{self.protocol.name}", expected=f"one of: {known}", **_where(ev, None))]
        b = ev.bindings
        found: list[Finding] = []
        if len(b) != rule.ncarried or not rule.carried_set <= b.keys():
            found = self._record(ev, rule, b)
            if any(k not in b for k in rule.keys):
                return found
        if kind == "send":
            return self._send(ev, rule, b, found)
        if kind == "receive":
            return self._receive(ev, rule, b, found)
        return self._reject(ev, rule, b, found)

    def _record(self, ev: Any, rule: _Rule, b: Mapping[str, Any]) -> list[Finding]:
        out: list[Finding] = []
        where = _where(ev, None, rule.qname)
        for p in b:
            if p not in rule.params:
                out.append(finding("REC004", f"{rule.name} has no parameter {p!r}",
                                   expected="parameters: " + ", ".join(rule.carried), **where))
            elif p in rule.nils:
                out.append(finding("REC006", f"{rule.name} declares {p!r} nil but carries {p}={_show(b[p])}",
                                   expected=f"no value for {p}", **where))
        missing = [p for p in rule.carried if p not in b]
        if missing:
            keys = [p for p in missing if p in rule.keyset]
            out.append(finding("REC005", f"{rule.name} lacks parameter{'s' if len(missing) > 1 else ''} "
                               + ", ".join(missing)
                               + (" (key: the enactment cannot be identified)" if keys else ""),
                               expected="parameters: " + ", ".join(rule.carried), **where))
        return out

    def _check_role(self, ev: Any, rule: _Rule, ctx: Context, role: str | None, found: list[Finding]) -> None:
        agent = ev.agent
        if agent is None or role is None:
            return
        prev = ctx.agents.get(agent)
        if prev is None:
            ctx.agents[agent] = role
        elif prev != role:
            found.append(finding("ROL003", f"agent {agent!r} acts as {role} but already acted as {prev} "
                                 "in this enactment", expected=f"{agent} plays {prev} only",
                                 **_where(ev, ctx.label, rule.qname, role)))

    def _send_plain(self, ev: Any, rule: _Rule) -> bool:
        """Apply a plainly conformant send and return True; else return False having
        changed nothing but what `_send` would change first (the context it creates).

        The common case of a long log, in the fewest operations: every carried
        parameter present, the right roles, no earlier send of the message, every
        `in` known to the sender with the same value, no `out`/`nil` known or bound.
        It is exactly `_send` when that raises no finding; everything else (and any
        message with ancestor enactments) takes `_send`, which words the findings.
        """
        b = ev.bindings
        if rule.ancestors or len(b) != rule.ncarried or not rule.carried_set <= b.keys():
            return False
        sender = ev.sender
        recips = ev.recipients
        if sender != rule.sender or (recips and recips != rule.recipients and not (
                recips[0] in rule.recip_set if len(recips) == 1 == len(rule.recipients)
                else len(recips) == len(rule.recipients) and frozenset(recips) == rule.recip_set)):
            return False
        key = (ev.run, rule.keys, rule.key_values(b))
        try:
            ctx = self.open.get(key)
        except TypeError:  # an unhashable key value
            return False
        if ctx is None:
            if key in self.closed:
                return False
            ctx = self.open[key] = Context(ev.run, rule.keys, key[2], ev.source, ev.line)
        sent = ctx.sent
        if rule.name in sent:
            return False
        agent = ev.agent
        if agent is not None:
            prev = ctx.agents.get(agent)
            if prev is not None and prev != sender:
                return False
        know_by = ctx.know
        know = know_by.get(sender)
        values = ctx.values
        if know is None:
            if rule.ins:
                return False
        elif not rule.ins_set <= know or not know.isdisjoint(rule.outs_nils):
            return False
        for p in rule.ins:
            if values.get(p, _MISSING) != b[p]:
                return False
        if not values.keys().isdisjoint(rule.outs):
            return False
        # conformant: update as `_send` does
        line = ev.line
        ctx.events += 1
        ctx.last_line = line
        if agent is not None and prev is None:
            ctx.agents[agent] = sender
        carried = rule.carried_set
        if know is None:
            know_by[sender] = set(carried)
        else:
            know.update(carried)
        by = (rule.name, line)
        bound_by = ctx.bound_by
        for p in rule.outs:
            values[p] = b[p]
            bound_by[p] = by
        ctx.nout += rule.npub_outs
        recipients = recips if recips else rule.recipients
        if self.delivery == "send":
            pending = None
            for r in recipients:
                k = know_by.get(r)
                if k is None:
                    know_by[r] = set(carried)
                else:
                    k.update(carried)
        else:
            pending = {r: 1 for r in recipients}
            ctx.pending += len(pending)
        sent[rule.name] = _Sent(b, line, ev.source, sender, pending, rule.outs)
        if ctx.nout == len(self.pub_outs) and not ctx.pending:
            self._maybe_close(ctx)
        return True

    def _send(self, ev: Any, rule: _Rule, b: Mapping[str, Any], found: list[Finding]) -> list[Finding]:
        ctx = self._get(ev.run, rule, b, ev, True)
        assert ctx is not None
        ctx.events += 1
        ctx.last_line = ev.line
        sender = ev.sender
        if sender != rule.sender:
            found.append(finding("ROL001", f"{rule.name} is sent by {rule.sender}, not {sender}",
                                 expected=f"sender {rule.sender}", **_where(ev, ctx.label, rule.qname, sender)))
            if sender not in self.roles:
                sender = rule.sender
        recips = ev.recipients
        if recips and not (recips[0] in rule.recip_set if len(recips) == 1 == len(rule.recipients)
                           else len(recips) == len(rule.recipients) and frozenset(recips) == rule.recip_set):
            found.append(finding("ROL002", f"{rule.name} goes to {', '.join(rule.recipients)}, "
                                 f"not {', '.join(recips)}", expected="recipients " + ", ".join(rule.recipients),
                                 **_where(ev, ctx.label, rule.qname, sender)))
        if ctx.agents or ev.agent is not None:
            self._check_role(ev, rule, ctx, sender, found)
        prev = ctx.sent.get(rule.name)
        if prev is not None:
            if _same(prev.bindings, b):
                found.append(finding("DUP001", f"{rule.name} sent again with the same bindings "
                                     f"(first at line {prev.line})", expected="one " + rule.name
                                     + " per enactment", **_where(ev, ctx.label, rule.qname, sender)))
                if prev.pending is not None:
                    for r in prev.pending:
                        prev.pending[r] += 1
                        ctx.pending += 1
            else:
                now, before = _differences(prev.bindings, b)
                found.append(finding("DUP002", f"{rule.name} sent again with different {now}"
                                     f" (first at line {prev.line})", expected=before,
                                     **_where(ev, ctx.label, rule.qname, sender)))
            return found
        know = ctx.know.get(sender)
        if know is None:
            know = ctx.know[sender] = set()
        # causality: every `in` parameter known, with the same value
        unknown: list[str] = []
        for p in rule.ins:
            if p in know:
                holder: Context | None = ctx
            elif ctx.parents:
                holder = ctx.knows(sender, p)
            else:
                holder = None
            v = b.get(p, _MISSING)
            if holder is None:
                unknown.append(p)
                bound = ctx.value(p)
                if bound is not _MISSING and v is not _MISSING and bound != v:
                    found.append(finding("INT003", f"{p}={_show(v)} conflicts with {p}={_show(bound)} "
                                         f"bound by {ctx.bound_by.get(p, ('?', 0))[0]} (line "
                                         f"{ctx.bound_by.get(p, ('?', 0))[1]})", expected=f"{p}={_show(bound)}",
                                         **_where(ev, ctx.label, rule.qname, sender)))
            elif v is not _MISSING:
                known = ctx.values[p] if holder is ctx and p in ctx.values else holder.value(p)
                if known != v:
                    found.append(finding("CAU002", f"{sender} sent {p}={_show(v)} but knew {p}={_show(known)}",
                                         expected=f"{p}={_show(known)}", **_where(ev, ctx.label, rule.qname, sender)))
        if unknown:
            fresh = ctx.events == 1 and not ctx.sent
            why = (f"; no earlier message of enactment {ctx.label} is in the log" if fresh else "")
            found.insert(0, finding("CAU001", f"{sender} sent {rule.name} without knowing "
                                    f"{', '.join(unknown)}{why}",
                                    expected=self._expected(ctx, sender) if not fresh else
                                    "a message that binds " + ", ".join(unknown) + " first: " +
                                    "; ".join(dict.fromkeys(f"{m.sender}: {m.name}" for p in unknown
                                                            for m in self.protocol.binders(p))),
                                    **_where(ev, ctx.label, rule.qname, sender)))
        for p in rule.outs:
            if p in know or (ctx.parents and ctx.knows(sender, p) is not None):
                found.append(finding("INT001", f"{sender} binds {p} again: it already knows "
                                     f"{p}={_show(ctx.value(p))}",
                                     expected=self._expected(ctx, sender),
                                     **_where(ev, ctx.label, rule.qname, sender)))
            elif p in ctx.values:
                by = ctx.bound_by.get(p, ("?", 0))
                found.append(finding("INT001", f"{p} is already bound to {_show(ctx.values[p])} by {by[0]} "
                                     f"(line {by[1]}); {sender} binds it again (unsafe)",
                                     expected=f"no second binding of {p}",
                                     **_where(ev, ctx.label, rule.qname, sender)))
        for p in rule.nils:
            if p in know or (ctx.parents and ctx.knows(sender, p) is not None):
                found.append(finding("INT002", f"{sender} sent {rule.name} knowing {p}, which it declares nil",
                                     expected=self._expected(ctx, sender),
                                     **_where(ev, ctx.label, rule.qname, sender)))
        # update: first binding wins
        values = ctx.values
        new: list[str] = []
        for p in rule.carried:
            if p in b and p not in values:
                values[p] = b[p]
                ctx.bound_by[p] = (rule.name, ev.line)
                new.append(p)
                if p in self.pub_outs:
                    ctx.nout += 1
        carried = rule.carried_set if not found or all(p in b for p in rule.carried) else \
            frozenset(p for p in rule.carried if p in b)
        know.update(carried)
        recipients = recips if recips else rule.recipients
        if self.delivery == "send":
            pending = None
            for r in recipients:
                k = ctx.know.get(r)
                if k is None:
                    ctx.know[r] = set(carried)
                else:
                    k.update(carried)
        else:
            pending = {r: 1 for r in recipients}
            ctx.pending += len(pending)
        ctx.sent[rule.name] = _Sent(b, ev.line, ev.source, sender, pending, tuple(new))
        if ctx.nout == len(self.pub_outs) and not ctx.pending:
            self._maybe_close(ctx)
        return found

    def _receive(self, ev: Any, rule: _Rule, b: Mapping[str, Any], found: list[Finding]) -> list[Finding]:
        if self.delivery == "send":
            # Recipients learnt at send time. A receipt whose send is not in the log (a log
            # written from one agent's view, e.g. Ahoy) stands for that send.
            seen = self._get(ev.run, rule, b, ev, False)
            if seen is None or rule.name not in seen.sent:
                if seen is not None and ev.sender in self.roles:
                    # The sender is not the logging agent: it may have learnt an `in`
                    # parameter from messages between other roles, which this log cannot
                    # show. A value already bound in the enactment, and carried unchanged,
                    # counts as known; an unbound one is still a CAU001.
                    know = seen.know.setdefault(ev.sender, set())
                    for p in rule.ins:
                        if p not in know and p in seen.values and b.get(p, _MISSING) == seen.values[p] \
                                and seen.knows(ev.sender, p) is None:
                            know.add(p)
                return self._send(SimpleNamespace(kind="send", message=ev.message, sender=ev.sender,
                                                  recipients=ev.recipients, bindings=b, source=ev.source,
                                                  line=ev.line, run=ev.run, agent=None,
                                                  protocol=ev.protocol), rule, b, found)
        ctx = self._get(ev.run, rule, b, ev, True)
        assert ctx is not None
        ctx.events += 1
        ctx.last_line = ev.line
        recips = ev.recipients or rule.recipients
        role = recips[0] if len(recips) == 1 else None
        sent = ctx.sent.get(rule.name)
        if sent is None:
            found.append(finding("DEL002", f"{', '.join(recips)} received {rule.name} that no one sent "
                                 "(forged)", expected=self._expected_any(ctx),
                                 **_where(ev, ctx.label, rule.qname, role)))
        else:
            if not _same(sent.bindings, b):
                now, before = _differences(sent.bindings, b)
                found.append(finding("DEL005", f"received {rule.name} with {now}"
                                     f" but line {sent.line} sent other values", expected=before,
                                     **_where(ev, ctx.label, rule.qname, role)))
            for r in recips:
                if r not in rule.recip_set:
                    found.append(finding("ROL002", f"{r} received {rule.name}, which goes to "
                                         f"{', '.join(rule.recipients)}",
                                         expected="recipients " + ", ".join(rule.recipients),
                                         **_where(ev, ctx.label, rule.qname, r)))
                    continue
                if sent.pending is not None:
                    n = sent.pending.get(r, 0)
                    if n <= 0:
                        found.append(finding("DEL002", f"{r} received {rule.name} more often than it was sent",
                                             expected=f"one receipt per send (sent at line {sent.line})",
                                             **_where(ev, ctx.label, rule.qname, r)))
                    else:
                        sent.pending[r] = n - 1
                        ctx.pending -= 1
        if ev.agent is not None and role is not None:
            self._check_role(ev, rule, ctx, role, found)
        for r in recips:
            if r not in self.roles:
                continue
            k = ctx.know.get(r)
            if k is None:
                k = ctx.know[r] = set()
            for p in rule.carried:
                if p in b:
                    k.add(p)
                    if p not in ctx.values:
                        ctx.values[p] = b[p]
                        ctx.bound_by[p] = (rule.name, ev.line)
                        if p in self.pub_outs:
                            ctx.nout += 1
        if ctx.nout == len(self.pub_outs) and not ctx.pending:
            self._maybe_close(ctx)
        return found

    def _reject(self, ev: Any, rule: _Rule, b: Mapping[str, Any], found: list[Finding]) -> list[Finding]:
        ctx = self._get(ev.run, rule, b, ev, False)
        label = ctx.label if ctx is not None else None  # noqa
        code = "DEL003" if ev.kind == "reject" else "DEL004"
        what = "rejected" if ev.kind == "reject" else "dropped"
        found.append(finding(code, f"{rule.name} {what}" + (f": {ev.reason}" if ev.reason else ""),
                             expected=f"{rule.name} delivered to {', '.join(rule.recipients)}",
                             **_where(ev, label, rule.qname, ev.sender)))
        if ctx is None:
            return found
        ctx.events += 1
        sent = ctx.sent.get(rule.name)
        if sent is not None and _same(sent.bindings, b):
            delivered = sent.pending is None or any(v < 1 for v in sent.pending.values())
            if sent.pending is not None:
                ctx.pending -= sum(sent.pending.values())
                sent.pending = {r: 0 for r in sent.pending}
            if not delivered:  # never left: undo what it bound
                del ctx.sent[rule.name]
                for p in sent.new:
                    ctx.values.pop(p, None)
                    ctx.bound_by.pop(p, None)
                    if p in self.pub_outs:
                        ctx.nout -= 1
                    for k in ctx.know.values():
                        k.discard(p)
        return found

    # ---------------------------------------------------------------- decisions
    def _decision(self, ev: Any) -> list[Finding]:
        d = ev.decision or {}
        agent = d.get("agent") or ev.agent
        role = d.get("role") or ev.sender
        options = d.get("options") or []
        found: list[Finding] = []
        where = dict(source=ev.source, line=ev.line, run=ev.run, enactment=None, message=ev.message,
                     role=role, agent=agent)
        akey = (ev.run, agent)
        if self._last_error.get(akey) or (isinstance(d.get("attempt"), int) and d["attempt"] > 1):
            found.append(finding("DEC006", f"decision by {agent} is a retry after a rejected reply", **where))
        self._last_error[akey] = bool(d.get("error"))
        offered = "; ".join(_option_text(o) for o in options) or "no options"
        raw, parsed = d.get("raw"), d.get("parsed")
        if parsed is None and raw is not None:
            found.append(finding("DEC001", "LLM reply is not valid JSON"
                                 + (f": {d['error']}" if d.get("error") else ""),
                                 expected='a JSON object {"choice": N, "params": {...}}', **where))
            return found
        choice = d.get("choice")
        if choice is None:
            if options and not d.get("error"):
                found.append(finding("DEC005", f"{agent} declined although {len(options)} option"
                                     f"{'s were' if len(options) > 1 else ' was'} available",
                                     expected=offered, **where))
            return found
        opt = None
        if isinstance(choice, int) and not isinstance(choice, bool):
            for i, o in enumerate(options, 1):
                if o.get("number", i) == choice:
                    opt = o
                    break
        if opt is None:
            if options or isinstance(choice, bool) or not isinstance(choice, int):
                found.append(finding("DEC002", f"choice {choice!r} is not an offered option",
                                     expected=offered, **where))
            return found
        rule = self._by_name.get(opt.get("message"))
        bound = opt.get("bound") or {}
        fill = list(opt.get("fill") or [])
        params = d.get("params") or {}
        if isinstance(params, dict):
            extra = [p for p in params if p not in fill]
            if extra:
                found.append(finding("DEC004", f"params name {', '.join(extra)}, which option {choice} "
                                     f"({opt.get('message')}) does not fill",
                                     expected="fill only: " + (", ".join(fill) or "nothing"), **where))
        if rule is not None and role in self.roles:
            keys = {k: bound[k] for k in rule.keys if k in bound}
            if not rule.in_keys <= keys.keys():
                # The option does not say which enactment (its BOUND values are missing,
                # e.g. an extraction that dropped them): it was enabled if it is enabled
                # for the role in some open enactment of the run.
                if rule.in_keys and any(rule.qname in {e.message for e in self._enabled_in(c, role)}
                                        for c in self.open.values() if c.run == ev.run):
                    return found
            ctx = self.context(ev.run, keys) if len(keys) == len(rule.keys) else None
            en = self.enabled(ev.run, ctx if ctx is not None else (keys or None), role)
            names = {e.message for e in en}
            if rule.qname not in names:
                where["enactment"] = ctx.label if ctx is not None else None
                found.append(finding("DEC003", f"{agent} chose {rule.name}, which {role} could not send then",
                                     expected="; ".join(e.describe() for e in en) or "nothing enabled",
                                     **where))
        return found

    # ---------------------------------------------------------------- end
    def _expected(self, ctx: Context, role: str) -> str:
        en = self._enabled_in(ctx, role)
        return ("enabled for " + role + ": " + "; ".join(e.describe() for e in en)) if en \
            else f"nothing enabled for {role}"

    def _expected_any(self, ctx: Context) -> str:
        en = [e for r in self.protocol.roles for e in self._enabled_in(ctx, r)]
        return ("enabled: " + "; ".join(e.describe() for e in en)) if en else "nothing enabled"

    def _bound_all(self, ctx: Context) -> set[str]:
        seen: set[str] = set()
        stack = [ctx]
        ids: set[int] = set()
        while stack:
            c = stack.pop()
            if id(c) in ids:
                continue
            ids.add(id(c))
            seen.update(c.values)
            stack.extend(c.children)
            stack.extend(c.parents)
        return seen

    def _maybe_close(self, ctx: Context) -> None:
        """Retire a complete, quiescent enactment (nothing enabled, nothing in flight)."""
        if self.multikey or ctx.closed:
            return
        know, bound, sent = ctx.know, ctx.values.keys(), ctx.sent
        for name, sender, ins, outs_nils, outs in self._quiet:
            if name in sent:
                continue
            k = know.get(sender)
            if k is None:
                if not ins:
                    return
                continue
            if ins <= k and k.isdisjoint(outs_nils) and bound.isdisjoint(outs):
                return
        key = (ctx.run, ctx.keys, ctx.kv)
        if self.open.pop(key, None) is None:
            return
        ctx.closed = True
        self.complete_count += 1
        if self.on_status is not None:
            self.on_status(EnactmentStatus(ctx.run, ctx.label, "complete", ctx.source, ctx.first_line,
                                           ctx.last_line, ctx.events))
        if self.keep_closed > 0:
            self.closed[key] = ctx
            if len(self.closed) > self.keep_closed:
                self.closed.popitem(last=False)

    def finish(self) -> list[Finding]:
        """End of the log: receipts still expected, and every enactment left incomplete."""
        found: list[Finding] = []
        for ctx in list(self.open.values()) + list(self.closed.values()):
            if ctx.pending:
                for name, s in ctx.sent.items():
                    if s.pending:
                        for r, n in s.pending.items():
                            if n > 0:
                                found.append(finding("DEL001", f"{name} sent to {r} was never received",
                                                     expected=f"a receive of {name} by {r}",
                                                     source=s.source, line=s.line, run=ctx.run,
                                                     enactment=ctx.label,
                                                     message=f"{self.protocol.name}/{name}", role=s.role))
        for ctx in list(self.open.values()):
            if ctx.parents:  # judged with its root
                continue
            bound = self._bound_all(ctx) if ctx.children else ctx.values
            missing = tuple(p for p in self.protocol.outs if p not in bound)
            if not missing:
                self.complete_count += 1
                status = "complete"
            else:
                en = [e for r in self.protocol.roles for e in self._enabled_in(ctx, r)]
                for ch in ctx.children:
                    en.extend(e for r in self.protocol.roles for e in self._enabled_in(ch, r))
                self.incomplete_count += 1
                where = dict(source=ctx.source, line=ctx.last_line, run=ctx.run, enactment=ctx.label)
                if en:
                    status = "stalled"
                    found.append(finding("CMP001", f"incomplete at end of log: {', '.join(missing)} "
                                         "unbound; stalled with messages still enabled",
                                         expected="; ".join(e.describe() for e in en), **where))
                else:
                    status = "deadlock"
                    found.append(finding("CMP002", f"incomplete at end of log: {', '.join(missing)} "
                                         "unbound and no role can send anything (deadlock)",
                                         expected="bindings of " + ", ".join(missing), **where))
            if self.on_status is not None:
                self.on_status(EnactmentStatus(ctx.run, ctx.label, status, ctx.source, ctx.first_line,
                                               ctx.last_line, ctx.events, missing))
        return found


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, str]:
    """The parameters whose values differ, shown as `p=v, …` with the new and the old values."""
    diff = [p for p in sorted(set(new) | set(old)) if old.get(p, _MISSING) != new.get(p, _MISSING)]
    return (", ".join(f"{p}={_show(new.get(p))}" for p in diff),
            ", ".join(f"{p}={_show(old.get(p))}" for p in diff))


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a is b or a == b


def _option_text(o: Mapping[str, Any]) -> str:
    n = o.get("number")
    bound = o.get("bound") or {}
    fill = o.get("fill") or []
    return (f"{n}) " if n is not None else "") + f"{o.get('message')}" + \
        (f" [{', '.join(f'{k}={_show(v)}' for k, v in bound.items())}]" if bound else "") + \
        (f" fill {', '.join(fill)}" if fill else "")


def _where(ev: Any, enactment: str | None, message: str | None = None, role: str | None = None) -> dict[str, Any]:
    return dict(source=ev.source, line=ev.line, run=ev.run, enactment=enactment,
                message=message if message is not None else ev.message,
                role=role if role is not None else ev.sender, agent=ev.agent)
