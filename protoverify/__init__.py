"""protoverify: prove and audit the interaction protocols (BSPL) that agents enact.

Library API (stable, typed): `load`, `validate`, `flatten`, `verify`, `audit`,
and the types they take and return. Nothing here prints or exits: the CLI does that.

`protoverify.verify` and `protoverify.audit` are the front-door *functions*
(from `protoverify.api`). The implementation packages of the same names stay
importable with `from` imports (`from protoverify.verify.solve import run`,
`from protoverify.auditor.driver import audit`); they are loaded below, before the
functions are bound, so that a later submodule import never rebinds the names
(docs/architecture.md, "Public API").
"""
from __future__ import annotations

from . import verify as _verify_package  # noqa: F401  (load first: see above)
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
from .traces._common import FormatError
from .traces.event import BadRecord, Event, ReadStats
from .verify.result import LivenessResult, Report, SafetyResult, Verdict

__all__ = [
    "AuditInputError", "AuditResult", "BSPLError", "BSPLSyntaxError", "BadRecord", "CODES", "Code",
    "Delivery", "Diagnostic", "Event", "Finding", "FlatProtocol", "FormatError", "LivenessResult",
    "LogFormat", "Protocol", "ReadStats", "Report", "SafetyResult", "Severity", "Simulator", "Source",
    "Specification", "Verdict", "__version__", "audit", "flatten", "load", "parse", "simulate",
    "validate", "verify",
]
