"""The plain fast paths: a conformant send, and (delivery="receive") a conformant receive,
of a protocol whose messages all carry the same key parameters (Purchase, Contract Net,
the million-event benchmark, the exchange's online Monitors), applied in the fewest
operations. `Monitor(fast_path=False)` turns it off; the results must not change
(tests/test_monitor_fastpath.py replays simulated and damaged logs both ways)."""
from __future__ import annotations

from typing import Any

from .compiled import MessageRule
from .context import MISSING, Context, Sent
from .state import MonitorState


class FastPath(MonitorState):
    """Mixin of `Monitor`: `_send_plain`, `_receive_plain`."""

    def _send_plain(self, ev: Any, rule: MessageRule) -> bool:
        """Apply a plainly conformant send and return True; else return False having
        changed nothing but what `_send` would change first (the context it creates).

        The common case of a long log, in the fewest operations: every carried
        parameter present, the right roles, no earlier send of the message, every
        `in` known to the sender with the same value, no `out`/`nil` known or bound.
        It is exactly `_send` when that raises no finding; everything else takes
        `_send`, which words the findings. Only for protocols whose messages all carry
        the same keys (`Monitor._plain`): there a role's linked observations are exactly
        its observations in the message's own context (any other context differs in a
        key value the message carries), so no binding index is needed.
        """
        b = ev.bindings
        if len(b) != rule.ncarried or not rule.carried_set <= b.keys():
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
            if values.get(p, MISSING) != b[p]:
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
            pending = dict.fromkeys(recipients, 1)
            ctx.pending += len(pending)
        sent[rule.name] = Sent(b, line, ev.source, sender, pending, rule.outs)
        if ctx.nout == len(self.pub_outs) and not ctx.pending:
            self._maybe_close(ctx)
        return True

    def _receive_plain(self, ev: Any, rule: MessageRule) -> bool:
        """Apply a plainly conformant receive (delivery="receive") and return True; else
        return False having changed nothing.

        The common case: every carried parameter present, one recipient role of the
        message, its enactment open, the message sent with the same bindings and still
        pending for that role, the receiving agent playing no other role. It is exactly
        `_receive` when that raises no finding; everything else takes `_receive`. Only
        where `_send_plain` applies (`Monitor._plain`: no binding index to update).
        """
        if self.delivery == "send":
            return False
        b = ev.bindings
        if len(b) != rule.ncarried or not b.keys() >= rule.carried_set:
            return False
        recips = ev.recipients
        if recips:
            if len(recips) != 1:
                return False
            role = recips[0]
            if role not in rule.recip_set:
                return False
        elif len(rule.recipients) == 1:
            role = rule.recipients[0]
        else:
            return False
        try:
            ctx = self.open.get((ev.run, rule.keys, rule.key_values(b)))
        except TypeError:  # an unhashable key value
            return False
        if ctx is None:
            return False
        sent = ctx.sent.get(rule.name)
        if sent is None or not (sent.bindings is b or sent.bindings == b):
            return False
        pending = sent.pending
        n = 0
        if pending is not None:
            n = pending.get(role, 0)
            if n <= 0:
                return False
        agent = ev.agent
        prev = None
        if agent is not None:
            prev = ctx.agents.get(agent)
            if prev is not None and prev != role:
                return False
        # conformant: update as `_receive` does
        line = ev.line
        ctx.events += 1
        ctx.last_line = line
        if pending is not None:
            pending[role] = n - 1
            ctx.pending -= 1
        if agent is not None and prev is None:
            ctx.agents[agent] = role
        values = ctx.values
        if not values.keys() >= rule.carried_set:
            by = (rule.name, line)
            bound_by = ctx.bound_by
            pub_outs = self.pub_outs
            for p in rule.carried:
                if p not in values:
                    values[p] = b[p]
                    bound_by[p] = by
                    if p in pub_outs:
                        ctx.nout += 1
        if role in self.roles:
            know = ctx.know.get(role)
            if know is None:
                ctx.know[role] = set(rule.carried)
            else:
                know.update(rule.carried)
        if ctx.nout == len(self.pub_outs) and not ctx.pending:
            self._maybe_close(ctx)
        return True
