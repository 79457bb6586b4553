"""The immutable protocol model: what a BSPL file says, with source positions.

Positions (`Span`) are excluded from equality so that two models that say the
same thing compare equal wherever their text came from (round-trip tests).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

Adornment = Literal["in", "out", "nil", "any", "opt"]
ADORNMENTS: tuple[str, ...] = ("in", "out", "nil", "any", "opt")
MESSAGE_ADORNMENTS: tuple[str, ...] = ("in", "out", "nil")


@dataclass(frozen=True, slots=True)
class Span:
    """1-based line and column of the first character, and of the end."""

    line: int
    column: int
    end_line: int = 0
    end_column: int = 0


def _span() -> Span | None:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Parameter:
    """A parameter as declared (protocol level) or carried (message level)."""

    name: str
    adornment: str | None = None
    key: bool = False
    tags: tuple[str, ...] = ()
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    span: Span | None = _span()


class Adorned:
    """`ins`/`outs`/`nils` for classes that define `adorned(adornment)` (which parameters count)."""

    __slots__ = ()

    def adorned(self, adornment: str) -> tuple[str, ...]:
        """The names of the parameters with this adornment; each subclass says which parameters count."""
        raise NotImplementedError

    @property
    def ins(self) -> tuple[str, ...]:
        return self.adorned("in")

    @property
    def outs(self) -> tuple[str, ...]:
        return self.adorned("out")

    @property
    def nils(self) -> tuple[str, ...]:
        return self.adorned("nil")


@dataclass(frozen=True, slots=True)
class Message(Adorned):
    """`sender -> recipients: name[parameters]` as written."""

    name: str
    sender: str
    recipients: tuple[str, ...]
    parameters: tuple[Parameter, ...] = ()
    span: Span | None = _span()
    sender_span: Span | None = _span()
    recipient_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)

    def adorned(self, adornment: str) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.adornment == adornment)

    @property
    def signature(self) -> tuple[str, frozenset[str], frozenset[Parameter]]:
        """What makes two declarations of one name the same schema (order-insensitive)."""
        return (self.sender, frozenset(self.recipients), frozenset(self.parameters))


@dataclass(frozen=True, slots=True)
class Reference:
    """`Name(args)` composing another protocol.

    `roles` is None when the reference does not separate roles with `|`; then
    the first arguments (as many as the callee has roles) are its roles.
    """

    name: str
    arguments: tuple[Parameter, ...]
    roles: tuple[Parameter, ...] | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Protocol(Adorned):
    name: str
    roles: tuple[Role, ...]
    public: tuple[Parameter, ...]
    private: tuple[Parameter, ...] = ()
    body: tuple[Message | Reference, ...] = ()
    span: Span | None = _span()
    name_span: Span | None = _span()

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(b for b in self.body if isinstance(b, Message))

    @property
    def references(self) -> tuple[Reference, ...]:
        return tuple(b for b in self.body if isinstance(b, Reference))

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.roles)

    @property
    def public_params(self) -> tuple[Parameter, ...]:
        """The public parameters as the protocol means them: each name once.

        A repeated declaration (`out x, out x`) is one parameter, at its first position
        (reference arguments bind by these positions), and a key if any copy says `key`.
        """
        return _unique(self.public)

    @property
    def private_params(self) -> tuple[Parameter, ...]:
        """The private parameters, each once, without those also declared public
        (a parameter declared both is public, as in bspl)."""
        public = {p.name for p in self.public}
        return _unique(tuple(p for p in self.private if p.name not in public))

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        return self.public_params + self.private_params

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.key)

    def adorned(self, adornment: str) -> tuple[str, ...]:
        return tuple(p.name for p in self.public_params if p.adornment == adornment)


def _unique(params: tuple[Parameter, ...]) -> tuple[Parameter, ...]:
    """First declaration of each name, made a key when any declaration of it is one."""
    first: dict[str, Parameter] = {}
    for p in params:
        if p.name not in first:
            first[p.name] = p
        elif p.key and not first[p.name].key:
            first[p.name] = replace(first[p.name], key=True)
    return tuple(first.values())


@dataclass(frozen=True, slots=True)
class Specification:
    """The protocols of one file (or text), by name, in file order."""

    protocols: tuple[Protocol, ...]
    source: str = field(default="<text>", compare=False)

    def __iter__(self) -> Iterator[Protocol]:
        return iter(self.protocols)

    def __len__(self) -> int:
        return len(self.protocols)

    def __getitem__(self, name: str) -> Protocol:
        for p in self.protocols:
            if p.name == name:
                return p
        raise KeyError(f"no protocol named {name!r} in {self.source}; "
                       f"it has: {', '.join(p.name for p in self.protocols)}")

    def get(self, name: str) -> Protocol | None:
        return next((p for p in self.protocols if p.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.protocols)
