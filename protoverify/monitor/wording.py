"""How findings locate and word what they report (shared by the judge and the decision checks)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .context import MISSING, show


def where(ev: Any, enactment: str | None, message: str | None = None, role: str | None = None) -> dict[str, Any]:
    """The location fields of a finding about event `ev`."""
    return dict(source=ev.source, line=ev.line, run=ev.run, enactment=enactment,
                message=message if message is not None else ev.message,
                role=role if role is not None else ev.sender, agent=ev.agent)


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, str]:
    """The parameters whose values differ, shown as `p=v, …` with the new and the old values."""
    diff = [p for p in sorted(set(new) | set(old)) if old.get(p, MISSING) != new.get(p, MISSING)]
    return (", ".join(f"{p}={show(new.get(p))}" for p in diff),
            ", ".join(f"{p}={show(old.get(p))}" for p in diff))


def same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a is b or a == b


def option_text(o: Mapping[str, Any]) -> str:
    """One option offered to an LLM agent, as the expected text of a decision finding."""
    n = o.get("number")
    bound = o.get("bound") or {}
    fill = o.get("fill") or []
    return (f"{n}) " if n is not None else "") + f"{o.get('message')}" + \
        (f" [{', '.join(f'{k}={show(v)}' for k, v in bound.items())}]" if bound else "") + \
        (f" fill {', '.join(fill)}" if fill else "")
