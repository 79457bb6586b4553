"""Prove protocols: safety, liveness and enactability of one enactment, with Z3.

`verify(protocol_or_flat, properties=..., timeout=...) -> Report`. Importing this package
does not import z3 (the CLI stays fast); the solver loads on the first `verify` call.

This is the implementation package; the front door is `protoverify.verify(...)`
(defined in `protoverify.api`), which calls the function below.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from .result import LivenessResult, Report, SafetyResult, Verdict, render_diagrams, render_mermaid, render_text

if TYPE_CHECKING:
    from ..bspl import FlatProtocol, Protocol, Specification

Property = Literal["safety", "liveness", "enactability"]
PROPERTIES: tuple[Property, ...] = ("safety", "liveness", "enactability")


def verify(protocol: FlatProtocol | Protocol | str, properties: Iterable[str] = PROPERTIES,
           timeout: float = 5.0, *, spec: Specification | None = None, minimize: bool = True,
           rlimit: int | None = None) -> Report:
    """Verify one protocol.

    `protocol` is a FlatProtocol, a Protocol (flattened against `spec`, or alone when
    it has no references), or a protocol name with `spec`. `properties` is any of
    "safety", "liveness", "enactability"; `timeout` is seconds per solver query
    (a query that runs out answers `unknown`); `rlimit` bounds each query in Z3 resource
    units instead, the same on every machine and under any load.
    """
    from ..bspl import FlatProtocol, Protocol, Specification, flatten

    props = tuple(properties)
    bad = [p for p in props if p not in PROPERTIES]
    if bad:
        raise ValueError(f"unknown properties {bad}; choose from {PROPERTIES}")
    if isinstance(protocol, FlatProtocol):
        flat = protocol
    elif isinstance(protocol, Protocol):
        flat = flatten(spec if spec is not None else Specification((protocol,)), protocol)
    elif isinstance(protocol, str) and spec is not None:
        flat = flatten(spec, protocol)
    else:
        raise TypeError("verify() takes a FlatProtocol, a Protocol, or a name with spec=")
    from .solve import run

    return run(flat, props, timeout, minimize, rlimit)


__all__ = ["LivenessResult", "PROPERTIES", "Property", "Report", "SafetyResult", "Verdict",
           "render_diagrams", "render_mermaid", "render_text", "verify"]
