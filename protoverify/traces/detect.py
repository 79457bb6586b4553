"""Tell log formats apart by content and dispatch to the right reader.

Detection looks only at the start of the file (the first non-blank lines, or
the document for a pretty-printed JSON file), never at the name: logs get
renamed, and the Ahoy corpus mixes logs with summaries in one folder.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from ._common import EmptyLog, FormatError, Schema
from ._open import binary_kind, compression, open_log
from .adapter import read_adapter
from .ahoy import read_ahoy
from .ahoy_json import MAX_DOC, kind_of, read_ahoy_json
from .envelope import IRRELEVANT_TYPES, MESSAGE_TYPES, read_envelope
from .event import BadRecord, Event, ReadStats
from .native_fast import read_native_fast

Reader = Callable[..., Iterator["Event | BadRecord"]]
READERS: dict[str, Reader] = {
    "native": read_native_fast, "envelope": read_envelope, "ahoy": read_ahoy,
    "adapter": read_adapter, "ahoy-json": read_ahoy_json,
}
FORMATS = tuple(READERS)

PROBE_LINES = 50
_AHOY_TEXT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[ ,]")


def _classify_object(d: dict[str, Any]) -> str:
    if "datagram" in d:
        return "adapter"
    if "kind" in d:
        return "native"
    if d.get("type") in MESSAGE_TYPES + IRRELEVANT_TYPES or ("v" in d and "type" in d):
        return "envelope"
    keys = ", ".join(sorted(d)[:10])
    if "from_role" in d or "to_roles" in d:
        raise FormatError(f"JSON lines with from_role/to_roles ({keys}): a normalized adapter trace, "
                          "not an input format; read the wire capture instead")
    raise FormatError(f"JSON whose first object has keys {keys}: not a log this package reads "
                      "(Ahoy metrics/summary files look like this) "
                      f"(expected one of {', '.join(FORMATS)})")


def _classify_document(path: str) -> str:
    with open_log(path) as f:
        data = f.read(MAX_DOC + 1)
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise FormatError(f"starts like JSON but is neither JSON lines nor a JSON document: {e}") from None
    if kind_of(doc):
        return "ahoy-json"
    if isinstance(doc, dict):
        keys = ", ".join(sorted(doc)[:10])
        raise FormatError(f"a JSON document with keys {keys}: not a log (no messages or LLM decisions; "
                          "Ahoy run summaries, metrics and injected-event lists look like this)")
    raise FormatError(f"a JSON {type(doc).__name__}, not a log")


def detect_format(path: str) -> str:
    """One of FORMATS, from the file's content; FormatError naming what was seen otherwise."""
    with open(path, "rb") as raw_file:
        head = raw_file.read(512)
    packed = compression(head)
    if packed is not None:
        with open_log(path) as f:
            head = f.read(512)
    kind = binary_kind(head)
    if kind is not None:
        inside = f" inside {packed} compression" if packed else ""
        raise FormatError(f"a binary file ({kind}{inside}), not a log")
    probe: list[str] = []
    with open_log(path) as f:
        for raw in f:
            line = raw.decode("utf-8", "replace").lstrip("\ufeff").strip()
            if line:
                probe.append(line)
            if len(probe) >= PROBE_LINES:
                break
    if not probe:
        raise EmptyLog("empty file (no non-blank line)")
    if probe[0] in ("{", "["):  # a pretty-printed JSON document
        return _classify_document(path)
    if probe[0].startswith(("{", "[")):
        for line in probe:  # the first line may itself be corrupt: use the first good one
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict) and obj:
                return _classify_object(obj)
        return _classify_document(path)
    if any(_AHOY_TEXT.search(line) for line in probe):
        return "ahoy"
    raise FormatError(f"text that is not an Ahoy log (no timestamped lines); it starts: {probe[0][:80]!r}")


def read(path: str, format: str | None = None, schema: Schema | None = None,
         stats: ReadStats | None = None) -> Iterator[Event | BadRecord]:
    """Stream events from `path`, detecting its format unless given.

    `schema(message_name) -> (sender role, recipient roles) | None` lets readers
    whose input lacks roles (adapter, Ahoy) fill them from the spec.
    Raises FormatError (before yielding) only when the file is not a log at all.
    """
    fmt = format or detect_format(path)
    reader = READERS.get(fmt)
    if reader is None:
        raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    return reader(path, schema=schema, stats=stats)
