"""Parse the Python-repr-like argument lists Ahoy prints, e.g.
`rfq(ID='b6e2…',item='pen, blue',price=4){system='Purchase'}`.

Values are split by a small tokenizer (quotes, escapes, brackets) and each one
is read with `ast.literal_eval` alone: literals only, never `eval`.
"""
from __future__ import annotations

import ast
import re
from typing import Any

_NAME = re.compile(r"[A-Za-z_]\w*\Z")


class ReprError(ValueError):
    """The text is not a `name=literal, …` list."""


def split_top_level(s: str) -> list[str]:
    """Split on commas outside quotes and brackets."""
    parts: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(s):
        c = s[i]
        if quote:
            if c == "\\":
                i += 1
            elif s.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif c in "'\"":
            quote = s[i:i + 3] if s[i:i + 3] in ("'''", '"""') else c
            i += len(quote) - 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                raise ReprError(f"unbalanced {c!r} at column {i + 1}")
        elif c == "," and depth == 0:
            parts.append(s[start:i])
            start = i + 1
        i += 1
    if quote:
        raise ReprError("unterminated string")
    if depth:
        raise ReprError("unbalanced brackets")
    parts.append(s[start:])
    return parts


def parse_kwargs(s: str) -> dict[str, Any]:
    """`ID='x',price=4` -> {'ID': 'x', 'price': 4}; raises ReprError on anything else."""
    out: dict[str, Any] = {}
    if not s.strip():
        return out
    for part in split_top_level(s):
        name, eq, value = part.partition("=")
        name = name.strip()
        if not eq or not _NAME.match(name):
            raise ReprError(f"expected name=value, got {part.strip()[:60]!r}")
        try:
            out[name] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
            raise ReprError(f"value of {name!r} is not a Python literal: {value.strip()[:60]!r}") from e
    return out
