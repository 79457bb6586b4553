"""Verification results: plain data, JSON-ready, rendered as text or Mermaid. No solver here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._ordered import OrderedStrEnum
from .rules import Msg, Rules

# {"kind", "message", "role", "sender", "recipients", "params", "keys"}; `keys`: the key
# parameters the message carries (what links it to the role's other observations)
Event = dict[str, Any]

EXTERNAL = "External"  # the implicit role that supplies public `in` parameters (as in bspl)


def send_event(m: Msg) -> Event:
    return {"kind": "send", "message": m.name, "role": m.sender, "sender": m.sender,
            "recipients": list(m.recipients), "params": _params(m), "keys": _keys(m)}


def receive_event(m: Msg, role: str) -> Event:
    return {"kind": "receive", "message": m.name, "role": role, "sender": m.sender,
            "recipients": [role], "params": _params(m), "keys": _keys(m)}


def input_event(rules: Rules, role: str) -> Event:
    """The External inputs (every public `in` parameter) arriving at `role`."""
    return {"kind": "input", "message": "input", "role": role, "sender": EXTERNAL,
            "recipients": [role], "params": [f"in {p}" for p in rules.inputs],
            "keys": [p for p in rules.inputs if p in rules.input_tokens]}


def _keys(m: Msg) -> list[str]:
    """The key parameters m carries, in declaration order."""
    return [p for p in m.carried if p in m.links]


def _params(m: Msg) -> list[str]:
    """Parameter names with their adornment in the message, e.g. `out price`."""
    return ([f"in {p}" for p in m.carried if p in m.ins] + [f"out {p}" for p in m.carried if p in m.outs]
            + [f"nil {p}" for p in sorted(m.nils)])


class Verdict(OrderedStrEnum):
    """The answer to one property, ordered from least to most alarming: the
    largest verdict of a run decides its exit code (failed > unknown > fine).
    The values are the strings of the JSON output."""

    SKIPPED = "skipped"  # not verified (the protocol is ill-formed)
    SAFE = "safe"
    LIVE = "live"
    UNKNOWN = "unknown"  # a solver query ran out of time
    UNSAFE = "unsafe"
    NONLIVE = "nonlive"

    @property
    def failed(self) -> bool:
        """The property was disproved (unsafe or nonlive)."""
        return self >= Verdict.UNSAFE


@dataclass
class SafetyResult:
    verdict: Verdict = Verdict.SKIPPED  # safe | unsafe | unknown | skipped
    parameter: str | None = None
    counterexample: list[Event] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # the roles that both bind `parameter`

    def __post_init__(self) -> None:
        self.verdict = Verdict(self.verdict)  # the solver passes the plain strings

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict.value, "parameter": self.parameter,
                "counterexample": self.counterexample, "roles": self.roles}


@dataclass
class LivenessResult:
    verdict: Verdict = Verdict.SKIPPED  # live | nonlive | unknown | skipped
    missing: list[str] = field(default_factory=list)
    counterexample: list[Event] = field(default_factory=list)
    # role -> all it has observed when stuck (in any key context)
    knowledge: dict[str, list[str]] = field(default_factory=dict)
    disabled: dict[str, list[str]] = field(default_factory=dict)  # unsent message -> why disabled

    def __post_init__(self) -> None:
        self.verdict = Verdict(self.verdict)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict.value, "missing": self.missing, "counterexample": self.counterexample,
                "knowledge": self.knowledge, "disabled": self.disabled}


@dataclass
class Report:
    """What `protoverify.verify` found about one protocol."""

    name: str
    safety: SafetyResult = field(default_factory=SafetyResult)
    liveness: LivenessResult = field(default_factory=LivenessResult)
    enactable: dict[str, bool | None] = field(default_factory=dict)  # message -> can be sent (None: unknown)
    complete: bool | None = None  # some enactment binds every public out parameter
    seconds: float = 0.0

    @property
    def skipped(self) -> bool:
        """Not verified at all (an ill-formed protocol gets a Report with no results)."""
        return self.safety.verdict is Verdict.SKIPPED and self.liveness.verdict is Verdict.SKIPPED

    @property
    def verdict(self) -> Verdict:
        """The most alarming of the safety and liveness verdicts."""
        return max(self.safety.verdict, self.liveness.verdict)

    @property
    def dead(self) -> list[str]:
        return [m for m, ok in self.enactable.items() if ok is False]

    def to_dict(self) -> dict[str, Any]:
        return {"safety": self.safety.to_dict(), "liveness": self.liveness.to_dict(),
                "enactable": self.enactable, "complete": self.complete,
                "seconds": round(self.seconds, 4)}

    def summary(self) -> str:
        """One line: `safe, live, 7/7 messages enactable`."""
        n = len(self.enactable)
        ok = sum(1 for v in self.enactable.values() if v)
        parts = [self.safety.verdict.value + (f" ({self.safety.parameter})" if self.safety.parameter else ""),
                 self.liveness.verdict.value + (f" (missing {', '.join(self.liveness.missing)})"
                                          if self.liveness.missing else "")]
        if n:
            parts.append(f"{ok}/{n} messages enactable"
                         + (f" (dead: {', '.join(self.dead)})" if self.dead else ""))
        if self.complete is False:
            parts.append("never completes")
        return ", ".join(parts)


def _keys_note(e: Event) -> str:
    keys = e.get("keys") or []
    return f"  keys: {', '.join(keys)}" if keys else ""


def format_event(e: Event) -> str:
    """One event as a line; `keys:` lists the key parameters that place it in an enactment."""
    params = ", ".join(e["params"])
    if e["kind"] == "send":
        return f"{e['sender']} -> {', '.join(e['recipients'])}: {e['message']}[{params}]{_keys_note(e)}"
    if e["kind"] == "input":
        return f"    {e['role']} receives input [{params}] from {e['sender']}{_keys_note(e)}"
    return f"    {e['role']} receives {e['message']} from {e['sender']}{_keys_note(e)}"


def render_text(report: Report) -> str:
    """The counterexamples of a report, as numbered steps; empty when there are none."""
    lines: list[str] = []
    s, lv = report.safety, report.liveness
    if s.verdict is Verdict.UNSAFE:
        lines.append(f"  unsafe: {s.parameter} is bound by {' and '.join(s.roles)} in one enactment:")
        lines += [f"    {i}. {format_event(e)}" for i, e in enumerate(s.counterexample, 1)]
    if lv.verdict is Verdict.NONLIVE:
        lines.append(f"  nonlive: stuck with {', '.join(lv.missing)} unbound after:")
        lines += [f"    {i}. {format_event(e)}" for i, e in enumerate(lv.counterexample, 1)]
        if not lv.counterexample:
            lines.append("    (no message at all)")
        lines.append("    knowledge: " + "; ".join(f"{r} {{{', '.join(ps)}}}" for r, ps in lv.knowledge.items()))
        for m, why in lv.disabled.items():
            lines.append(f"    {m} disabled: {'; '.join(why)}")
    return "\n".join(lines)


def _mid(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def render_mermaid(events: list[Event], title: str = "", note: str = "") -> str:
    """A Mermaid sequence diagram in event order: each send is an arrow drawn when it is
    sent (open `-)` when the counterexample never delivers it), each reception a note on
    the receiving role's lifeline, so asynchrony stays visible.
    """
    lines = ["sequenceDiagram"]
    if title:
        lines.append(f"    title {title}")
    roles: list[str] = []
    for e in events:
        for r in (e["sender"], *e["recipients"]):
            if r not in roles:
                roles.append(r)
    lines += [f"    participant {_mid(r)} as {r}" for r in roles]
    received = {(e["message"], e["role"]) for e in events if e["kind"] == "receive"}
    for e in events:
        keys = e.get("keys") or []
        tag = f" keys {', '.join(keys)}" if keys else ""
        label = f"{e['message']}[{', '.join(e['params'])}]{tag}"
        if e["kind"] == "input":
            lines.append(f"    {_mid(e['sender'])}->>{_mid(e['role'])}: {label}")
        elif e["kind"] == "send":
            for r in e["recipients"]:
                arrow = "->>" if (e["message"], r) in received else "-)"
                suffix = "" if (e["message"], r) in received else " (never received)"
                lines.append(f"    {_mid(e['sender'])}{arrow}{_mid(r)}: {label}{suffix}")
        else:
            lines.append(f"    Note over {_mid(e['role'])}: receives {e['message']}{tag}")
    span = [r for r in roles if r != EXTERNAL] or roles
    if note and span:
        lines.append(f"    Note over {_mid(span[0])},{_mid(span[-1])}: {note}" if len(span) > 1
                     else f"    Note over {_mid(span[0])}: {note}")
    return "\n".join(lines)


def render_diagrams(report: Report) -> str:
    out: list[str] = []
    if report.safety.verdict is Verdict.UNSAFE:
        out.append(render_mermaid(report.safety.counterexample, f"{report.name}: unsafe",
                                  f"{report.safety.parameter} bound by {' and '.join(report.safety.roles)}"))
    if report.liveness.verdict is Verdict.NONLIVE:
        out.append(render_mermaid(report.liveness.counterexample, f"{report.name}: nonlive",
                                  f"stuck: {', '.join(report.liveness.missing)} unbound"))
    return "\n\n".join(out)
