"""The Monitor: per-enactment knowledge of each role, and the send/receive rules.

One object, three users: the auditor (offline, `apply` over a log), the
exchange's policy engine (online: `check`/`enabled` before delivery) and the
simulator that generates conformant enactments (`enabled`). It does no I/O and
prints nothing.

Model (docs/semantics.md, "Key contexts"; the rule itself is `protoverify.enactment`):

* An enactment context is identified, within one run, by the key parameters a
  message carries and their values (`context.Context`): duplicates, integrity,
  completion and closing are judged there.
* What role r may use for message m is what r observed (sent or received, in any
  context of the run) *linked* to m's key bindings through shared key bindings,
  transitively (`context.BindingIndex`), plus the public `in` parameters when their
  arrival is linked (an `in` key among m's linked bindings).
* r may send m when it knows every `in` of m and none of its `out`/`nil`
  parameters there; every carried value must agree with what is known.
* Delivery: with ``delivery="send"`` recipients learn at send time (a log with
  no receipts); with ``delivery="receive"`` only at the `receive` event.

Where things live: `judge.py` (send/receive/reject checks), `fastpath.py` (the
plain-send fast path), `decisions.py` (LLM decision events), `context.py`
(contexts and the binding index), `compiled.py` (messages compiled once).
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any, Literal

from ..bspl.compose import FlatProtocol
from ..enactment import input_roles, is_enabled, key_parameters, shapes
from ..findings import Finding, finding
from .compiled import MessageRule
from .context import FRESH, MISSING, BindingIndex, Context, hashable
from .decisions import DecisionChecks
from .fastpath import FastPath
from .judge import Judge
from .retire import Retirement
from .wording import where

Delivery = Literal["send", "receive"]

__all__ = ["Context", "Delivery", "Enabled", "EnactmentStatus", "Monitor"]


@dataclass(frozen=True, slots=True)
class Enabled:
    """A message `role` may send now: the values it would carry for its `in`
    parameters (`bound`), the `out` parameters it would have to fill, and the
    public `in` parameters whose values arrive from the enclosing enactment
    (`inputs`: known to the role, but no message of the log has shown them yet)."""

    message: str
    role: str
    recipients: tuple[str, ...]
    bound: dict[str, Any]
    fill: tuple[str, ...]
    inputs: tuple[str, ...] = ()

    def describe(self) -> str:
        b = ", ".join([f"{k}={v!r}" for k, v in self.bound.items()] + [f"{p} (input)" for p in self.inputs])
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


class Monitor(Judge, FastPath, DecisionChecks):
    """Replays events of one protocol, enactment by enactment.

    `apply(event) -> list[Finding]` checks one event and updates the state;
    `finish() -> list[Finding]` reports what is left open at the end of the log;
    `enabled(run, enactment, role)` lists what a role may send now.
    `keep_closed` bounds how many closed (complete, quiescent) enactments are
    remembered for late duplicates; open ones are all kept. `retire_after` (multi-key
    protocols, whose enactments can always receive another sub-enactment and so never
    close): retire a complete enactment after that many events without one of its
    own, and report a later message of it as CMP003 for `forget_after` more events
    (`retire.py`; None: never retire; default forget: 10 horizons, at least 100,000).
    `fast_path=False` turns off the plain-send fast path and the one-key-set shortcut
    for knowledge (same results, slower: for tests).
    """

    def __init__(self, protocol: FlatProtocol, delivery: Delivery = "send",
                 keep_closed: int = 10000,
                 on_status: Callable[[EnactmentStatus], None] | None = None,
                 fast_path: bool = True, retire_after: int | None = None,
                 forget_after: int | None = None) -> None:
        self.protocol = protocol
        self.delivery: Delivery = delivery
        self.keep_closed = keep_closed
        self.on_status = on_status
        self.fast_path = fast_path
        self.pub_outs = frozenset(protocol.outs)
        self.pub_ins = frozenset(protocol.ins)
        self.roles = frozenset(protocol.roles)
        self.keyparams = key_parameters(protocol)
        self.pub_in_keys = self.pub_ins & self.keyparams
        self.input_roles = input_roles(protocol)
        keysets = {tuple(m.keys) for m in protocol.messages}
        rules: list[MessageRule] = []
        for m, shape in zip(protocol.messages, shapes(protocol), strict=True):
            ks = frozenset(m.keys)
            anc = tuple(sorted((tuple(k for k in protocol.keys if k in other) for other in keysets
                                if frozenset(other) < ks), key=len))
            rules.append(MessageRule(m, shape, protocol, anc, self.pub_outs))
        self.rules = tuple(rules)
        #: messages carry different key sets: contexts are linked, knowledge needs the index
        self.multikey = any(r.ancestors for r in rules) or len({r.keyset for r in rules}) > 1 \
            or any(r.links != r.keyset for r in rules)
        #: a role's linked observations are those of the message's own context
        one_context = not self.multikey and not (self.keyparams and any(not r.keys for r in rules))
        self.index: BindingIndex | None = None if (fast_path and one_context) else \
            BindingIndex(self.keyparams, families=self.multikey)
        #: the plain-send fast path applies (no arrival of inputs to account for either)
        self._plain = fast_path and one_context and not self.input_roles
        #: (message, key): some observation carries the key without another key of the message,
        #: so the key's values seen anywhere in the run may combine with the enactment's
        self._cross = frozenset((r.name, k) for r in rules for k in r.keys
                                if any(k in o.links and not (r.keyset - {k}) <= o.links for o in rules))
        self._by_sender: dict[str, tuple[MessageRule, ...]] = {
            role: tuple(r for r in rules if r.sender == role) for role in {r.sender for r in rules}}
        #: per rule, what `_maybe_close` tests (run once per complete enactment)
        self._quiet = tuple((r.name, r.sender, r.ins_set, r.outs_nils, r.outs) for r in rules)
        self._by_name: dict[str, MessageRule] = {}
        for r in rules:
            self._by_name[r.name] = r
            self._by_name[r.qname] = r
        for r in rules:  # unique local names (`Wrap` for `Pack/Wrap`) as well
            if r.msg.local and r.msg.local not in self._by_name:
                if sum(1 for o in rules if o.msg.local == r.msg.local) == 1:
                    self._by_name[r.msg.local] = r
                    self._by_name[f"{protocol.name}/{r.msg.local}"] = r
        self.open: dict[tuple[Any, ...], Context] = {}
        self.closed: OrderedDict[tuple[Any, ...], Context] = OrderedDict()
        self.complete_count = 0
        self.incomplete_count = 0
        self._last_error: dict[tuple[str | None, str | None], bool] = {}
        self._streak: dict[tuple[str | None, str | None, str | None], tuple[str, int]] = {}
        #: the retirement of idle complete multi-key enactments (None: off)
        self.retirement: Retirement | None = Retirement(self, retire_after, forget_after) \
            if retire_after is not None and self.multikey and self.index is not None else None

    # ---------------------------------------------------------------- lookup
    def rule(self, name: str | None) -> MessageRule | None:
        return self._by_name.get(name) if name is not None else None

    def _ctx_key(self, run: str | None, keys: tuple[str, ...], b: Mapping[str, Any]) -> tuple[Any, ...]:
        if len(keys) == 1:
            kv: tuple[Any, ...] = (b[keys[0]],)
        else:
            kv = tuple([b[k] for k in keys])
        try:
            hash(kv)
        except TypeError:
            kv = tuple(hashable(b[k]) for k in keys)
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

    def enactment_of(self, ctx: Context) -> list[Context]:
        """Every context of the enactment `ctx` belongs to (contexts linked by key bindings)."""
        if self.index is None or not self.multikey:
            return [ctx]
        return self.index.members(ctx)

    def _get(self, run: str | None, rule: MessageRule, b: Mapping[str, Any], ev: Any,
             create: bool) -> Context | None:
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

    # ---------------------------------------------------------------- enabled
    def _offer(self, run: Any, role: str, r: MessageRule, seed: dict[str, Any], out: list[Enabled],
               home: Context | None = None, arriving: bool = False) -> None:
        """Append r to `out` if `role` may send it with key bindings `seed` (FRESH: to fill);
        `home`: the context asked about (which may be retired already); `arriving`: an
        `in` key of r is an input whose value no message showed yet (not in `seed`)."""
        mctx = None
        if not arriving and not any(v is FRESH for v in seed.values()):
            key = self._ctx_key(run, r.keys, seed)
            mctx = home if home is not None and key == (home.run, home.keys, home.kv) else \
                self.open.get(key) or self.closed.get(key)
        kn = self._knowledge(run, role, seed, mctx, arriving)
        if not is_enabled(r.shape, kn.names(), sent=mctx is not None and r.name in mctx.sent,
                          keys_bound=frozenset()):
            return
        if self.index is not None and self.multikey:
            scope = self.index.enactment(run, seed)
            if any(p in c.values for p in r.outs for c in scope):
                return  # another role bound it in this enactment: sending would be unsafe (INT001)
        elif mctx is not None and any(mctx.value(p) is not MISSING for p in r.outs):
            return
        bound: dict[str, Any] = {}
        inputs: list[str] = []
        for p in r.ins:
            if p in seed:
                bound[p] = seed[p]
                continue
            vals = kn.values(p)
            if not vals:
                inputs.append(p)
                continue
            pref = mctx.value(p) if mctx is not None else MISSING
            bound[p] = pref if pref is not MISSING and pref in vals else vals[0]
        if arriving and all(k in bound for k in r.keys if k not in r.outs):
            # the arriving key's value was known after all: judge the offer in the context
            # those values name, as `apply` would (no resend, no out bound there already)
            full = {**seed, **{k: bound[k] for k in r.keys if k in bound}}
            if not any(v is FRESH for v in full.values()) and all(k in full for k in r.keys):
                key = self._ctx_key(run, r.keys, full)
                mctx = self.open.get(key) or self.closed.get(key)
                if mctx is not None and r.name in mctx.sent:
                    return
            if self.index is not None and self.multikey and any(
                    p in c.values for p in r.outs for c in self.index.enactment(run, full)):
                return
        e = Enabled(r.qname, role, r.recipients, bound, r.outs, tuple(inputs))
        if e not in out:
            out.append(e)

    def _enabled_in(self, ctx: Context | None, role: str, run: Any = None) -> list[Enabled]:
        out: list[Enabled] = []
        rules = self._by_sender.get(role, ())
        if ctx is None:  # a new enactment: every key is fresh or an arriving input
            for r in rules:
                if any(k not in r.outs and k not in self.pub_in_keys for k in r.keys):
                    continue
                if not r.keys and self.keyparams:  # a keyless message: one context () per run
                    c = self.open.get((run, (), ())) or self.closed.get((run, (), ()))
                    if c is not None and r.name in c.sent:
                        continue
                inputs = self.pub_ins if role in self.input_roles and (
                    not self.keyparams or any(k in self.pub_in_keys for k in r.keys)) else frozenset()
                if is_enabled(r.shape, inputs, sent=False, keys_bound=frozenset()):
                    out.append(Enabled(r.qname, role, r.recipients, {}, r.outs, r.ins))
            return out
        here = {k: ctx.values.get(k, v) for k, v in zip(ctx.keys, ctx.kv, strict=False)}
        known = None
        for r in rules:
            if not r.keys:
                if not ctx.keys:
                    self._offer(ctx.run, role, r, {}, out, ctx)
                continue
            fixed: dict[str, Any] = {}
            choose: list[tuple[str, list[Any]]] = []
            ok, linked, arriving = True, False, False
            for k in r.keys:
                if k in here:
                    if k in r.outs:  # would bind this enactment's key again: a new enactment
                        ok = False
                        break
                    fixed[k] = here[k]
                    linked = True
                elif k in r.outs:
                    fixed[k] = FRESH
                else:
                    if known is None:
                        known = self._knowledge(ctx.run, role, here, ctx)
                    vals = known.values(k)
                    if (r.name, k) in self._cross and self.index is not None:
                        vals = vals + [v for v in self.index.values.get((ctx.run, role, k), {}).values()
                                       if v not in vals]
                    if vals:
                        choose.append((k, vals))
                        linked = True
                    elif k in self.pub_in_keys and role in self.input_roles:
                        arriving = True  # its value comes with the inputs
                    else:
                        ok = False
                        break
            if not ok or not linked:
                continue
            for combo in product(*(vals for _, vals in choose)):
                seed = dict(fixed)
                seed.update(zip((k for k, _ in choose), combo, strict=True))
                self._offer(ctx.run, role, r, seed, out, ctx, arriving)
        return out

    def enabled(self, run: str | None, enactment: Mapping[str, Any] | str | Context | None,
                role: str) -> list[Enabled]:
        """Messages `role` may send now in `enactment` of `run` (None: a new enactment).

        In an enactment: every message whose key bindings are the enactment's or linked
        to them at `role` (Relay's `fetch` in the `id` enactment), with the values the
        role would carry; a message that binds a key afresh as well."""
        ctx = enactment if isinstance(enactment, Context) else self.context(run, enactment)
        if ctx is None and enactment:
            return self._enabled_in(None, role, run)
        return self._enabled_in(ctx, role, run)

    # ---------------------------------------------------------------- apply
    def apply(self, ev: Any) -> list[Finding]:
        """Check one normalized event against the protocol and update the state."""
        kind = ev.kind
        name = ev.message
        if name in self.protocol.polymorphic:  # one name, several declarations: by what it carries
            name = getattr(self.protocol.resolve(name, ev.bindings, ev.sender), "name", name)
        if kind == "send":
            if self._plain:
                rule = self._by_name.get(name)
                if rule is not None and self._send_plain(ev, rule):
                    return []
        elif kind == "receive":
            if self._plain:
                rule = self._by_name.get(name)
                if rule is not None and self._receive_plain(ev, rule):
                    return []
        elif kind == "decision":
            return self._decision(ev)
        rule = self._by_name.get(name)
        if rule is None and name is not None and ev.protocol and "/" not in name:
            rule = self._by_name.get(f"{ev.protocol}/{name}")
        if rule is None:
            known = ", ".join(r.name for r in self.rules)
            return [finding("REC003", f"unknown message {ev.message!r}: not in protocol "
                            f"{self.protocol.name}", expected=f"one of: {known}", **where(ev, None))]
        b = ev.bindings
        found: list[Finding] = []
        if len(b) != rule.ncarried or not rule.carried_set <= b.keys():
            found = self._record(ev, rule, b)
            if any(k not in b for k in rule.keys):
                return found
        if self.retirement is not None:
            return self.retirement.apply(ev, rule, b, found)
        if kind == "send":
            return self._send(ev, rule, b, found)
        if kind == "receive":
            return self._receive(ev, rule, b, found)
        return self._reject(ev, rule, b, found)

    # ---------------------------------------------------------------- end
    def _expected(self, ctx: Context, role: str) -> str:
        en = self._enabled_in(ctx, role)
        return ("enabled for " + role + ": " + "; ".join(e.describe() for e in en)) if en \
            else f"nothing enabled for {role}"

    def _expected_any(self, ctx: Context) -> str:
        en = [e for r in self.protocol.roles for e in self._enabled_in(ctx, r)]
        return ("enabled: " + "; ".join(e.describe() for e in en)) if en else "nothing enabled"

    def _maybe_close(self, ctx: Context) -> None:
        """Retire a complete, quiescent enactment (nothing enabled, nothing in flight)."""
        if self.multikey or ctx.closed:
            return
        know, bound, sent = ctx.know, ctx.values.keys(), ctx.sent
        arrive = self.input_roles and (not self.keyparams or not self.pub_in_keys.isdisjoint(ctx.keys))
        for name, sender, ins, outs_nils, outs in self._quiet:
            if name in sent:
                continue
            k = know.get(sender)
            if arrive and sender in self.input_roles:
                k = (k or set()) | self.pub_ins
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
                _, old = self.closed.popitem(last=False)
                if self.index is not None:
                    self.index.forget(old)
        elif self.index is not None:
            self.index.forget(ctx)

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
        families: dict[Context, list[Context]] = {}
        for ctx in self.open.values():
            if not ctx.closed:  # else retired, kept for the receipts it still expects (retire.py)
                families.setdefault(ctx.family() if self.multikey else ctx, []).append(ctx)
        for root, members in families.items():
            bound: set[str] = set()
            for c in members:
                bound.update(c.values)
            missing = tuple(p for p in self.protocol.outs if p not in bound)
            if not missing:
                self.complete_count += 1
                status = "complete"
            else:
                en = [e for c in members for r in self.protocol.roles for e in self._enabled_in(c, r)]
                en = list({e.describe(): e for e in en}.values())
                self.incomplete_count += 1
                at = dict(source=root.source, line=root.last_line, run=root.run, enactment=root.label)
                if en:
                    status = "stalled"
                    found.append(finding("CMP001", f"incomplete at end of log: {', '.join(missing)} "
                                         "unbound; stalled with messages still enabled",
                                         expected="; ".join(e.describe() for e in en), **at))
                else:
                    status = "deadlock"
                    found.append(finding("CMP002", f"incomplete at end of log: {', '.join(missing)} "
                                         "unbound and no role can send anything (deadlock)",
                                         expected="bindings of " + ", ".join(missing), **at))
            if self.on_status is not None:
                self.on_status(EnactmentStatus(root.run, root.label, status, root.source, root.first_line,
                                               root.last_line, root.events, missing))
        return found

