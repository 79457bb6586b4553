"""The judgement of one send, receive, reject or drop: record shape, roles, duplicates,
causality (the key-context rule), integrity, and the knowledge the event adds.

Causality is `protoverify.enactment`'s rule on bindings: the sender may use, for
message m, what it observed in the contexts linked to m's key bindings (`_knowledge`);
the Monitor adds its own value checks: every carried `in` value is one the sender
saw (CAU002) and agrees with the value bound in m's enactment (INT003).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any

from ..findings import Finding, finding
from .compiled import MessageRule
from .context import MISSING, Context, Knowledge, Sent, show
from .state import MonitorState
from .wording import differences, same, where


class Judge(MonitorState):
    """Mixin of `Monitor`: the event checks and the state they update."""

    # ---------------------------------------------------------------- knowledge
    def _knowledge(self, run: Any, role: str, seed: Mapping[str, Any], ctx: Context | None,
                   arriving: bool = False) -> Knowledge:
        """What `role` knows for a message with key bindings `seed` (FRESH for an out key
        not yet bound) whose own context is `ctx` (None: not created yet); `arriving`:
        the message also has an `in` key whose value is still to arrive as an input."""
        if self.index is None or not self.keyparams:
            # one key set (or none): the linked observations are those of the message's own context
            ctxs = [ctx] if ctx is not None and role in ctx.know else []
        else:
            ctxs = self.index.linked(run, role, seed)
        inputs: frozenset[str] = frozenset()
        if role in self.input_roles:
            if arriving or not self.keyparams \
                    or any(k in self.pub_in_keys and v is not MISSING for k, v in seed.items()) \
                    or any(not self.pub_in_keys.isdisjoint(c.know[role]) for c in ctxs):
                inputs = self.pub_ins
        return Knowledge(role, ctxs, inputs)

    def _enactment(self, run: Any, seed: Mapping[str, Any], ctx: Context | None) -> list[Context]:
        """The contexts of the enactment of a message with key bindings `seed`, where its
        `out` parameters must not be bound yet: its own context, or with several key sets
        every context linked to it by key bindings (whoever observed them)."""
        if self.index is not None and self.multikey:
            return self.index.enactment(run, seed)
        return [ctx] if ctx is not None else []

    def _learn(self, ctx: Context, role: str, params: Iterable[str]) -> None:
        """`role` observed `params` in `ctx` (their values are already in ctx.values)."""
        k = ctx.know.get(role)
        if k is None:
            k = ctx.know[role] = set()
        k.update(params)
        if self.index is not None:
            self.index.learn(ctx, role, params)

    # ---------------------------------------------------------------- record and roles
    def _record(self, ev: Any, rule: MessageRule, b: Mapping[str, Any]) -> list[Finding]:
        out: list[Finding] = []
        at = where(ev, None, rule.qname)
        for p in b:
            if p not in rule.params:
                out.append(finding("REC004", f"{rule.name} has no parameter {p!r}",
                                   expected="parameters: " + ", ".join(rule.carried), **at))
            elif p in rule.nils:
                out.append(finding("REC006", f"{rule.name} declares {p!r} nil but carries {p}={show(b[p])}",
                                   expected=f"no value for {p}", **at))
        missing = [p for p in rule.carried if p not in b]
        if missing:
            keys = [p for p in missing if p in rule.keyset]
            out.append(finding("REC005", f"{rule.name} lacks parameter{'s' if len(missing) > 1 else ''} "
                               + ", ".join(missing)
                               + (" (key: the enactment cannot be identified)" if keys else ""),
                               expected="parameters: " + ", ".join(rule.carried), **at))
        return out

    def _check_role(self, ev: Any, rule: MessageRule, ctx: Context, role: str | None,
                    found: list[Finding]) -> None:
        agent = ev.agent
        if agent is None or role is None:
            return
        prev = ctx.agents.get(agent)
        if prev is None:
            ctx.agents[agent] = role
        elif prev != role:
            found.append(finding("ROL003", f"agent {agent!r} acts as {role} but already acted as {prev} "
                                 "in this enactment", expected=f"{agent} plays {prev} only",
                                 **where(ev, ctx.label, rule.qname, role)))

    # ---------------------------------------------------------------- send
    def _send(self, ev: Any, rule: MessageRule, b: Mapping[str, Any], found: list[Finding]) -> list[Finding]:
        ctx = self._get(ev.run, rule, b, ev, True)
        assert ctx is not None
        ctx.events += 1
        ctx.last_line = ev.line
        sender = ev.sender
        if sender != rule.sender:
            found.append(finding("ROL001", f"{rule.name} is sent by {rule.sender}, not {sender}",
                                 expected=f"sender {rule.sender}", **where(ev, ctx.label, rule.qname, sender)))
            if sender not in self.roles:
                sender = rule.sender
        recips = ev.recipients
        if recips and not (recips[0] in rule.recip_set if len(recips) == 1 == len(rule.recipients)
                           else len(recips) == len(rule.recipients) and frozenset(recips) == rule.recip_set):
            found.append(finding("ROL002", f"{rule.name} goes to {', '.join(rule.recipients)}, "
                                 f"not {', '.join(recips)}", expected="recipients " + ", ".join(rule.recipients),
                                 **where(ev, ctx.label, rule.qname, sender)))
        if ctx.agents or ev.agent is not None:
            self._check_role(ev, rule, ctx, sender, found)
        prev = ctx.sent.get(rule.name)
        if prev is not None:
            if same(prev.bindings, b):
                found.append(finding("DUP001", f"{rule.name} sent again with the same bindings "
                                     f"(first at line {prev.line})", expected="one " + rule.name
                                     + " per enactment", **where(ev, ctx.label, rule.qname, sender)))
                if prev.pending is not None:
                    for r in prev.pending:
                        prev.pending[r] += 1
                        ctx.pending += 1
            else:
                now, before = differences(prev.bindings, b)
                found.append(finding("DUP002", f"{rule.name} sent again with different {now}"
                                     f" (first at line {prev.line})", expected=before,
                                     **where(ev, ctx.label, rule.qname, sender)))
            return found
        seed = {k: b[k] for k in rule.keys}
        kn = self._knowledge(ev.run, sender, seed, ctx)
        # causality: every `in` parameter known in m's key context, with a value the sender saw
        unknown: list[str] = []
        for p in rule.ins:
            v = b.get(p, MISSING)
            bound = ctx.value(p)
            if not kn.has(p):
                unknown.append(p)
            elif v is not MISSING:
                vals = kn.values(p)
                if vals and v not in vals:
                    knew = bound if bound is not MISSING and bound in vals else vals[0]
                    found.append(finding("CAU002", f"{sender} sent {p}={show(v)} but knew {p}={show(knew)}",
                                         expected=f"{p}={show(knew)}", **where(ev, ctx.label, rule.qname, sender)))
                    continue
            if bound is not MISSING and v is not MISSING and bound != v:
                by = ctx.bound_by.get(p, ("?", 0))
                found.append(finding("INT003", f"{p}={show(v)} conflicts with {p}={show(bound)} "
                                     f"bound by {by[0]} (line {by[1]})", expected=f"{p}={show(bound)}",
                                     **where(ev, ctx.label, rule.qname, sender)))
        if unknown:
            fresh = ctx.events == 1 and not ctx.sent
            why = (f"; no earlier message of enactment {ctx.label} is in the log" if fresh else "")
            found.insert(0, finding("CAU001", f"{sender} sent {rule.name} without knowing "
                                    f"{', '.join(unknown)}{why}",
                                    expected=self._expected(ctx, sender) if not fresh else
                                    "a message that binds " + ", ".join(unknown) + " first: " +
                                    "; ".join(dict.fromkeys(f"{m.sender}: {m.name}" for p in unknown
                                                            for m in self.protocol.binders(p))),
                                    **where(ev, ctx.label, rule.qname, sender)))
        scope: list[Context] | None = None
        for p in rule.outs:
            holder = None
            knows = kn.has(p)
            if not knows:
                if scope is None:
                    scope = self._enactment(ev.run, seed, ctx)
                holder = next((c for c in scope if p in c.values), None)
            if knows:
                vals = kn.values(p)
                found.append(finding("INT001", f"{sender} binds {p} again: it already knows "
                                     f"{p}={show(vals[0] if vals else ctx.value(p))}",
                                     expected=self._expected(ctx, sender),
                                     **where(ev, ctx.label, rule.qname, sender)))
            elif holder is not None:
                by = holder.bound_by.get(p, ("?", 0))
                found.append(finding("INT001", f"{p} is already bound to {show(holder.values[p])} by {by[0]} "
                                     f"(line {by[1]}); {sender} binds it again (unsafe)",
                                     expected=f"no second binding of {p}",
                                     **where(ev, ctx.label, rule.qname, sender)))
        for p in rule.nils:
            if kn.has(p):
                found.append(finding("INT002", f"{sender} sent {rule.name} knowing {p}, which it declares nil",
                                     expected=self._expected(ctx, sender),
                                     **where(ev, ctx.label, rule.qname, sender)))
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
        self._learn(ctx, sender, carried)
        recipients = recips if recips else rule.recipients
        if self.delivery == "send":
            pending = None
            for r in recipients:
                self._learn(ctx, r, carried)
        else:
            pending = {r: 1 for r in recipients}
            ctx.pending += len(pending)
        ctx.sent[rule.name] = Sent(b, ev.line, ev.source, sender, pending, tuple(new))
        if ctx.nout == len(self.pub_outs) and not ctx.pending:
            self._maybe_close(ctx)
        return found

    # ---------------------------------------------------------------- receive
    def _receive(self, ev: Any, rule: MessageRule, b: Mapping[str, Any],
                 found: list[Finding]) -> list[Finding]:
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
                    kn = self._knowledge(ev.run, ev.sender, {k: b[k] for k in rule.keys}, seen)
                    grant = [p for p in rule.ins if p in seen.values and b.get(p, MISSING) == seen.values[p]
                             and not kn.has(p)]
                    if grant:
                        self._learn(seen, ev.sender, grant)
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
                                 **where(ev, ctx.label, rule.qname, role)))
        else:
            if not same(sent.bindings, b):
                now, before = differences(sent.bindings, b)
                found.append(finding("DEL005", f"received {rule.name} with {now}"
                                     f" but line {sent.line} sent other values", expected=before,
                                     **where(ev, ctx.label, rule.qname, role)))
            for r in recips:
                if r not in rule.recip_set:
                    found.append(finding("ROL002", f"{r} received {rule.name}, which goes to "
                                         f"{', '.join(rule.recipients)}",
                                         expected="recipients " + ", ".join(rule.recipients),
                                         **where(ev, ctx.label, rule.qname, r)))
                    continue
                if sent.pending is not None:
                    n = sent.pending.get(r, 0)
                    if n <= 0:
                        found.append(finding("DEL002", f"{r} received {rule.name} more often than it was sent",
                                             expected=f"one receipt per send (sent at line {sent.line})",
                                             **where(ev, ctx.label, rule.qname, r)))
                    else:
                        sent.pending[r] = n - 1
                        ctx.pending -= 1
        if ev.agent is not None and role is not None:
            self._check_role(ev, rule, ctx, role, found)
        carried = [p for p in rule.carried if p in b]
        for p in carried:
            if p not in ctx.values:
                ctx.values[p] = b[p]
                ctx.bound_by[p] = (rule.name, ev.line)
                if p in self.pub_outs:
                    ctx.nout += 1
        for r in recips:
            if r in self.roles:
                self._learn(ctx, r, carried)
        if ctx.nout == len(self.pub_outs) and not ctx.pending:
            self._maybe_close(ctx)
        return found

    # ---------------------------------------------------------------- reject, drop
    def _reject(self, ev: Any, rule: MessageRule, b: Mapping[str, Any],
                found: list[Finding]) -> list[Finding]:
        ctx = self._get(ev.run, rule, b, ev, False)
        label = ctx.label if ctx is not None else None
        code = "DEL003" if ev.kind == "reject" else "DEL004"
        what = "rejected" if ev.kind == "reject" else "dropped"
        found.append(finding(code, f"{rule.name} {what}" + (f": {ev.reason}" if ev.reason else ""),
                             expected=f"{rule.name} delivered to {', '.join(rule.recipients)}",
                             **where(ev, label, rule.qname, ev.sender)))
        if ctx is None:
            return found
        ctx.events += 1
        sent = ctx.sent.get(rule.name)
        if sent is not None and same(sent.bindings, b):
            delivered = sent.pending is None or any(v < 1 for v in sent.pending.values())
            if sent.pending is not None:
                ctx.pending -= sum(sent.pending.values())
                sent.pending = {r: 0 for r in sent.pending}
            if not delivered:  # never left: undo what it bound
                del ctx.sent[rule.name]
                if self.index is not None:
                    self.index.forget(ctx, sent.new)
                for p in sent.new:
                    ctx.values.pop(p, None)
                    ctx.bound_by.pop(p, None)
                    if p in self.pub_outs:
                        ctx.nout -= 1
                    for k in ctx.know.values():
                        k.discard(p)
        return found
