"""Audit recorded enactments: readers -> Monitor -> Findings (see docs/auditing.md)."""
from __future__ import annotations

from typing import Any

from ..findings import CODES, FAMILIES, RANK, SEVERITIES, Code, Finding

__all__ = ["AuditInputError", "AuditResult", "CODES", "Code", "FAMILIES", "Finding", "RANK",
           "SEVERITIES", "audit"]


def __getattr__(name: str) -> Any:  # lazy: the Monitor imports .findings from here
    if name in ("audit", "AuditResult", "AuditInputError"):
        from . import driver
        return getattr(driver, name)
    raise AttributeError(name)
