"""Does a log record receipts? The answer picks the audit's delivery mode (docs/auditing.md).

`_has_receipts` scans a file's bytes for the receipt pattern of its format;
`_ReceiptWatch` gives the same answer for a native log while the compact replay
reads it, without a second pass over the file.
"""
from __future__ import annotations

import lzma
import re
import zlib

from ..traces._open import open_log

#: What a reader may raise when a file breaks off under it (I/O, corrupt compressed stream).
_READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, lzma.LZMAError, zlib.error)


_NATIVE_RECEIVE = re.compile(rb'"kind"\s*:\s*"receive"')
_ENVELOPE_DELIVER = re.compile(rb'"type"\s*:\s*"deliver"')
#: per format: the pattern of a receipt, and a word every match contains (a C-speed
#: `in` test skips the regular expression on chunks without it, i.e. nearly always)
_NATIVE_WORD = b'"receive"'
_RECEIPTS = {"native": (_NATIVE_RECEIVE, _NATIVE_WORD), "envelope": (_ENVELOPE_DELIVER, b'"deliver"')}
#: bytes of the text before a boundary (of chunks, of lines) searched with the text after it
_OVERLAP = 64


def _has_receipts(path: str, fmt: str) -> bool:
    """Does this log record receipts? A byte scan, not a parse (cheap on big logs)."""
    found = _RECEIPTS.get(fmt)
    if found is None:  # adapter captures sends only; Ahoy shows one agent's view
        return False
    pattern, word = found
    # chunked reads, not mmap: a mapped file's touched pages count in the process's RSS
    chunk = 4 << 20
    tail = b""
    with open_log(path) as f:
        while True:
            data = f.read(chunk)
            if not data:
                return False
            buf = tail + data
            if word in buf and pattern.search(buf) is not None:
                return True
            tail = buf[-_OVERLAP:]


def _receipts(path: str, fmt: str) -> bool:
    """`_has_receipts`, false when the file cannot be read (its reading reports the error)."""
    try:
        return _has_receipts(path, fmt)
    except _READ_ERRORS:
        return False


class _ReceiptsFound(Exception):
    """A native log audited at send time (`Prepared.unsure`) records receipts: audit again."""


class _ReceiptWatch:
    """Whether a native log read by the compact replay records receipts, without a second
    pass over it: `_has_receipts`'s answer, raised as _ReceiptsFound when it is yes.

    A line the compact replay takes is a send whose fields are known (no parameter
    named `kind`: `CompactSends.receipt_free`) and that starts with `{`: the receipt
    pattern can match neither in it nor across it. So the pattern is searched in each
    run of consecutive lines it does not take, line by line as `line` gets them, with
    the last _OVERLAP bytes of the run before (`tail`, emptied by `reset` when the
    replay takes lines): no line is kept, however many a hostile log holds. As in
    `_has_receipts`, a match across lines with more than _OVERLAP bytes of blank
    between its words is missed (a record is one line: it never hides a receipt). A
    match is confirmed by `_has_receipts` itself. After the Monitor takes over, an
    over-long line or a read error (`give_up`), the file is scanned at the `end` instead.
    """

    def __init__(self, path: str, on: bool, lines: bool) -> None:
        self.path = path
        self.lines = on and lines  # searching the runs
        self.rescan = on and not lines  # scanning the file at the end
        self.tail = b""

    def line(self, line: bytes, too_long: bool) -> None:
        """A line the compact replay did not take (`too_long`: only its start was read)."""
        if too_long:
            self.give_up()
            return
        tail = self.tail
        # a match ends with the word, which holds no newline: it is in this line
        if _NATIVE_WORD in line and _NATIVE_RECEIVE.search(tail + b"\n" + line) is not None:
            if _receipts(self.path, "native"):
                raise _ReceiptsFound(self.path)
            self.lines = self.rescan = False
            return
        self.tail = (tail + b"\n" + line[-_OVERLAP:])[-_OVERLAP:]

    def reset(self) -> None:
        """The replay took lines: the run has ended."""
        self.tail = b""

    def give_up(self) -> None:
        """Scan the whole file at the end instead."""
        self.tail = b""
        self.rescan = self.rescan or self.lines
        self.lines = False

    def end(self) -> None:
        if self.rescan and _receipts(self.path, "native"):
            raise _ReceiptsFound(self.path)
