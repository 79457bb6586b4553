"""Prove protocols: safety, liveness and enactability of one enactment, with Z3.

`verify(protocol_or_flat, properties=..., timeout=...) -> Report`. Importing this package
does not import z3 (the CLI stays fast); the solver loads on the first `verify` call.

The package object is itself callable, so `protoverify.verify(...)` and
`protoverify.verify.explorer` both work.
"""
from __future__ import annotations

import sys
import types
from typing import Iterable

from .result import LivenessResult, Report, SafetyResult, render_diagrams, render_mermaid, render_text

PROPERTIES = ("safety", "liveness", "enactability")


def verify(protocol, properties: Iterable[str] = PROPERTIES, timeout: float = 5.0, *,
           spec=None, minimize: bool = True, rlimit: int | None = None) -> Report:
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


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs) -> Report:
        return verify(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["LivenessResult", "PROPERTIES", "Report", "SafetyResult", "render_diagrams",
           "render_mermaid", "render_text", "verify"]
