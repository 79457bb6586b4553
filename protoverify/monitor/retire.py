"""Retirement of idle, complete enactments of multi-key protocols (docs/auditing.md,
"Memory and the retirement horizon").

A single-key enactment closes when it is complete and nothing is enabled. A multi-key
one never does: an order can always receive another item (a message binding a key
afresh is enabled forever), so without a policy the Monitor would keep every
enactment of the log. The policy:

* **Retire after a horizon.** A family of contexts (one enactment: contexts linked by
  key bindings) that is complete (every public `out` bound), has no receipt in
  flight, and has seen none of its own events for `horizon` events of this Monitor is
  retired: its contexts leave the Monitor and the binding index, its status is
  reported complete, as at the end of the log.
* **Remember its key bindings.** A grave keeps the retired family's key bindings
  (run, name, value) only, for `forget` more events after its retirement or its last
  use. A later message carrying one of them is reported `CMP003` and not judged (its
  checks need the values and knowledge that were dropped); its own key bindings join
  the grave, so the rest of that late sub-enactment is reported the same way instead
  of as false causality errors. After `forget` events a grave is dropped too, and a
  message of it would be audited as the start of a new enactment.

Both clocks count the events of this Monitor, not the events of the log, so a
partitioned audit (`auditor/parallel.py`, whose partitions never split a run)
retires and reports exactly as the single-process audit does.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..findings import Finding, finding
from .context import Context, hashable
from .wording import where

if TYPE_CHECKING:
    from .compiled import MessageRule
    from .monitor import Monitor

#: How long a grave outlives the horizon, at least (events of the Monitor).
FORGET_FLOOR = 100_000

Token = tuple[Any, str, Any]  # (run, key parameter, value)


class Grave:
    """What is left of a retired enactment: its key bindings, and where it ended."""

    __slots__ = ("label", "source", "line", "tokens", "clock")

    def __init__(self, label: str, source: str, line: int, tokens: list[Token], clock: int) -> None:
        self.label = label
        self.source = source
        self.line = line
        self.tokens = tokens
        self.clock = clock


class Retirement:
    """The horizon, the idle order of families and the graves of one multi-key Monitor."""

    def __init__(self, monitor: Monitor, horizon: int, forget: int | None = None) -> None:
        self.monitor = monitor
        self.horizon = max(0, horizon)
        self.forget = forget if forget is not None else max(10 * self.horizon, FORGET_FLOOR)
        self.clock = 0  # events of this Monitor judged so far
        self.idle: OrderedDict[Context, int] = OrderedDict()  # family root -> clock of its last event
        self.graves: OrderedDict[Grave, None] = OrderedDict()  # least recently used first
        self.tokens: dict[Token, Grave] = {}
        self.retired = 0

    # ------------------------------------------------------------------ one event
    def apply(self, ev: Any, rule: MessageRule, b: Mapping[str, Any], found: list[Finding]) -> list[Finding]:
        """Judge one message event (key bindings present), then retire what fell idle."""
        mon = self.monitor
        self.clock += 1
        kind = ev.kind
        grave = self._grave(ev.run, rule, b) if self.tokens else None
        if grave is not None:
            found.append(self.finding(ev, rule, grave))
            if kind in ("reject", "drop"):  # what the exchange did needs no enactment
                found = mon._reject(ev, rule, b, found)
            elif kind == "receive" and mon.delivery == "receive":
                self._receipt(ev, rule, b)
        else:
            if kind == "send":
                found = mon._send(ev, rule, b, found)
            elif kind == "receive":
                found = mon._receive(ev, rule, b, found)
            else:
                found = mon._reject(ev, rule, b, found)
            ctx = mon.open.get(mon._ctx_key(ev.run, rule.keys, b))
            if ctx is not None:
                root = ctx.family()
                idle = self.idle
                if root in idle:
                    idle.move_to_end(root)
                idle[root] = self.clock
        self._sweep()
        return found

    def finding(self, ev: Any, rule: MessageRule, grave: Grave, role: str | None = None,
                what: str = "this message was not checked") -> Finding:
        """CMP003: `ev` (about `rule`) needed the retired enactment of `grave`."""
        return finding("CMP003", f"{rule.name} belongs to enactment {grave.label}, retired as complete after "
                       f"{self.horizon} events without one of its own (its last at line {grave.line}): {what}",
                       expected=f"a horizon (--retire-after) above {self.horizon} events",
                       **where(ev, grave.label, rule.qname, role))

    def holding(self, run: Any, bindings: Mapping[str, Any]) -> Grave | None:
        """The grave holding one of these key bindings, if any (nothing changes)."""
        tokens = self.tokens
        for p, v in bindings.items():
            g = tokens.get((run, p, hashable(v)))
            if g is not None:
                return g
        return None

    def _grave(self, run: Any, rule: MessageRule, b: Mapping[str, Any]) -> Grave | None:
        """The grave holding one of the message's key bindings; the others join it."""
        tokens = self.tokens
        grave = None
        for p in rule.links:  # once per event: no list built unless a grave is hit
            if p in b:
                v = b[p]
                grave = tokens.get((run, p, v if type(v) is str else hashable(v)))
                if grave is not None:
                    break
        if grave is None:
            return None
        mine = [(run, p, hashable(b[p])) for p in rule.links if p in b]
        for t in mine:
            if t not in tokens:
                tokens[t] = grave
                grave.tokens.append(t)
            self._bury(t, grave)
        grave.clock = self.clock
        self.graves.move_to_end(grave)
        return grave

    def _receipt(self, ev: Any, rule: MessageRule, b: Mapping[str, Any]) -> None:
        """A receipt of a send of a buried context still counts (else DEL001 at the end)."""
        mon = self.monitor
        key = mon._ctx_key(ev.run, rule.keys, b)
        ctx = mon.open.get(key)
        if ctx is None or not ctx.closed:
            return
        sent = ctx.sent.get(rule.name)
        if sent is None or sent.pending is None:
            return
        for r in ev.recipients or rule.recipients:
            if r in rule.recip_set and sent.pending.get(r, 0) > 0:
                sent.pending[r] -= 1
                ctx.pending -= 1
        if not ctx.pending:
            del mon.open[key]

    def _bury(self, token: Token, grave: Grave) -> None:
        """A late message ties a live enactment to a retired one (it carries a key binding
        of each): judged in full, the two would be one enactment, complete as the retired
        one was. So the live one goes into the grave too, unreported (one enactment is
        counted once). Its contexts still expecting receipts stay among the open ones,
        closed, until the receipts come (`_receipt`); the end of the log reports those
        that never do (DEL001), as it would have."""
        mon = self.monitor
        index = mon.index
        assert index is not None
        carriers = index.carriers.get(token)
        if not carriers:
            return
        for root in {c.family() for c in carriers}:
            members = index.members(root)
            for t in self._drop(root, members):
                if t not in self.tokens:
                    self.tokens[t] = grave
                    grave.tokens.append(t)
            self.idle.pop(root, None)

    # ------------------------------------------------------------------ retiring
    def _sweep(self) -> None:
        now, idle = self.clock, self.idle
        while idle:
            root, t = next(iter(idle.items()))
            if now - t < self.horizon:
                break
            del idle[root]
            if root.up is None:  # else merged into another family, whose own entry counts
                self._retire(root)
        graves, tokens = self.graves, self.tokens
        while graves:
            g = next(iter(graves))
            if now - g.clock < self.forget:
                break
            del graves[g]
            for tok in g.tokens:
                if tokens.get(tok) is g:
                    del tokens[tok]

    def _retire(self, root: Context) -> None:
        """Retire `root`'s family if it is complete with nothing in flight (else it stays
        open, and is looked at again after its next event)."""
        from .monitor import EnactmentStatus

        mon = self.monitor
        index = mon.index
        assert index is not None
        members = index.members(root)
        bound: set[str] = set()
        for c in members:
            if c.pending:
                return
            bound.update(c.values)
        if not mon.pub_outs <= bound:
            return
        toks = self._drop(root, members)
        grave = Grave(root.label, root.source, max(c.last_line for c in members), toks, self.clock)
        self.graves[grave] = None
        for t in toks:
            self.tokens[t] = grave
        self.retired += 1
        mon.complete_count += 1
        if mon.on_status is not None:
            mon.on_status(EnactmentStatus(root.run, root.label, "complete", root.source, root.first_line,
                                          root.last_line, root.events))

    def _drop(self, root: Context, members: list[Context]) -> list[Token]:
        """Take `root`'s family out of the Monitor and the index; return its key bindings."""
        mon = self.monitor
        assert mon.index is not None
        toks: dict[Token, None] = {}
        kp = mon.keyparams
        for c in members:
            if not c.pending:
                mon.open.pop((c.run, c.keys, c.kv), None)
            c.closed = True
            for p, v in c.values.items():
                if p in kp:
                    toks[(c.run, p, hashable(v))] = None
        mon.index.retire(root, members)
        for c in members:  # parents and children refer to each other: free them now, not at a full GC
            c.parents.clear()
            c.children.clear()
        return list(toks)
