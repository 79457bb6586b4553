"""Composition: flatten a protocol and everything it references into one message set.

The verifier and the Monitor work on a FlatProtocol only: roles and parameters of
referenced protocols are bound by position to the caller's names, and the
private parameters of a sub-protocol stay its own (renamed `Ref.param` where they
would otherwise clash), as the BSPL papers scope them.

A message name declared more than once in a protocol (a polymorphic message) is one
schema per declaration: the n-th declaration of `process` (n >= 2) is `process#n` in
the flat protocol (`#` starts a comment in BSPL, so no written name can clash), and
`FlatProtocol.resolve` picks the declaration a log event means by what it carries. A
declaration identical to an earlier one adds nothing and is left out.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property

from .diagnostics import Diagnostic
from .model import MESSAGE_ADORNMENTS, Adorned, Message, Parameter, Protocol, Reference, Span, Specification
from .parser import BSPLError


@dataclass(frozen=True, slots=True)
class FlatParam:
    name: str
    adornment: str  # in | out | nil
    key: bool = False


@dataclass(frozen=True)
class FlatMessage:
    """A message of the flattened protocol, with names in the top protocol's scope."""

    name: str  # unique in the flat protocol: `rfq`, `Pack/Wrap` from a reference, `rfq#2`
    sender: str
    recipients: tuple[str, ...]
    params: tuple[FlatParam, ...]
    local: str = ""  # the name as written in its own protocol
    origin: str = ""  # the protocol it is written in
    span: Span | None = field(default=None, compare=False, repr=False)

    @cached_property
    def ins(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params if p.adornment == "in")

    @cached_property
    def outs(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params if p.adornment == "out")

    @cached_property
    def nils(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params if p.adornment == "nil")

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.key)

    @cached_property
    def carried(self) -> tuple[str, ...]:
        """Parameters whose values the message carries (in and out, not nil)."""
        return tuple(p.name for p in self.params if p.adornment != "nil")

    def adornment(self, name: str) -> str | None:
        return next((p.adornment for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class FlatProtocol(Adorned):
    """A protocol with its references resolved: what one enactment can do."""

    name: str
    roles: tuple[str, ...]
    public: tuple[Parameter, ...]
    private: tuple[str, ...]
    keys: tuple[str, ...]
    messages: tuple[FlatMessage, ...]
    source: str = "<text>"

    @cached_property
    def by_name(self) -> dict[str, FlatMessage]:
        return {m.name: m for m in self.messages}

    def message(self, name: str) -> FlatMessage | None:
        """Find a message by its flat name, `Protocol/name`, or its unique local name.

        A polymorphic name gives its first declaration; `resolve` picks by parameters."""
        m = self.by_name.get(name)
        if m is not None:
            return m
        if name.startswith(self.name + "/"):
            return self.message(name[len(self.name) + 1:])
        local = [m for m in self.messages if m.local == name or m.name.endswith("/" + name)]
        return local[0] if len(local) == 1 else None

    @cached_property
    def polymorphic(self) -> dict[str, tuple[FlatMessage, ...]]:
        """Names that stand for two or more declarations -> those declarations, in order.

        Keys: the name as written with its reference prefix (`process`, `Pack/process`),
        the same under this protocol's name (`P/process`), and the written local name
        when all its declarations come from one place.
        """
        groups: dict[str, list[FlatMessage]] = {}
        for m in self.messages:
            groups.setdefault(m.name.split("#", 1)[0], []).append(m)
        out: dict[str, tuple[FlatMessage, ...]] = {}
        for base, ms in groups.items():
            if len(ms) > 1:
                out[base] = out[f"{self.name}/{base}"] = tuple(ms)
        for group in list(out.values()):
            local = group[0].local
            if local not in out and all(m.local != local or m in group for m in self.messages):
                out[local] = group
        return out

    def resolve(self, name: str, carried: Collection[str], sender: str | None = None) -> FlatMessage | None:
        """The declaration of `name` that a log event carrying `carried` means.

        Not polymorphic: `message(name)`. Polymorphic: the declaration whose carried
        parameters (in and out) are exactly `carried`, else the unique one with the
        fewest parameters missing or extra. `sender`, when given, only breaks a tie
        (some log readers fill in the sender from the first declaration of a name).
        None when no single declaration fits best.
        """
        options = self.polymorphic.get(name)
        if options is None:
            return self.message(name)
        have = frozenset(carried)
        cost = [(len(have.symmetric_difference(m.carried)), m) for m in options]
        best = min(c for c, _ in cost)
        fits = [m for c, m in cost if c == best]
        if len(fits) > 1 and sender is not None:
            fits = [m for m in fits if m.sender == sender]
        return fits[0] if len(fits) == 1 else None

    def adorned(self, adornment: str) -> tuple[str, ...]:
        return tuple(p.name for p in self.public if p.adornment == adornment)

    @cached_property
    def parameters(self) -> tuple[str, ...]:
        names = [p.name for p in self.public] + list(self.private)
        for m in self.messages:
            names.extend(p.name for p in m.params)
        return tuple(dict.fromkeys(names))

    def binders(self, parameter: str) -> tuple[FlatMessage, ...]:
        """Messages that bind `parameter` as out."""
        return tuple(m for m in self.messages if parameter in m.outs)

    def readers(self, parameter: str) -> tuple[FlatMessage, ...]:
        """Messages that need `parameter` as in."""
        return tuple(m for m in self.messages if parameter in m.ins)


def _fail(code: str, msg: str, spec: Specification, span: Span | None, protocol: str) -> BSPLError:
    line, col = (span.line, span.column) if span else (0, 0)
    return BSPLError(Diagnostic(code, msg, spec.source, line, col, protocol))


def _messages(spec: Specification, proto: Protocol, roles: dict[str, str], params: dict[str, str],
              keys: set[str], prefix: str, stack: tuple[str, ...]) -> list[FlatMessage]:
    """Messages of `proto` with its role and parameter names mapped into the caller's scope."""
    out: list[FlatMessage] = []
    for m, name in declarations(proto):
        fps = tuple(
            FlatParam(params.get(p.name, p.name), p.adornment,
                      p.key or params.get(p.name, p.name) in keys)
            for p in m.parameters if p.adornment in MESSAGE_ADORNMENTS)
        out.append(FlatMessage(f"{prefix}{name}", roles.get(m.sender, m.sender),
                               tuple(roles.get(r, r) for r in m.recipients), fps,
                               m.name, proto.name, m.span))
    seen: dict[str, int] = {}
    for ref in proto.references:
        seen[ref.name] = seen.get(ref.name, 0) + 1
        label = ref.name + (str(seen[ref.name]) if seen[ref.name] > 1 else "")
        out.extend(_instance(spec, proto, ref, label, roles, params, keys, stack))
    return out


def declarations(proto: Protocol) -> list[tuple[Message, str]]:
    """The message schemas of `proto`, each with its flat name (before any reference prefix).

    The n-th declaration of a name is `name#n` for n >= 2 (n counts written declarations,
    so the suffix says which one in the file); a copy identical to an earlier declaration
    of its name is left out.
    """
    count: dict[str, int] = {}
    seen: set[tuple[str, tuple[str, frozenset[str], frozenset[Parameter]]]] = set()
    out: list[tuple[Message, str]] = []
    for m in proto.messages:
        n = count[m.name] = count.get(m.name, 0) + 1
        sig = (m.name, m.signature)
        if sig in seen:
            continue
        seen.add(sig)
        out.append((m, m.name if n == 1 else f"{m.name}#{n}"))
    return out


def _instance(spec: Specification, parent: Protocol, ref: Reference, label: str,
              roles: dict[str, str], params: dict[str, str], keys: set[str],
              stack: tuple[str, ...]) -> list[FlatMessage]:
    callee = spec.get(ref.name)
    if callee is None:
        raise _fail("E016", f"reference to unknown protocol {ref.name!r}", spec, ref.span, parent.name)
    if callee.name in stack:
        cycle = " -> ".join(stack + (callee.name,))
        raise _fail("E018", f"recursive reference: {cycle}", spec, ref.span, parent.name)
    role_args, param_args = _split_arguments(ref, callee)
    if len(role_args) != len(callee.roles) or len(param_args) != len(callee.public_params):
        raise _fail("E020", f"{ref.name} takes {len(callee.roles)} roles and {len(callee.public_params)} "
                    f"parameters; got {len(role_args)} and {len(param_args)}", spec, ref.span, parent.name)
    sub_roles = {r.name: roles.get(a.name, a.name) for r, a in zip(callee.roles, role_args, strict=True)}
    # an argument binds by position whether adorned (`out x`) or not (`x`): the callee's
    # declaration gives the adornment, its messages theirs
    sub_params = {f.name: params.get(a.name, a.name) for f, a in zip(callee.public_params, param_args, strict=True)}
    sub_keys = set(keys)
    for f, a in zip(callee.public_params, param_args, strict=True):
        if f.key or a.key:
            sub_keys.add(sub_params[f.name])
    for p in callee.private_params:
        sub_params[p.name] = f"{label}.{p.name}"
        if p.key:
            sub_keys.add(sub_params[p.name])
    return _messages(spec, callee, sub_roles, sub_params, sub_keys, f"{label}/", stack + (callee.name,))


def _split_arguments(ref: Reference, callee: Protocol) -> tuple[tuple[Parameter, ...], tuple[Parameter, ...]]:
    if ref.roles is not None:
        return ref.roles, ref.arguments
    n = len(callee.roles)
    return ref.arguments[:n], ref.arguments[n:]


def split_arguments(ref: Reference, callee: Protocol) -> tuple[tuple[Parameter, ...], tuple[Parameter, ...]]:
    """A reference's role arguments and parameter arguments."""
    return _split_arguments(ref, callee)


def _unscope_privates(messages: list[FlatMessage], taken: set[str]) -> list[FlatMessage]:
    """Give a sub-protocol's private `Ref.p` back its plain name `p` when that clashes with nothing."""
    scoped: dict[str, set[str]] = {}
    for m in messages:
        for p in m.params:
            if "." in p.name:
                scoped.setdefault(p.name.split(".", 1)[1], set()).add(p.name)
    plain = {full: short for short, fulls in scoped.items()
             if len(fulls) == 1 and short not in taken for full in fulls}
    if not plain:
        return messages
    return [FlatMessage(m.name, m.sender, m.recipients,
                        tuple(FlatParam(plain.get(p.name, p.name), p.adornment, p.key) for p in m.params),
                        m.local, m.origin, m.span) for m in messages]


def flatten(spec: Specification, protocol: str | Protocol) -> FlatProtocol:
    """Resolve every reference of `protocol`; raise BSPLError on a bad reference."""
    proto = spec[protocol] if isinstance(protocol, str) else protocol
    keys = set(proto.keys)
    messages = _messages(spec, proto, {}, {}, keys, "", (proto.name,))
    declared = {p.name for p in proto.parameters}
    messages = _unscope_privates(messages, declared)
    private = dict.fromkeys(p.name for p in proto.private_params)
    for m in messages:
        for p in m.params:
            if p.name not in declared:
                private[p.name] = None
    all_keys = list(keys) + [p.name for m in messages for p in m.params if p.key and p.name not in keys]
    return FlatProtocol(proto.name, proto.role_names, proto.public_params, tuple(private),
                        tuple(dict.fromkeys(all_keys)), tuple(messages), spec.source)
