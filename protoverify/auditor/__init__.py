"""Audit recorded enactments: readers -> Monitor -> Findings (see docs/auditing.md).

The implementation package; the front door is `protoverify.audit(...)` (defined
in `protoverify.api`). `AuditResult` and `AuditInputError` live in `.result`,
the replay in `.driver`.
"""
from __future__ import annotations

from ..findings import CODES, FAMILIES, SEVERITIES, Code, Finding, Severity
from .result import AuditInputError, AuditResult, FailOn

__all__ = ["AuditInputError", "AuditResult", "CODES", "Code", "FAMILIES", "FailOn", "Finding",
           "SEVERITIES", "Severity"]
