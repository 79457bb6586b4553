"""Text -> Specification, with lark. Syntax errors become located, readable errors."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.tree import Meta

from .diagnostics import Diagnostic, excerpt
from .model import Message, Parameter, Protocol, Reference, Role, Span, Specification

# What a person calls each terminal, for "expected one of: …".
_TERMINAL_WORDS = {
    "NAME": "a name", "TAG": "a type tag", "ARROW": "'->'", "KEY": "'key'",
    "ADORNMENT": "an adornment (in, out, nil, any, opt)", "ROLES_KW": "'roles'",
    "PARAMETERS_KW": "'parameters'", "PRIVATE_KW": "'private'", "PROTOCOL_KW": "'protocol'",
    "LBRACE": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['",
    "RSQB": "']'", "COMMA": "','", "COLON": "':'", "VBAR": "'|'", "$END": "end of file",
}


class BSPLError(Exception):
    """A specification could not be read; carries a located Diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(diagnostic.format())


class BSPLSyntaxError(BSPLError):
    """The text is not in the BSPL dialect; `line`, `column` and `expected` say where and what."""

    def __init__(self, diagnostic: Diagnostic, expected: tuple[str, ...]):
        self.expected = expected
        super().__init__(diagnostic)

    @property
    def line(self) -> int:
        return self.diagnostic.line

    @property
    def column(self) -> int:
        return self.diagnostic.column


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files(__package__).joinpath("bspl.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _span(meta_or_token: Meta | Token) -> Span:
    # a Token's position is optional in lark's types; tokens from the lexer always carry it
    return Span(meta_or_token.line or 0, meta_or_token.column or 0,
                getattr(meta_or_token, "end_line", 0) or 0,
                getattr(meta_or_token, "end_column", 0) or 0)


@v_args(meta=True)
class _Build(Transformer[Token, tuple[Protocol, ...]]):
    """Parse tree -> model objects; positions come from lark's meta."""

    def start(self, meta: Meta, items: list[Protocol]) -> tuple[Protocol, ...]:
        return tuple(items)

    def pname(self, meta: Meta, tokens: list[Token]) -> tuple[str, Span]:
        return (" ".join(str(t) for t in tokens), _span(meta))

    def role(self, meta: Meta, items: list[Token]) -> Role:
        return Role(str(items[0]), _span(items[0]))

    def tag(self, meta: Meta, items: list[Token]) -> tuple[str, str]:
        return ("tag", str(items[0]))

    def param(self, meta: Meta, items: list[Token | tuple[str, str]]) -> Parameter:
        adornment: str | None = None
        key = False
        tags: tuple[str, ...] = ()
        name_tok: Token | None = None
        for it in items:
            if isinstance(it, tuple):
                tags = tuple(it[1].split())
            elif it.type == "ADORNMENT":
                adornment = str(it)
            elif it.type == "KEY":
                key = True
            elif it.type == "NAME":
                name_tok = it
        assert name_tok is not None, "the grammar gives every param a NAME"
        return Parameter(str(name_tok), adornment, key, tags, _span(name_tok))

    def roles_decl(self, meta: Meta, items: list[Any]) -> tuple[str, tuple[Role, ...]]:
        return ("roles", tuple(i for i in items if isinstance(i, Role)))

    def params_decl(self, meta: Meta, items: list[Any]) -> tuple[str, tuple[Parameter, ...]]:
        return ("public", tuple(i for i in items if isinstance(i, Parameter)))

    def private_decl(self, meta: Meta, items: list[Any]) -> tuple[str, tuple[Parameter, ...]]:
        return ("private", tuple(i for i in items if isinstance(i, Parameter)))

    def recipients(self, meta: Meta, tokens: list[Token]) -> tuple[Token, ...]:
        return tuple(tokens)

    def msg_params(self, meta: Meta, items: list[Any]) -> tuple[Parameter, ...]:
        return tuple(i for i in items if isinstance(i, Parameter))

    def message(self, meta: Meta, items: list[Any]) -> Message:
        sender, _arrow, recipients, name = items[:4]
        params = items[4] if len(items) > 4 else ()
        return Message(str(name), str(sender), tuple(str(r) for r in recipients), params,
                       span=_span(name), sender_span=_span(sender),
                       recipient_spans=tuple(_span(r) for r in recipients))

    def ref_args(self, meta: Meta, items: list[Parameter | Token]) -> list[Parameter | Token]:
        return items

    def reference(self, meta: Meta, items: list[Any]) -> Reference:
        (name, span), args = items
        bar = next((i for i, a in enumerate(args) if isinstance(a, Token) and a.type == "BAR"), None)
        if bar is None:
            return Reference(name, tuple(args), None, span)
        return Reference(name, tuple(args[bar + 1:]), tuple(args[:bar]), span)

    def protocol(self, meta: Meta, items: list[Any]) -> Protocol:
        items = [i for i in items if not (isinstance(i, Token) and i.type == "PROTOCOL_KW")]
        (name, name_span), *rest = items
        parts = {"roles": (), "public": (), "private": ()}
        body: list[Message | Reference] = []
        for it in rest:
            if isinstance(it, tuple) and len(it) == 2 and it[0] in parts:
                parts[it[0]] = it[1]
            elif isinstance(it, (Message, Reference)):
                body.append(it)
        return Protocol(name, parts["roles"], parts["public"], parts["private"], tuple(body),
                        span=_span(meta), name_span=name_span)


_LATEX = [
    (re.compile(r"\$\\msf\{(\w+)\}\$"), r"\1"),
    (re.compile(r"\$\\mapsto\$"), "->"),
    (re.compile(r"\$\\role\$"), "roles"),
    (re.compile(r"\$\\param\$"), "parameters"),
    (re.compile(r"\$\\mo\$"), "->"),
]


def strip_latex(text: str) -> str:
    """Undo the LaTeX escapes that papers' listings carry (as the reference tool does)."""
    if "$\\" not in text:
        return text
    for pattern, repl in _LATEX:
        text = pattern.sub(repl, text)
    return text


def _syntax_error(err: UnexpectedInput, text: str, source: str) -> BSPLSyntaxError:
    expected: tuple[str, ...]
    if isinstance(err, UnexpectedEOF):
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        expected = tuple(sorted(err.expected))
        found = "end of file"
    else:
        line, column = err.line, err.column
        if isinstance(err, UnexpectedToken):
            expected = tuple(sorted(err.accepts or err.expected))
            found = "end of file" if err.token.type == "$END" else repr(str(err.token))
            if err.token.type == "$END":
                lines = text.splitlines() or [""]
                line, column = len(lines), len(lines[-1]) + 1
        else:
            assert isinstance(err, UnexpectedCharacters)
            expected = tuple(sorted(err.allowed or ()))
            # lark declares `pos_in_stream = None` on UnexpectedInput; UnexpectedCharacters sets the int offset
            pos: int = err.pos_in_stream  # type: ignore[assignment]
            found = repr(text[pos]) if pos < len(text) else "end of file"
    words = sorted({_TERMINAL_WORDS.get(t, t) for t in expected if not t.startswith("__")})
    want = ", ".join(words) if words else "something else"
    msg = f"unexpected {found}; expected {want}"
    diag = Diagnostic("E001", msg, source, line, column, None, excerpt(text, line, column))
    return BSPLSyntaxError(diag, tuple(words))


def parse(text: str, source: str = "<text>") -> Specification:
    """Parse BSPL text into a Specification; raise BSPLSyntaxError on bad syntax.

    Only syntax is checked here: run `protoverify.bspl.validate` for the rest.
    """
    text = strip_latex(text)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err, text, source) from None
    protocols = _Build().transform(tree)
    return Specification(tuple(protocols), source)


def read_source(path: str | Path) -> str:
    """Read a spec file as UTF-8; unreadable files raise BSPLError (an input error)."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        reason = "no such file"
    except IsADirectoryError:
        reason = "is a directory, not a file"
    except UnicodeDecodeError as e:
        reason = f"not UTF-8 text (byte {e.start})"
    except OSError as e:
        reason = e.strerror or str(e)
    raise BSPLError(Diagnostic("E000", f"cannot read {path}: {reason}", str(path), 0, 0))


def load(path_or_text: str | Path) -> Specification:
    """A Specification from a path, or from BSPL text (anything containing '{')."""
    if isinstance(path_or_text, Path) or "{" not in str(path_or_text):
        return parse(read_source(path_or_text), str(path_or_text))
    return parse(str(path_or_text))
