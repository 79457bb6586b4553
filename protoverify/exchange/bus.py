"""Topic routing behind a small transport interface.

Subjects are dot-free strings split on `/`-free tokens joined by `.`, matched
like NATS subjects (`*` one token, `>` the rest), so a NATS transport can take
the place of `InProcTransport` without changing the gateways:

* `inbox.<gateway>.<agent>` — an agent's inbox at its gateway (direct delivery);
* `link.<gateway>` — the federation link into a gateway;
* `bcast.<what>` — broadcast topics (capability advertisements, receipts' audit).

The routing topic written in the log (`Contract Net/cfpID=c1`) names the
protocol and the enactment; `topic_of` builds it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Handler = Callable[[str, Any], None]


class Transport(Protocol):
    """What the exchange needs from a message transport. `via` names the gateway that
    subscribes or publishes (a federated transport uses that gateway's server; by default
    the gateway the subject names). `publish` runs the handlers before it returns
    (`InProcTransport` at once; `NatsTransport` once the message is back), except what a
    transport settles later; such a transport also has `drain()`, which the scheduler
    calls after every event, and may have `bind(federation)` (nats.py: pipelining)."""

    def subscribe(self, subject: str, handler: Handler, via: str | None = None) -> None: ...
    def publish(self, subject: str, msg: Any, via: str | None = None) -> int: ...
    def close(self) -> None: ...


class InProcTransport:
    """Synchronous in-process subjects: exact subjects in a dict, wildcards in a list."""

    name = "inproc"

    def __init__(self) -> None:
        self.exact: dict[str, list[Handler]] = {}
        self.patterns: list[tuple[tuple[str, ...], Handler]] = []
        self.published = 0

    def subscribe(self, subject: str, handler: Handler, via: str | None = None) -> None:
        if "*" in subject or ">" in subject:
            self.patterns.append((tuple(subject.split(".")), handler))
        else:
            self.exact.setdefault(subject, []).append(handler)

    def publish(self, subject: str, msg: Any, via: str | None = None) -> int:
        """Hand `msg` to every subscriber of `subject`; return how many got it."""
        self.published += 1
        n = 0
        hs = self.exact.get(subject)
        if hs:
            for h in hs:
                h(subject, msg)
            n = len(hs)
        if self.patterns:
            toks = subject.split(".")
            for pat, h in self.patterns:
                if match(pat, toks):
                    h(subject, msg)
                    n += 1
        return n

    def close(self) -> None:
        self.exact.clear()
        self.patterns.clear()


def match(pattern: tuple[str, ...], tokens: list[str]) -> bool:
    """NATS-style subject match: `*` is one token, a final `>` one or more."""
    for i, p in enumerate(pattern):
        if p == ">":
            return len(tokens) > i
        if i >= len(tokens) or (p != "*" and p != tokens[i]):
            return False
    return len(tokens) == len(pattern)


def safe(token: str) -> str:
    """A subject token from an agent or gateway name (no dots, spaces or wildcards)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in token) or "_"


def topic_of(protocol: str, keys: tuple[str, ...], payload: dict[str, Any]) -> str:
    """The routing topic of an enactment: `Protocol/key=value,…`."""
    return protocol + "/" + ",".join(f"{k}={payload.get(k)}" for k in keys)
