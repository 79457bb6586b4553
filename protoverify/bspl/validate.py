"""Static checks of a Specification: everything the reference tool rejects, located.

`validate` never raises on a parsed specification; every problem is a Diagnostic.
"""
from __future__ import annotations

from .compose import FlatProtocol, flatten, split_arguments
from .diagnostics import Diagnostic, excerpt
from .model import MESSAGE_ADORNMENTS, Protocol, Span, Specification
from .parser import BSPLError


class _Collector:
    def __init__(self, spec: Specification, text: str):
        self.spec, self.text, self.items = spec, text, []

    def add(self, code: str, msg: str, span: Span | None, protocol: str | None) -> None:
        line, col = (span.line, span.column) if span else (0, 0)
        self.items.append(Diagnostic(code, msg, self.spec.source, line, col, protocol,
                                     excerpt(self.text, line, col) if self.text else ""))


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
    seen = set()
    for par in p.public:
        if par.name in seen:
            c.add("E003", f"parameter {par.name!r} declared twice", par.span, p.name)
        seen.add(par.name)
    priv: set[str] = set()
    for par in p.private:
        if par.name in seen:
            c.add("E004", f"parameter {par.name!r} is declared public and private", par.span, p.name)
        elif par.name in priv:
            c.add("E003", f"private parameter {par.name!r} declared twice", par.span, p.name)
        priv.add(par.name)
    if not any(par.key for par in p.public):
        c.add("E012", f"protocol {p.name!r} declares no public key parameter", p.name_span, p.name)


def _messages(p: Protocol, c: _Collector) -> None:
    roles = set(p.role_names)
    declared = {par.name: par for par in p.parameters}
    names: set[str] = set()
    for m in p.messages:
        if m.name in names:
            c.add("E019", f"message {m.name!r} is defined twice in {p.name!r}", m.span, p.name)
        names.add(m.name)
        if m.sender not in roles:
            c.add("E010", f"sender {m.sender!r} of {m.name!r} is not a role of {p.name!r} "
                  f"(roles: {', '.join(p.role_names)})", m.sender_span, p.name)
        for r, sp in zip(m.recipients, m.recipient_spans or (None,) * len(m.recipients)):
            if r not in roles:
                c.add("E010", f"recipient {r!r} of {m.name!r} is not a role of {p.name!r} "
                      f"(roles: {', '.join(p.role_names)})", sp, p.name)
            elif r == m.sender:
                c.add("E022", f"{m.name!r} is sent by {r!r} to itself", sp, p.name)
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
        if len(role_args) != len(callee.roles) or len(param_args) != len(callee.public):
            c.add("E020", f"{ref.name} takes {len(callee.roles)} roles and {len(callee.public)} "
                  f"parameters ({', '.join(callee.role_names)} | "
                  f"{', '.join(x.name for x in callee.public)}); got {len(role_args)} and "
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
    for par in p.public:
        if par.adornment == "out" and par.name not in outs:
            c.add("E014", f"public out parameter {par.name!r} is bound as out by no message",
                  par.span, p.name)
        if par.adornment == "in":
            for m in flat.binders(par.name):
                c.add("E015", f"{m.name!r} binds public in parameter {par.name!r} as out", m.span, p.name)
    public_in = set(flat.ins)
    for par in p.parameters:
        if par.name not in used:
            c.add("W103", f"parameter {par.name!r} is declared but no message uses it", par.span, p.name)
    for par in p.private:
        if par.name in outs and par.name not in ins:
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


def validate(spec: Specification, text: str = "") -> list[Diagnostic]:
    """All static diagnostics of `spec`, in file order. `text` adds source excerpts."""
    c = _Collector(spec, text)
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
