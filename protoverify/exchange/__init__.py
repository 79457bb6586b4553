"""The reference exchange: gateways, topic routing, policy levels, faults, logs.

Agents submit typed envelopes to the gateway they are attached to; the gateway
checks them against its policy level, logs them (docs/formats.md §2) and the bus
routes them to the addressees' gateways. `run(...)` drives a whole run.
"""
from .envelope import Envelope, EnvelopeError
from .run import RunSummary, run

__all__ = ["Envelope", "EnvelopeError", "RunSummary", "run"]
