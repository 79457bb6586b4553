"""Static checks of a Specification: everything the reference tool rejects, located.

`validate` never raises on a parsed specification; every problem is a Diagnostic.
Where bspl accepts a construct we would once have refused (a polymorphic message, a
message to its own sender, a parameter declared twice or public and private, a public
`out` nothing binds), we accept it too and warn where a warning helps; `strict=True`
reports these as the errors they were (docs/language.md, "Dialect decisions").
"""
from __future__ import annotations

from .compose import FlatProtocol, flatten, split_arguments
from .diagnostics import Diagnostic, excerpt
from .model import MESSAGE_ADORNMENTS, Message, Parameter, Protocol, Span, Specification
from .parser import BSPLError


class _Collector:
    def __init__(self, spec: Specification, text: str, strict: bool = False):
        self.spec, self.text, self.strict = spec, text, strict
        self.items: list[Diagnostic] = []

    def add(self, code: str, msg: str, span: Span | None, protocol: str | None) -> None:
        line, col = (span.line, span.column) if span else (0, 0)
        self.items.append(Diagnostic(code, msg, self.spec.source, line, col, protocol,
                                     excerpt(self.text, line, col) if self.text else ""))

    def dialect(self, lenient: str | None, strict: str, msg: str, span: Span | None,
                protocol: str | None, accepted: str = "") -> None:
        """A construct bspl accepts: `lenient` (a warning, or None for silence) by
        default, with `accepted` (what we make of it) appended; the error `strict`
        in strict mode."""
        if self.strict:
            self.add(strict, msg, span, protocol)
        elif lenient is not None:
            self.add(lenient, msg + accepted, span, protocol)


def _at(span: Span | None) -> str:
    return f"{span.line}:{span.column}" if span else "?"


def _repeated(par: Parameter, first: Parameter, what: str, p: Protocol, c: _Collector) -> None:
    """A parameter declared again: one parameter if the adornments agree, else an error."""
    if par.adornment == first.adornment:
        c.dialect("W109", "E003", f"{what} {par.name!r} declared twice (first at {_at(first.span)})",
                  par.span, p.name, "; it is one parameter" + (", a key" if par.key != first.key else ""))
    else:
        c.add("E003", f"{what} {par.name!r} declared twice, {first.adornment or 'unadorned'} at "
              f"{_at(first.span)} and {par.adornment or 'unadorned'} here", par.span, p.name)


def _cycles(spec: Specification) -> set[str]:
    """Protocols that reach themselves through references (a depth-first search from
    each protocol: specs are small, and this keeps graph libraries off the start-up path)."""
    succ = {p.name: {r.name for r in p.references if spec.get(r.name) is not None} for p in spec}
    cyclic: set[str] = set()
    for start in succ:
        stack, seen = list(succ[start]), set()
        while stack:
            n = stack.pop()
            if n == start:
                cyclic.add(start)
                break
            if n not in seen:
                seen.add(n)
                stack.extend(succ.get(n, ()))
    return cyclic


def _declarations(p: Protocol, c: _Collector) -> None:
    seen: set[str] = set()
    for r in p.roles:
        if r.name in seen:
            c.add("E003", f"role {r.name!r} declared twice", r.span, p.name)
        seen.add(r.name)
    public: dict[str, Parameter] = {}
    for par in p.public:
        if par.name in public:
            _repeated(par, public[par.name], "parameter", p, c)
        else:
            public[par.name] = par
    priv: dict[str, Parameter] = {}
    for par in p.private:
        if par.name in public:
            c.dialect("W107", "E004", f"parameter {par.name!r} is declared public (at "
                      f"{_at(public[par.name].span)}) and private (at {_at(par.span)})",
                      par.span, p.name, "; it is public")
        elif par.name in priv:
            _repeated(par, priv[par.name], "private parameter", p, c)
        else:
            priv[par.name] = par
    if not any(par.key for par in p.public):
        c.add("E012", f"protocol {p.name!r} declares no public key parameter", p.name_span, p.name)


def _messages(p: Protocol, c: _Collector) -> None:
    roles = set(p.role_names)
    declared = {par.name: par for par in p.parameters}
    earlier: dict[str, list[Message]] = {}
    for m in p.messages:
        same = next((o for o in earlier.get(m.name, ()) if o.signature == m.signature), None)
        if same is not None:
            c.dialect("W106", "E019", f"message {m.name!r} is declared twice identically (first at "
                      f"{_at(same.span)})", m.span, p.name, "; the copy adds nothing")
        elif m.name in earlier:  # polymorphic: its own schema, `name#n` in the flat protocol
            c.dialect(None, "E019", f"message {m.name!r} is defined twice in {p.name!r}", m.span, p.name)
        earlier.setdefault(m.name, []).append(m)
        if m.sender not in roles:
            c.add("E010", f"sender {m.sender!r} of {m.name!r} is not a role of {p.name!r} "
                  f"(roles: {', '.join(p.role_names)})", m.sender_span, p.name)
        for r, sp in zip(m.recipients, m.recipient_spans or (None,) * len(m.recipients), strict=False):
            if r not in roles:
                c.add("E010", f"recipient {r!r} of {m.name!r} is not a role of {p.name!r} "
                      f"(roles: {', '.join(p.role_names)})", sp, p.name)
            elif r == m.sender:  # a local record: only the sender learns it
                c.dialect(None, "E022", f"{m.name!r} is sent by {r!r} to itself", sp, p.name)
        for par in m.parameters:
            if par.name not in declared:
                c.add("E011", f"parameter {par.name!r} of {m.name!r} is not declared in {p.name!r}",
                      par.span, p.name)
            if par.adornment is None:
                c.add("W104", f"parameter {par.name!r} of {m.name!r} has no adornment and is ignored",
                      par.span, p.name)
            elif par.adornment not in MESSAGE_ADORNMENTS:
                c.add("E021", f"{par.adornment!r} on {par.name!r} in {m.name!r}: message parameters "
                      "are in, out or nil", par.span, p.name)
        keyed = any(par.key or (par.name in declared and declared[par.name].key) for par in m.parameters)
        if not keyed:
            c.add("E013", f"message {m.name!r} carries none of the key parameters "
                  f"({', '.join(p.keys) or 'none declared'})", m.span, p.name)


