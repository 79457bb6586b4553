"""An ordered string enum: members compare by the order they are declared in.

Verdicts and severities are ranked (the worst one decides an exit code); declaring
the rank by the order of the members, instead of in a separate table of strings,
keeps the two from drifting apart. The values stay the plain strings the JSON,
SARIF and CLI options use.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any

#: per enum class, member -> rank (filled on first use; members are fixed once declared)
_RANKS: dict[type, dict[Any, int]] = {}


class OrderedStrEnum(StrEnum):
    """A StrEnum whose members are ordered by declaration (first is lowest)."""

    @property
    def rank(self) -> int:
        """Position in the declaration order (0 for the first member)."""
        cls = type(self)
        ranks = _RANKS.get(cls)
        if ranks is None:
            ranks = _RANKS[cls] = {m: i for i, m in enumerate(cls)}
        return ranks[self]

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
