"""Command-line inputs: directories recursed, `--exclude` globs, `-` for standard input.

Shared by `check` (specs) and `audit` (logs). A file named on the command line is
always taken (its problems are reported); inside a directory only the files that
look like inputs of the command are, so a README next to the logs is not a finding.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from fnmatch import fnmatch
from pathlib import PurePosixPath
from typing import Any

#: What `audit` takes from a directory (also compressed: .gz, .bz2, .xz).
LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log", ".txt")
SPEC_SUFFIXES = (".bspl",)
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
STDIN = "-"


def excluded(path: str, patterns: Sequence[str]) -> bool:
    """Does a glob match the path (as given, or any trailing part of it, or its name)?"""
    if not patterns:
        return False
    forms = {path, os.path.abspath(path)}
    for form in forms:
        posix = PurePosixPath(form.replace(os.sep, "/"))
        parts = posix.parts
        tails = ["/".join(parts[i:]) for i in range(len(parts))] + [str(posix)]
        if any(fnmatch(t, pat) or fnmatch(t, pat.rstrip("/") + "/*") for pat in patterns for t in tails):
            return True
    return False


def _wanted(name: str, suffixes: Sequence[str]) -> bool:
    low = name.lower()
    for z in COMPRESSED_SUFFIXES:
        if low.endswith(z):
            low = low[: -len(z)]
            break
    return low.endswith(tuple(suffixes))


def expand(paths: Iterable[str], suffixes: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
    """Files to read, in a stable order: each named file (unless excluded), each
    directory's matching files recursively, sorted; hidden folders are skipped."""
    out: list[str] = []
    for p in paths:
        if p != STDIN and os.path.isdir(p):
            found: list[str] = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                                 and not excluded(os.path.join(root, d), exclude))
                found.extend(os.path.join(root, f) for f in files if _wanted(f, suffixes))
            out.extend(f for f in sorted(found) if not excluded(f, exclude))
        elif p == STDIN or not excluded(p, exclude):
            out.append(p)
    return out


@contextmanager
def stdin_files(paths: list[str], suffix: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Replace `-` by a temporary copy of standard input (readers detect the format
    and read twice, which a pipe cannot); yield the paths and {temp path: "-"}."""
    if STDIN not in paths:
        yield paths, {}
        return
    fd, tmp = tempfile.mkstemp(prefix="protoverify-stdin-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            src: Any = getattr(sys.stdin, "buffer", None)
            if src is not None:
                shutil.copyfileobj(src, f)
            else:  # a text stream (tests, redirected)
                f.write(sys.stdin.read().encode("utf-8"))
        yield [tmp if p == STDIN else p for p in paths], {tmp: "<stdin>"}
    finally:
        os.unlink(tmp)


def rename_sources(result: Any, names: dict[str, str]) -> None:
    """Name the temporary copy of standard input `<stdin>` everywhere in an AuditResult."""
    if not names:
        return
    result.findings[:] = [replace(f, source=names[f.source], text=f.text.replace(f.source, names[f.source]))
                          if f.source in names else f for f in result.findings]
    result.statuses[:] = [replace(s, source=names[s.source]) if s.source in names else s
                          for s in result.statuses]
    result.sources[:] = [names.get(p, p) for p in result.sources]
    result.formats = {names.get(p, p): v for p, v in result.formats.items()}
    result.unread[:] = [names.get(p, p) for p in result.unread]
