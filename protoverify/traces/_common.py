"""Plumbing shared by the log readers: bounded line iteration, the JSONL driver,
line accounting and the schema look-up.

Kept in one place so every reader accounts for lines the same way: each physical
line ends up in exactly one of `event_lines`, `irrelevant` or `bad_lines`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from ._open import open_log
from .event import BadRecord, Event, ReadStats

#: `lookup("Protocol/message") -> (sender role, recipient roles)` or None when unknown.
Schema = Callable[[str], tuple[str, tuple[str, ...]] | None]
Item = Event | BadRecord

#: Longest line a reader holds in memory; longer lines are reported bad, not read.
MAX_LINE = 16 * 1024 * 1024
#: How much of an offending line a BadRecord quotes.
TEXT_CAP = 300


class FormatError(ValueError):
    """The input is not a log this package reads (raised by detection, never by readers)."""


class EmptyLog(FormatError):
    """The input has no non-blank line: a log of zero events (the auditor reads it as such)."""


@dataclass(frozen=True, slots=True)
class Line:
    """One physical input line, without its line terminator."""

    no: int
    data: bytes
    ended: bool  # False for a last line with no newline (possibly truncated)
    too_long: bool = False


def iter_lines(path: str) -> Iterator[Line]:
    """Yield the file's lines one at a time; memory is bounded by MAX_LINE."""
    with open_log(path) as f:
        no = 0
        while True:
            chunk = f.readline(MAX_LINE)
            if not chunk:
                return
            no += 1
            if chunk.endswith(b"\n"):
                yield Line(no, chunk[:-1].rstrip(b"\r"), True)
            elif len(chunk) >= MAX_LINE:
                ended = False
                while True:  # skip the rest of the over-long line
                    more = f.readline(MAX_LINE)
                    if not more:
                        break
                    if more.endswith(b"\n"):
                        ended = True
                        break
                yield Line(no, chunk[:TEXT_CAP], ended, too_long=True)
            else:
                yield Line(no, chunk.rstrip(b"\r"), False)


def show(data: bytes | str) -> str:
    """The quoted text of a BadRecord: decoded leniently and capped."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= TEXT_CAP else text[:TEXT_CAP] + "…"


def account(stats: ReadStats, items: list[Item], nlines: int = 1) -> None:
    """Classify `nlines` input lines by what they produced and count the items."""
    n_events = sum(1 for it in items if isinstance(it, Event))
    n_bad = len(items) - n_events
    stats.events += n_events
    stats.bad += n_bad
    if n_events:
        stats.event_lines += nlines
    elif n_bad:
        stats.bad_lines += nlines
    else:
        stats.irrelevant += nlines


def account_events(stats: ReadStats, n: int) -> None:
    """Count `n` lines that each produced exactly one event (a fast reader's batch)."""
    stats.lines += n
    stats.events += n
    stats.event_lines += n


Convert = Callable[[dict[str, Any], int], list[Item]]


def jsonl_items(path: str, line: Line, convert: Convert) -> list[Item]:
    """One JSON-lines line -> its items: blank lines are irrelevant; undecodable,
    truncated, over-long and non-object lines are BadRecords; an object goes to
    `convert(obj, line_no)`, whose empty answer means "irrelevant"."""
    if line.too_long:
        return [BadRecord(path, line.no, f"line longer than {MAX_LINE} bytes", show(line.data))]
    if not line.data.strip():
        return []
    try:
        obj = orjson.loads(line.data)
    except orjson.JSONDecodeError as e:
        why = "truncated last line (no newline at end)" if not line.ended else "not valid JSON"
        return [BadRecord(path, line.no, f"{why}: {e}", show(line.data))]
    if isinstance(obj, dict):
        return convert(obj, line.no)
    return [BadRecord(path, line.no, f"not a JSON object (got {type(obj).__name__})", show(line.data))]


def read_jsonl(path: str, convert: Convert, stats: ReadStats | None) -> Iterator[Item]:
    """Drive a JSON-lines reader over `path` (see `jsonl_items`), accounting every line."""
    stats = stats if stats is not None else ReadStats()
    for line in iter_lines(path):
        stats.lines += 1
        items = jsonl_items(path, line, convert)
        account(stats, items)
        yield from items


def lookup_roles(schema: Schema | None, protocol: str | None,
                 name: str) -> tuple[str, tuple[str, ...]] | None:
    """Ask the spec who sends `name` and to whom: qualified name first, then bare.

    A look-up that raises LookupError (e.g. a dict of messages) counts as unknown:
    an unknown (hallucinated) message is bad input, not a crash.
    """
    if schema is None:
        return None
    bare = name.split("/", 1)[1] if "/" in name else name
    keys = [name] if "/" in name else ([f"{protocol}/{name}"] if protocol else []) + [name]
    if "/" in name:
        keys.append(bare)
    for key in keys:
        try:
            found = schema(key)
        except LookupError:
            found = None
        if found is not None:
            sender, recipients = found
            return sender, tuple(recipients)
    return None


def split_message(name: str, protocol: str | None = None) -> tuple[str | None, str]:
    """`"Purchase/rfq"` -> ("Purchase", "Purchase/rfq"); a bare name is qualified when
    the protocol is known, so every reader names messages the same way."""
    if "/" in name:
        return name.split("/", 1)[0], name
    if protocol:
        return protocol, f"{protocol}/{name}"
    return None, name
