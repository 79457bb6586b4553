"""The Monitor: per-enactment knowledge and the BSPL send/receive rules (pure, no I/O)."""
from .monitor import Context, Enabled, EnactmentStatus, Monitor

__all__ = ["Context", "Enabled", "EnactmentStatus", "Monitor"]