def _references(spec: Specification, p: Protocol, cyclic: set[str], c: _Collector) -> bool:
    """Check references; True when they are sound enough to flatten."""
    ok = True
    roles, params = set(p.role_names), {par.name for par in p.parameters}
    for ref in p.references:
        callee = spec.get(ref.name)
        if callee is None:
            c.add("E016", f"{p.name!r} references unknown protocol {ref.name!r} "
                  f"(this file has: {', '.join(spec.names)})", ref.span, p.name)
            ok = False
            continue
        if p.name in cyclic and callee.name in cyclic:
            c.add("E018", f"{p.name!r} references {callee.name!r}, which leads back to {p.name!r}",
                  ref.span, p.name)
            ok = False
            continue
        role_args, param_args = split_arguments(ref, callee)
        if len(role_args) != len(callee.roles) or len(param_args) != len(callee.public_params):
            c.add("E020", f"{ref.name} takes {len(callee.roles)} roles and {len(callee.public_params)} "
                  f"parameters ({', '.join(callee.role_names)} | "
                  f"{', '.join(x.name for x in callee.public_params)}); got {len(role_args)} and "
                  f"{len(param_args)}", ref.span, p.name)
            ok = False
            continue
        for a in role_args:
            if a.name not in roles:
                c.add("E017", f"role argument {a.name!r} of {ref.name} is not a role of {p.name!r}",
                      a.span, p.name)
                ok = False
        for a in param_args:
            if a.name not in params:
                c.add("E017", f"parameter argument {a.name!r} of {ref.name} is not declared in "
                      f"{p.name!r}", a.span, p.name)
                ok = False
    return ok


def _flow(p: Protocol, flat: FlatProtocol, c: _Collector) -> None:
    """Checks on the flattened message set: who binds what, who reads what."""
    outs = {n for m in flat.messages for n in m.outs}
    ins = {n for m in flat.messages for n in m.ins}
    used = {n for m in flat.messages for n in (x.name for x in m.params)}
    used |= {a.name for r in p.references for a in r.arguments}
    unbound: set[str] = set()
    for par in p.public_params:
        if par.adornment == "out" and par.name not in outs:
            unbound.add(par.name)
            c.dialect("W108", "E014", f"public out parameter {par.name!r} is bound as out by no "
                      "message", par.span, p.name, ", so no enactment completes (nonlive)")
        if par.adornment == "in":
            for m in flat.binders(par.name):
                c.add("E015", f"{m.name!r} binds public in parameter {par.name!r} as out", m.span, p.name)
    public_in = set(flat.ins)
    for par in p.parameters:
        # an unused public out is the nonlive W108/E014: removing it would change the verdict
        if par.name not in used and par.name not in unbound:
            c.add("W103", f"parameter {par.name!r} is declared but no message uses it", par.span, p.name)
    nil = {n for m in flat.messages for n in m.nils}
    for par in p.private_params:
        # Two or more binders: the parameter makes them mutually exclusive (`resp` bound by
        # accept and by reject lets only one happen), and dropping it could make the
        # protocol unsafe; a `nil` use tests it; a key identifies enactments. Only a lone,
        # unread, non-key binding is dead weight.
        if par.name in outs and par.name not in ins and par.name not in nil \
                and par.name not in flat.keys and len(flat.binders(par.name)) == 1:
            c.add("W101", f"private parameter {par.name!r} is bound but no message reads it",
                  par.span, p.name)
    for name in sorted(ins - outs - public_in):
        readers = ", ".join(m.name for m in flat.readers(name))
        decl = p.parameter(name)
        span = decl.span if decl else flat.readers(name)[0].span
        c.add("W102", f"parameter {name!r} is never bound, so {readers} can never be sent", span, p.name)
    active = {m.sender for m in flat.messages} | {r for m in flat.messages for r in m.recipients}
    for r in p.roles:
        if r.name not in active:
            c.add("W105", f"role {r.name!r} neither sends nor receives any message", r.span, p.name)


def validate(spec: Specification, text: str = "", strict: bool = False) -> list[Diagnostic]:
    """All static diagnostics of `spec`, in file order. `text` adds source excerpts.

    `strict` refuses what bspl accepts but a careful author may not mean (polymorphic and
    self-addressed messages, repeated or public-and-private declarations, public `out`
    parameters nothing binds): errors instead of warnings or silence.
    """
    c = _Collector(spec, text, strict)
    names: set[str] = set()
    for p in spec:
        if p.name in names:
            c.add("E002", f"protocol {p.name!r} is defined twice", p.name_span, p.name)
        names.add(p.name)
    cyclic = _cycles(spec)
    for p in spec:
        _declarations(p, c)
        _messages(p, c)
        if _references(spec, p, cyclic, c):
            try:
                _flow(p, flatten(spec, p), c)
            except BSPLError as e:  # a sub-protocol's own problem, reported on the sub-protocol
                if e.diagnostic.protocol == p.name:
                    c.items.append(e.diagnostic)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(c.items, key=lambda d: (d.line, d.column, order[d.severity], d.code))
