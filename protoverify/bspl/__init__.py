"""The BSPL language core: grammar, parser, immutable model, composition, diagnostics."""
from .canonical import specification as canonical
from .compose import FlatMessage, FlatParam, FlatProtocol, flatten
from .diagnostics import CODES, Diagnostic
from .model import Message, Parameter, Protocol, Reference, Role, Span, Specification
from .parser import BSPLError, BSPLSyntaxError, load, parse, read_source
from .validate import validate

__all__ = [
    "BSPLError", "BSPLSyntaxError", "CODES", "Diagnostic", "FlatMessage", "FlatParam",
    "FlatProtocol", "Message", "Parameter", "Protocol", "Reference", "Role", "Span",
    "Specification", "canonical", "flatten", "load", "parse", "read_source", "validate",
]
