"""What a run directory is (`protoverify run`, each cell of `protoverify experiment`): the one
definition the analysis frames and `protoverify report` share.

A run directory holds its log, `exchange.jsonl`, and `summary.json` beside it; every other
file there (injections.jsonl, audit.json, drift.json…) is a side file, never a log
(docs/exchange.md).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

#: the log of a run directory
RUN_LOG = "exchange.jsonl"
#: the summary beside it (its presence makes the folder a run directory)
RUN_SUMMARY = "summary.json"
#: side files `run` and `experiment` write; not logs wherever they are found
RUN_FILES = frozenset({RUN_SUMMARY, "injections.jsonl", "audit.json", "drift.json", "metrics.csv"})


def is_run_dir(path: str | os.PathLike[str]) -> bool:
    """Does the folder hold a run: its log and its summary?"""
    p = Path(path)
    return (p / RUN_LOG).is_file() and (p / RUN_SUMMARY).is_file()


def is_run_log(path: str | os.PathLike[str]) -> bool:
    """Is `path` the log of a run directory?"""
    p = Path(path)
    return p.name == RUN_LOG and is_run_dir(p.parent)


def is_side_file(path: str | os.PathLike[str]) -> bool:
    """Is `path` a file of a run directory other than its log (summary, injections, audit…)?"""
    p = Path(path)
    return p.name != RUN_LOG and is_run_dir(p.parent)


def run_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The summary.json of the run whose log is `path` (policy, agents, seed…); empty for any
    other log, or when the summary is not a JSON object."""
    if not is_run_log(path):
        return {}
    try:
        loaded = orjson.loads((Path(path).parent / RUN_SUMMARY).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
