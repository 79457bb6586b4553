"""The front doors: `verify` and `audit`, typed, with every option named.

`protoverify/__init__.py` re-exports both; they delegate to the implementation
packages `protoverify.prover` and `protoverify.auditor` (docs/architecture.md,
"Public API"). Neither loads z3 nor the log readers until it is called.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from .auditor.result import AuditResult
from .bspl import FlatProtocol, Protocol, Specification
from .prover import PROPERTIES, Property, Report
from .prover import verify as _verify
from .traces.event import BadRecord, Event

#: A log format name (`protoverify.traces.FORMATS`); None detects it per file.
LogFormat = Literal["native", "envelope", "ahoy", "ahoy-json", "adapter"]
#: When recipients learn: at send, or only at receipt.
Delivery = Literal["send", "receive"]
#: One source of an audit: a log file, or an iterable of already-normalized events.
Source = str | os.PathLike[str] | Iterable[Event | BadRecord]


def verify(protocol: FlatProtocol | Protocol | str, properties: Iterable[Property] = PROPERTIES,
           timeout: float = 5.0, *, spec: Specification | None = None,
           minimize: bool = True, rlimit: int | None = None) -> Report:
    """Prove one protocol safe, live and its messages enactable (Z3; see docs/semantics.md).

    `protocol`: a FlatProtocol, a Protocol (flattened against `spec`, or alone when
    it has no references), or a protocol name with `spec`. `properties`: any of
    "safety", "liveness", "enactability". `timeout`: seconds per solver query (a
    query that runs out answers `unknown`). `minimize`: shorten counterexamples.
    `rlimit`: a Z3 resource limit per query, a deterministic alternative to `timeout`.
    """
    return _verify(protocol, properties, timeout, spec=spec, minimize=minimize, rlimit=rlimit)


SpecSource = Specification | FlatProtocol | str | os.PathLike[str]


def audit(spec: SpecSource | Sequence[SpecSource],
          sources: str | os.PathLike[str] | Sequence[Source],
          protocol: str | None = None, format: LogFormat | None = None,
          checker: Mapping[str, Any] | str | None = None, *,
          delivery: Delivery | None = None, record_enactments: bool = False,
          keep_closed: int = 10000,
          progress: Callable[[str, int], None] | None = None,
          retire_after: int | None = 20_000) -> AuditResult:
    """Audit recorded enactments against a BSPL protocol (see docs/auditing.md).

    `spec`: a Specification, a FlatProtocol, or a path to a .bspl file; or a list
    of them (each event goes to the protocol that has its message). `sources`:
    a log path, or a list of paths and iterables of Events. `protocol`: the one
    to audit against (default: the only one, or route each message by its
    protocol). `format`: force a log format instead of detecting it per file.
    `checker`: a profile `{"disable": [codes], "severity": {code: level}}`, a JSON
    file or a name in checkers/. `delivery`: default "receive" when some log
    records receipts, else "send". `record_enactments`: keep the status of every
    enactment, not only those with findings or left incomplete. `keep_closed`:
    how many retired enactments are remembered for late duplicates.
    `retire_after`: multi-key enactments, which never close on their own, are retired
    once complete and idle for that many events (a later message of one is CMP003;
    None: keep them all; docs/auditing.md, "Memory and the retirement horizon").
    `progress(path, events)` is called now and then.
    Raises AuditInputError for an unreadable spec or checker. A log that cannot be
    audited (missing, unreadable, binary, not a log) is a REC007 finding, listed in
    `result.unread`; the other logs are audited. An empty log is zero events.
    """
    from .auditor.driver import audit as _audit  # the Monitor and readers load here

    return _audit(spec, sources, protocol=protocol, format=format, checker=checker,
                  delivery=delivery, record_enactments=record_enactments,
                  keep_closed=keep_closed, progress=progress, retire_after=retire_after)
