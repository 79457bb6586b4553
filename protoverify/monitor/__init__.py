"""The Monitor: per-enactment knowledge and the BSPL send/receive rules (pure, no I/O).

Modules by concern: `monitor` (the Monitor, `enabled`, completion), `judge` (the
send/receive/reject checks), `fastpath` (the plain-send fast path), `decisions`
(LLM decision events), `context` (contexts and the binding index), `compiled`
(messages compiled once), `wording` (finding locations and texts), `simulate`.
"""
from .context import Context
from .monitor import Enabled, EnactmentStatus, Monitor

__all__ = ["Context", "Enabled", "EnactmentStatus", "Monitor"]
