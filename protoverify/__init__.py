"""protoverify: prove and audit the interaction protocols (BSPL) that agents enact.

Library API (stable, typed): `load`, `validate`, `flatten`, `verify`, `audit`,
and the types they take and return. Nothing here prints or exits: the CLI does that.

`protoverify.verify` and `protoverify.audit` are the front-door *functions*
(from `protoverify.api`); their implementations are the plain subpackages
`protoverify.prover` and `protoverify.auditor`, whose names no function shadows
(docs/architecture.md, "Public API").
"""
from __future__ import annotations

from ._version import __version__
from .api import Delivery, LogFormat, Source, audit, verify
from .auditor.result import AuditInputError, AuditResult
from .bspl import (
    BSPLError,
    BSPLSyntaxError,
    Diagnostic,
    FlatProtocol,
    Protocol,
    Specification,
    flatten,
    load,
    parse,
    validate,
)
from .findings import CODES, Code, Finding, Severity
from .monitor.simulate import Simulator, simulate
from .prover.result import LivenessResult, Report, SafetyResult, Verdict
from .traces._common import FormatError
from .traces.event import BadRecord, Event, ReadStats

__all__ = [
    "AuditInputError", "AuditResult", "BSPLError", "BSPLSyntaxError", "BadRecord", "CODES", "Code",
    "Delivery", "Diagnostic", "Event", "Finding", "FlatProtocol", "FormatError", "LivenessResult",
    "LogFormat", "Protocol", "ReadStats", "Report", "SafetyResult", "Severity", "Simulator", "Source",
    "Specification", "Verdict", "__version__", "audit", "flatten", "load", "parse", "simulate",
    "validate", "verify",
]
