"""Checks of LLM `decision` events: did the call get a reply, did the agent answer, choose an
offered option, fill what the option asked and only that, and choose something its role
could send then (DEC001-DEC008); and did it keep starting new enactments with one message
while its own waited (DEC009)."""
from __future__ import annotations

from typing import Any

from ..findings import Finding, finding
from .state import MonitorState
from .wording import option_text

#: DEC009: the number of decisions in a row, choosing one message that starts a new enactment, that make a loop
LOOP_AFTER = 3


class DecisionChecks(MonitorState):
    """Mixin of `Monitor`: the decision checks (they read `enabled`, never change state
    other than the per-agent retry flag)."""

    _last_error: dict[tuple[str | None, str | None], bool]
    _streak: dict[tuple[str | None, str | None, str | None], tuple[str, int]]

    def _decision(self, ev: Any) -> list[Finding]:
        """The findings of one `decision` event."""
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
        offered = "; ".join(option_text(o) for o in options) or "no options"
        raw, parsed = d.get("raw"), d.get("parsed")
        if d.get("failed") is True:
            found.append(finding("DEC008", f"LLM call of {agent} got no reply"
                                 + (f": {d['error']}" if d.get("error") else ""),
                                 expected='a reply {"choice": N, "params": {...}}', **where))
            return found
        if parsed is None and raw is not None:
            found.append(finding("DEC001", "LLM reply is not valid JSON"
                                 + (f": {d['error']}" if d.get("error") else ""),
                                 expected='a JSON object {"choice": N, "params": {...}}', **where))
            return found
        choice = d.get("choice")
        if choice is None:
            if not d.get("error"):
                self._streak.pop((ev.source, ev.run, agent), None)
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
        loop = self._repeat(ev, agent, opt, options)
        if loop is not None:
            found.append(finding("DEC009", loop, expected="; ".join(option_text(o) for o in options
                                                                     if o.get("bound")), **where))
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
            missing = _missing(raw, choice, fill, rule.keys) if rule is not None else []
            if missing:
                found.append(finding("DEC007", f"params lack {', '.join(missing)}, which option {choice} "
                                     f"({opt.get('message')}) must fill",
                                     expected="fill: " + ", ".join(fill), **where))
        if rule is not None and role in self.roles:
            keys = {k: bound[k] for k in rule.keys if k in bound}
            if not rule.in_keys <= keys.keys():
                # The option does not say which enactment (its BOUND values are missing,
                # e.g. an extraction that dropped them): it was enabled if it is enabled
                # for the role in some open enactment of the run.
                if rule.in_keys and any(rule.qname in {e.message for e in self._enabled_in(c, role)}
                                        for c in self.open.values() if c.run == ev.run):
                    return found
            retired = self.retirement
            grave = retired.holding(ev.run, keys) if retired is not None and keys else None
            if retired is not None and grave is not None:  # what was enabled there is unknown now
                found.append(retired.finding(ev, rule, grave, role, "this choice was not checked"))
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

    def _repeat(self, ev: Any, agent: str | None, opt: dict[str, Any], options: list[dict[str, Any]]) -> str | None:
        """DEC009's text when this choice is the third in a row of one message that starts a new
        enactment (no bound values) while options continuing an enactment were offered; else None.
        Replies with no usable choice leave the count as it is; any other choice resets it."""
        key = (ev.source, ev.run, agent)
        message = opt.get("message")
        if opt.get("bound") or not isinstance(message, str) or not any(o.get("bound") for o in options):
            self._streak.pop(key, None)
            return None
        last, n = self._streak.get(key, ("", 0))
        n = n + 1 if last == message else 1
        self._streak[key] = (message, n)
        if n != LOOP_AFTER:
            return None
        return (f"{agent} chose {message} in {LOOP_AFTER} decisions in a row, each time starting a new "
                "enactment, while options continuing the ones it had started were offered")


def _missing(raw: Any, choice: int, fill: list[str], keys: tuple[str, ...]) -> list[str]:
    """The non-key parameters of `fill` that the reply text itself leaves out. Judged on the
    raw reply, not on the record's `params`: an extraction may drop a reply's params, and a
    reply cut short or not naming `choice` cannot be judged (then nothing is missing)."""
    needed = [p for p in fill if p not in keys]
    if not needed or not isinstance(raw, str):
        return []
    from ..traces.ahoy import extract_reply  # only for the rare decision that chose an option

    reply, _ = extract_reply(raw)
    if not isinstance(reply, dict) or reply.get("choice") != choice:
        return []
    params = reply.get("params") or {}
    return [p for p in needed if p not in params] if isinstance(params, dict) else []
