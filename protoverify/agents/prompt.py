"""What an LLM agent is shown (as Ahoy does) and how its reply is read back.

The prompt gives the role, the goal, the protocol's BSPL text, what the agent
knows in this enactment, and the numbered messages it may send now (the
Monitor's enabled set). The reply must be `{"choice": N, "params": {...}}`
(`"choice": null` declines). `read_reply` says precisely what is wrong with a
reply, so the retry prompt can tell the model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ..monitor.monitor import Enabled
from ..traces.ahoy import check_choice, extract_reply

SYSTEM = ("You are an agent enacting an interaction protocol written in BSPL. You choose which "
          "message to send next from a numbered list and fill its parameters. Answer with one JSON "
          'object only: {"choice": N, "params": {"param": value, ...}}, or {"choice": null} to send '
          "nothing now.")


def options_of(enabled: list[Enabled]) -> list[dict[str, Any]]:
    """The numbered options (from 1) in the shape the decision checks read."""
    return [{"number": i, "message": e.message, "bound": dict(e.bound), "fill": list(e.fill),
             "to": list(e.recipients)} for i, e in enumerate(enabled, 1)]


def _show(v: Any) -> str:
    return orjson.dumps(v).decode() if not isinstance(v, str) else v


def user_prompt(role: str, goal: str, spec_text: str, knows: dict[str, Any],
                options: list[dict[str, Any]], history: list[str],
                others: list[dict[str, Any]] | None = None) -> str:
    """The prompt for one decision in one enactment (nothing of other enactments is shown)."""
    lines = [f"ROLE: {role}", f"GOAL: {goal}", "", "PROTOCOL:", spec_text.strip(), "", "WHAT YOU KNOW:"]
    lines += [f"  {k} = {_show(v)}" for k, v in sorted(knows.items())] or ["  nothing yet"]
    lines += ["", "WHAT YOU DID IN THIS ENACTMENT:"] + ([f"  {h}" for h in history] or ["  nothing yet"])
    if others:
        lines += ["", "THE OTHER ENACTMENTS OF THIS NEGOTIATION (one per agent you called):"]
        lines += ["  " + ", ".join(f"{k}={_show(v)}" for k, v in sorted(o.items())) for o in others]
    lines += ["", "OPTIONS (messages you may send now):"]
    for o in options:
        bound = ", ".join(f"{k}={_show(v)}" for k, v in o["bound"].items())
        fill = ", ".join(o["fill"])
        lines.append(f"  {o['number']}. {o['message'].split('/', 1)[-1]} to {', '.join(o['to'])}"
                     + (f" [BOUND: {bound}]" if bound else "") + (f" [FILL: {fill}]" if fill else ""))
    lines += ["", 'Reply with {"choice": N, "params": {...}} filling exactly the FILL parameters of option N, '
              'or {"choice": null} to wait.']
    return "\n".join(lines)


@dataclass
class Reading:
    """A reply read against the options: the choice or what is wrong with it."""

    parsed: Any
    choice: Any
    params: dict[str, Any]
    option: dict[str, Any] | None
    error: str | None

    @property
    def declined(self) -> bool:
        return self.error is None and self.parsed is not None and self.choice is None


def read_reply(raw: str, options: list[dict[str, Any]], generated: frozenset[str] = frozenset()) -> Reading:
    """Parse and check a reply. `generated`: parameters the runtime fills when the model does
    not (fresh keys, as Ahoy's runtime does); every other `fill` parameter must be given."""
    parsed, error = extract_reply(raw)
    if error is not None:
        return Reading(None, None, {}, None, error)
    choice, params, error, option = check_choice(parsed, options)
    p = params if isinstance(params, dict) else {}
    if error is None and option is not None:
        extra = sorted(k for k in p if k not in option["fill"])
        missing = [k for k in option["fill"] if k not in p and k not in generated]
        if extra:
            error = f"params {', '.join(extra)} are not parameters option {choice} fills ({', '.join(option['fill'])})"
        elif missing:
            error = f"params lack {', '.join(missing)}, which option {choice} must fill"
    return Reading(parsed, choice, p, option, error)
