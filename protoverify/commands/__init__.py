"""One module per CLI subcommand, each a plain click command; `protoverify.cli` adds them.

Commands never import the CLI group (the group imports them), and write through
`echo` so that `cli.main` can redirect both streams.
"""
from __future__ import annotations

import sys


def echo(text: str = "", err: bool = False) -> None:
    """Write a line to stdout (or stderr); `main` may have redirected both."""
    (sys.stderr if err else sys.stdout).write(text + "\n")
