"""protoverify: prove and audit the interaction protocols (BSPL) that agents enact.

Library API (stable): `load`, `validate`, `flatten`; `verify` and `audit` arrive
with their subpackages. Nothing here prints or exits: the CLI does that.
"""
from .bspl import (BSPLError, BSPLSyntaxError, Diagnostic, FlatProtocol, Protocol,
                   Specification, flatten, load, parse, validate)

__version__ = "0.1.0"
__all__ = ["BSPLError", "BSPLSyntaxError", "Diagnostic", "FlatProtocol", "Protocol",
           "Specification", "flatten", "load", "parse", "validate", "__version__"]
