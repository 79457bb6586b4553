"""Static diagnostics: stable codes, a location and a fix hint for each.

Codes never change meaning once published; docs/language.md lists them all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]

# code -> (severity, title, fix hint)
CODES: dict[str, tuple[str, str, str]] = {
    "E000": ("error", "unreadable file", "check the path, and that the file is UTF-8 text"),
    "E001": ("error", "syntax error", "fix the text at the caret; the message says what was expected there"),
    "E002": ("error", "duplicate protocol name", "rename one of the protocols; names must be unique in a file"),
    "E003": ("error", "duplicate declaration", "declare each role and parameter once per protocol"),
    "E004": ("error", "parameter both public and private",
             "keep the parameter in `parameters` or in `private`, not both"),
    "E010": ("error", "undeclared role", "add the role to the protocol's `roles` line, or fix its spelling"),
    "E011": ("error", "undeclared parameter",
             "declare the parameter under `parameters` or `private`, or fix its spelling"),
    "E012": ("error", "protocol has no key parameter",
             "mark the parameter that identifies an enactment `key`, e.g. `out ID key`"),
    "E013": ("error", "message carries no key parameter",
             "add the protocol's key parameter to the message, e.g. `in ID key`"),
    "E014": ("error", "public out parameter never bound",
             "add a message (or reference) that binds the parameter as `out`, or make it `in`"),
    "E015": ("error", "public in parameter bound by a message",
             "a public `in` comes from outside; adorn it `in` in the message, or make it `out` in the protocol"),
    "E016": ("error", "unknown referenced protocol", "define the referenced protocol in this file, or fix its name"),
    "E017": ("error", "reference argument not declared in the parent",
             "declare the argument as a role or parameter of the enclosing protocol"),
    "E018": ("error", "recursive reference",
             "a protocol may not (directly or indirectly) reference itself; break the cycle"),
    "E019": ("error", "duplicate message name", "rename one of the messages; names must be unique in a protocol"),
    "E020": ("error", "reference arity mismatch",
             "pass one argument per role and per public parameter of the referenced protocol, in order"),
    "E021": ("error", "adornment not allowed on a message parameter", "message parameters are `in`, `out` or `nil`"),
    "E022": ("error", "message sent to its own sender", "list other roles as recipients"),
    "W101": ("warning", "parameter bound but never used",
             "one message binds this private parameter and none reads it, so dropping it (from `private` and from "
             "that message) changes no verdict; or read it as `in` somewhere"),
    "W102": ("warning", "parameter never bound",
             "messages need this parameter as `in` but no message binds it as `out`: they can never be sent"),
    "W103": ("warning", "declared parameter never used",
             "no message or reference mentions it: removing the declaration (and its argument in references to this "
             "protocol) changes no verdict"),
    "W104": ("warning", "message parameter without adornment",
             "the message does not carry it: deleting it changes nothing (adorning it `in`, `out` or `nil` changes "
             "the protocol: check again)"),
    "W105": ("warning", "role never sends or receives",
             "it takes part in no message: removing the role (and its argument in references to this protocol) "
             "changes no verdict; or give it messages"),
    "W106": ("warning", "message declared twice identically",
             "delete the copy: it is the same schema, so no verdict changes"),
    "W107": ("warning", "parameter both public and private",
             "the parameter is public (as in bspl): delete its `private` declaration, which changes no verdict"),
    "W108": ("warning", "public out parameter never bound",
             "no enactment can complete (nonlive): add a message (or reference) that binds it as `out`, "
             "or make it `in`"),
    "W109": ("warning", "parameter declared twice",
             "it is one parameter: delete the repeated declaration, which changes no verdict"),
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One static finding about a specification, located in its source file."""

    code: str
    message: str
    source: str = "<text>"
    line: int = 0
    column: int = 0
    protocol: str | None = None
    excerpt: str = ""

    @property
    def severity(self) -> str:
        return CODES[self.code][0]

    @property
    def title(self) -> str:
        return CODES[self.code][1]

    @property
    def hint(self) -> str:
        return CODES[self.code][2]

    def to_dict(self) -> dict[str, str | int | None]:
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "protocol": self.protocol,
            "hint": self.hint,
        }

    def format(self) -> str:
        """`file:line:col: severity CODE: message`, the excerpt with a caret, then the hint."""
        where = f"{self.source}:{self.line}:{self.column}" if self.line else self.source
        head = f"{where}: {self.severity} {self.code}: {self.message}"
        parts = [head]
        if self.excerpt:
            parts.append(self.excerpt)
        parts.append(f"  hint: {self.hint}")
        return "\n".join(parts)


def excerpt(text: str, line: int, column: int) -> str:
    """The offending line with a caret under the column (lark's style)."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    src = lines[line - 1].expandtabs(4)
    width = len(str(line))
    return f"  {line} | {src}\n  {' ' * width} | {' ' * max(column - 1, 0)}^"
