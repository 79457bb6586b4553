"""An ordered string enum: members compare by the order they are declared in.

Verdicts and severities are ranked (the worst one decides an exit code); declaring
the rank by the order of the members, instead of in a separate table of strings,
keeps the two from drifting apart. The values stay the plain strings the JSON,
SARIF and CLI options use.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any


class OrderedStrEnum(StrEnum):
    """A StrEnum whose members are ordered by declaration (first is lowest)."""

    @property
    def rank(self) -> int:
        """Position in the declaration order (0 for the first member)."""
        return list(type(self)).index(self)

    def _other(self, other: Any) -> int | None:
        if isinstance(other, type(self)):
            return other.rank
        return None

    def __lt__(self, other: Any) -> bool:
        o = self._other(other)
        return NotImplemented if o is None else self.rank < o

    def __le__(self, other: Any) -> bool:
        o = self._other(other)
        return NotImplemented if o is None else self.rank <= o

    def __gt__(self, other: Any) -> bool:
        o = self._other(other)
        return NotImplemented if o is None else self.rank > o

    def __ge__(self, other: Any) -> bool:
        o = self._other(other)
        return NotImplemented if o is None else self.rank >= o

    __hash__ = StrEnum.__hash__
