"""protoverify: prove and audit the interaction protocols (BSPL) that agents enact.

Library API (stable): `load`, `validate`, `flatten`, `verify`, `audit`. Nothing here prints or exits: the CLI does that.
"""
from .bspl import (BSPLError, BSPLSyntaxError, Diagnostic, FlatProtocol, Protocol,
                   Specification, flatten, load, parse, validate)
from . import verify  # the package is callable: protoverify.verify(protocol, ...) -> Report (z3 loads lazily)
from .verify import Report

__version__ = "0.1.0"
__all__ = ["audit", "BSPLError", "BSPLSyntaxError", "Diagnostic", "FlatProtocol", "Protocol",
           "Report", "Specification", "flatten", "load", "parse", "validate", "verify", "__version__"]

from . import audit as _audit_package  # noqa: E402  load it first: the function below then
                                       # shadows the subpackage attribute for good


def audit(spec, sources, protocol=None, format=None, checker=None, **kw):  # noqa: ANN001, ANN201
    """Audit logs against a protocol: see `protoverify.audit.driver.audit`."""
    from .audit.driver import audit as _audit
    return _audit(spec, sources, protocol=protocol, format=format, checker=checker, **kw)
