"""Log readers: every supported log becomes a stream of normalized Events.

`read(path)` detects the format and streams `Event`s and `BadRecord`s; pass a
`ReadStats` to learn what happened to every input line. See docs/formats.md.
"""
from ._common import FormatError, Schema
from .adapter import read_adapter
from .ahoy import read_ahoy
from .ahoy_json import read_ahoy_json
from .detect import FORMATS, detect_format, read
from .envelope import read_envelope
from .event import EVENT_KINDS, BadRecord, Event, EventKind, ReadStats
from .native import read_native
from .native_fast import read_native_fast

__all__ = ["BadRecord", "EVENT_KINDS", "Event", "EventKind", "FORMATS", "FormatError", "ReadStats",
           "Schema", "detect_format", "read", "read_adapter", "read_ahoy", "read_ahoy_json",
           "read_envelope", "read_native", "read_native_fast"]
