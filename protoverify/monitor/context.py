"""What the Monitor remembers of a run: one `Context` per enactment identity, and the
binding index that links a role's observations across contexts.

An enactment is identified, within one run, by the key parameters a message carries
and their values (`Context.keys`, `Context.kv`); duplication, integrity, completion
and closing are judged on that identity. What a role may *use* is decided by the
key-context rule (`protoverify.enactment`): its observations linked to the message
through shared key bindings, which `BindingIndex` finds by a small breadth-first
search instead of a scan of the run.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import count
from typing import Any

from ..enactment import linked_bindings

MISSING = object()
_SERIAL = count()  # creation order of contexts: the first of a family names it
#: the seed value of a key the message binds as `out` before it has one (matches nothing)
FRESH = object()


def hashable(v: Any) -> Any:
    """`v`, or a stand-in that hashes (a JSON list or object as a key value)."""
    if type(v) is str:
        return v
    try:
        hash(v)
        return v
    except TypeError:
        return ("<unhashable>", repr(v))


def show(v: Any) -> str:
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


class Sent:
    """One send remembered in its context (for duplicates, receipts and rollback)."""

    __slots__ = ("bindings", "line", "source", "pending", "new", "role")

    def __init__(self, bindings: Mapping[str, Any], line: int, source: str, role: str,
                 pending: dict[str, int] | None, new: tuple[str, ...]) -> None:
        self.bindings = bindings
        self.line = line
        self.source = source
        self.role = role
        self.pending = pending  # recipient role -> receipts still expected (receive mode)
        self.new = new  # parameters this send bound first (rolled back on reject/drop)


class Context:
    """What is known in one (sub-)enactment of one run: the values bound there, who
    knows which parameter from its own observations there, what was sent."""

    __slots__ = ("run", "keys", "kv", "_label", "values", "bound_by", "know", "sent", "agents",
                 "nout", "parents", "children", "source", "first_line", "last_line", "events",
                 "closed", "pending", "up", "serial")

    def __init__(self, run: str | None, keys: tuple[str, ...], kv: tuple[Any, ...], source: str,
                 line: int) -> None:
        self.run = run
        self.keys = keys
        self.kv = kv
        self._label: str | None = None
        self.values: dict[str, Any] = {}
        self.bound_by: dict[str, tuple[str, int]] = {}
        self.know: dict[str, set[str]] = {}
        self.sent: dict[str, Sent] = {}
        self.agents: dict[str, str] = {}
        self.nout = 0
        self.parents: list[Context] = []  # contexts of fewer keys, same values (integrity)
        self.children: list[Context] = []
        self.source = source
        self.first_line = line
        self.last_line = line
        self.events = 0
        self.closed = False
        self.pending = 0  # receipts still expected for sends in this context
        self.up: Context | None = None  # union-find parent: the family (enactment) it belongs to
        self.serial = next(_SERIAL)

    @property
    def label(self) -> str:
        """`orderID=o1` (the key bindings), built on first use."""
        if self._label is None:
            self._label = ",".join([k + "=" + (v if type(v) is str and len(v) <= 60 else show(v))
                                    for k, v in zip(self.keys, self.kv, strict=False)]) or "(no keys)"
        return self._label

    def value(self, p: str) -> Any:
        """The value bound to `p` here or in an ancestor context, else MISSING."""
        if p in self.values:
            return self.values[p]
        for par in self.parents:
            v = par.value(p)
            if v is not MISSING:
                return v
        return MISSING

    def family(self) -> Context:
        """The first context of the enactment this one belongs to (contexts sharing a
        key binding are one enactment: Relay's `id`, `q` and `data` contexts)."""
        c = self
        while c.up is not None:
            c = c.up
        if c is not self:
            self.up = c
        return c


class Knowledge:
    """What `role` knows for one message: the contexts of its linked observations, and the
    public inputs if their arrival is linked."""

    __slots__ = ("role", "contexts", "inputs")

    def __init__(self, role: str, contexts: list[Context], inputs: frozenset[str] = frozenset()) -> None:
        self.role = role
        self.contexts = contexts
        self.inputs = inputs

    def names(self) -> set[str]:
        out = set(self.inputs)
        for c in self.contexts:
            out.update(c.know.get(self.role, ()))
        return out

    def has(self, p: str) -> bool:
        return p in self.inputs or any(p in c.know.get(self.role, ()) for c in self.contexts)

    def values(self, p: str) -> list[Any]:
        """The values the role saw for `p` (empty for an input whose value no message showed)."""
        out: list[Any] = []
        for c in self.contexts:
            if p in c.know.get(self.role, ()) and p in c.values and c.values[p] not in out:
                out.append(c.values[p])
        return out

    def matches(self, p: str, v: Any) -> bool:
        vals = self.values(p)
        return not vals or v in vals


class BindingIndex:
    """Per run and role, the contexts where the role observed a key binding (name, value);
    and the families of contexts linked by key bindings (for completion)."""

    def __init__(self, keyparams: frozenset[str], families: bool = True) -> None:
        self.keyparams = keyparams
        self.families = families
        self.seen: dict[tuple[Any, str, str, Any], dict[Context, None]] = {}
        self.carriers: dict[tuple[Any, str, Any], dict[Context, None]] = {}  # by anyone
        self.values: dict[tuple[Any, str, str], dict[Any, Any]] = {}  # (run, role, key) -> values seen
        self.first: dict[tuple[Any, str, Any], Context] = {}
        self._members: dict[Context, list[Context]] = {}  # family root -> its contexts

    def learn(self, ctx: Context, role: str, params: Iterable[str]) -> None:
        """Record that `role` observed `params` in `ctx` (their values are in ctx.values)."""
        kp = self.keyparams
        for p in params:
            if p in kp and p in ctx.values:
                v = hashable(ctx.values[p])
                self.seen.setdefault((ctx.run, role, p, v), {})[ctx] = None
                self.carriers.setdefault((ctx.run, p, v), {})[ctx] = None
                if self.families:
                    self.values.setdefault((ctx.run, role, p), {})[v] = ctx.values[p]
                if self.families:
                    self.join(ctx, p, v)

    def join(self, ctx: Context, p: str, v: Any) -> None:
        """Put `ctx` in the family of the first context that bound key `p` to `v`."""
        if ctx not in self._members and ctx.up is None:
            self._members[ctx] = [ctx]
        c = self.first.setdefault((ctx.run, p, v), ctx)
        if c is not ctx:
            a, b = c.family(), ctx.family()
            if a is not b:
                if b.serial < a.serial:
                    a, b = b, a
                b.up = a
                self._members[a].extend(self._members.pop(b))

    def members(self, ctx: Context) -> list[Context]:
        """The contexts of `ctx`'s family (itself alone if it joined none)."""
        return list(self._members.get(ctx.family(), [ctx]))

    def forget(self, ctx: Context, params: Iterable[str] | None = None) -> None:
        """Drop `ctx` from the index (a retired context, or bindings rolled back)."""
        for p in (params if params is not None else ctx.values):
            if p not in self.keyparams or p not in ctx.values:
                continue
            v = hashable(ctx.values[p])
            for role in ctx.know:
                got = self.seen.get((ctx.run, role, p, v))
                if got is not None:
                    got.pop(ctx, None)
                    if not got:
                        del self.seen[(ctx.run, role, p, v)]
            got = self.carriers.get((ctx.run, p, v))
            if got is not None:
                got.pop(ctx, None)
                if not got:
                    del self.carriers[(ctx.run, p, v)]
            if self.first.get((ctx.run, p, v)) is ctx:
                del self.first[(ctx.run, p, v)]

    def retire(self, root: Context, members: Iterable[Context]) -> None:
        """Drop a whole family (`root`'s `members`): its index entries, the values its roles
        saw, its member list. Only a whole family: another family never shares its key
        bindings (a shared binding would have joined them)."""
        values = self.values
        kp = self.keyparams
        for c in members:
            self.forget(c)
            for p, v in c.values.items():
                if p not in kp:
                    continue
                h = hashable(v)
                for role in c.know:
                    seen = values.get((c.run, role, p))
                    if seen is not None:
                        seen.pop(h, None)
                        if not seen:
                            del values[(c.run, role, p)]
        self._members.pop(root, None)

    def linked(self, run: Any, role: str, seed: Mapping[str, Any]) -> list[Context]:
        """The contexts of `role`'s observations linked to `seed` (key name -> value)."""
        seen = self.seen
        kp = self.keyparams

        def lookup(t: tuple[str, Any]) -> Iterable[Context]:
            return seen.get((run, role, t[0], t[1]), ())

        def tokens(c: Context) -> Iterable[tuple[str, Any]]:
            know = c.know.get(role, ())
            return [(k, hashable(c.values[k])) for k in kp if k in know and k in c.values]

        return linked_bindings({k: (v if v is FRESH else hashable(v)) for k, v in seed.items()},
                               lookup, tokens)

    def enactment(self, run: Any, seed: Mapping[str, Any]) -> list[Context]:
        """The contexts linked to `seed` by key bindings, whoever observed them: the
        enactment whose bound values the integrity check reads."""
        carriers = self.carriers
        kp = self.keyparams

        def lookup(t: tuple[str, Any]) -> Iterable[Context]:
            return carriers.get((run, t[0], t[1]), ())

        def tokens(c: Context) -> Iterable[tuple[str, Any]]:
            return [(k, hashable(c.values[k])) for k in kp if k in c.values]

        return linked_bindings({k: (v if v is FRESH else hashable(v)) for k, v in seed.items()},
                               lookup, tokens)
