"""Model -> canonical BSPL text. parse(canonical(spec)) == spec (round-trip tested)."""
from __future__ import annotations

from .model import Message, Parameter, Protocol, Reference, Specification


def parameter(p: Parameter) -> str:
    parts = [p.adornment] if p.adornment else []
    parts.append(p.name)
    text = " ".join(parts)
    if p.tags:
        text += ": " + " ".join(p.tags)
    return text + (" key" if p.key else "")


def message(m: Message) -> str:
    params = ", ".join(parameter(p) for p in m.parameters)
    return f"{m.sender} -> {', '.join(m.recipients)}: {m.name}[{params}]"


def reference(r: Reference) -> str:
    args = ", ".join(parameter(p) for p in r.arguments)
    if r.roles is not None:
        args = ", ".join(parameter(p) for p in r.roles) + " | " + args
    return f"{r.name}({args})"


def protocol(p: Protocol) -> str:
    lines = [f"{p.name} {{", f"  roles {', '.join(p.role_names)}",
             f"  parameters {', '.join(parameter(x) for x in p.public)}"]
    if p.private:
        lines.append(f"  private {', '.join(parameter(x) for x in p.private)}")
    lines.append("")
    for item in p.body:
        lines.append("  " + (message(item) if isinstance(item, Message) else reference(item)))
    lines.append("}")
    return "\n".join(lines)


def specification(spec: Specification) -> str:
    return "\n\n".join(protocol(p) for p in spec) + "\n"
