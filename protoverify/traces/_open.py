"""Open a log for reading: plain, or gzip/bz2/xz decompressed as it streams; name
the binary formats that are not logs at all (by magic bytes, never echoing them).

Every reader opens its input through `open_log`, so a compressed log reads like the
plain one, with the same line numbers, and memory stays bounded by the reader's.
"""
from __future__ import annotations

from typing import IO, cast

#: Compressions read transparently, by their magic bytes.
_COMPRESSED: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"),
)

#: Binary formats refused by name (magic bytes at offset 0).
_BINARY: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip archive"), (b"PK\x05\x06", "zip archive (empty)"),
    (b"\x7fELF", "ELF executable"), (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"), (b"GIF87a", "GIF image"), (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"), (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"), (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"SQLite format 3\x00", "SQLite database"), (b"MZ", "Windows executable"),
    (b"\xca\xfe\xba\xbe", "Java class or Mach-O binary"), (b"\xcf\xfa\xed\xfe", "Mach-O binary"),
    (b"\x00asm", "WebAssembly module"), (b"PAR1", "Parquet file"),
    (b"\x80\x04\x95", "Python pickle"), (b"\x93NUMPY", "NumPy array"),
)


def compression(head: bytes) -> str | None:
    """gzip, bz2 or xz when `head` starts with its magic bytes, else None."""
    for magic, name in _COMPRESSED:
        if head.startswith(magic):
            return name
    return None


def binary_kind(head: bytes) -> str | None:
    """The name of a binary (non-text) format that `head` starts with; None for text.

    Known formats by their magic; any other content with NUL bytes (that is not
    UTF-16 text) is "binary data".
    """
    for magic, name in _BINARY:
        if head.startswith(magic):
            return name
    if head.startswith(b"ustar", 257) if len(head) > 262 else False:
        return "tar archive"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary data"
    return None


def open_log(path: str) -> IO[bytes]:
    """The file's bytes, decompressed on the fly when it is gzip, bz2 or xz."""
    with open(path, "rb") as f:
        kind = compression(f.read(6))
    if kind == "gzip":
        import gzip
        return cast("IO[bytes]", gzip.open(path, "rb"))
    if kind == "bz2":
        import bz2
        return bz2.open(path, "rb")
    if kind == "xz":
        import lzma
        return lzma.open(path, "rb")
    return open(path, "rb")
