"""One module per CLI subcommand, each a plain click command; `protoverify.cli` adds them.

Commands never import the CLI group (the group imports them), and write through
`echo` so that `cli.main` can redirect both streams.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import IO

import click


def echo(text: str = "", err: bool = False) -> None:
    """Write a line to stdout (or stderr); `main` may have redirected both."""
    (sys.stderr if err else sys.stdout).write(text + "\n")


def invoke(command: click.Command, prog_name: str, args: Sequence[str] | None = None,
           stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run a click command (or the group) with `args` on the given streams and return its
    exit code, never raising: the one `main(args, stdout, stderr) -> int` body that
    `protoverify.cli.main` and each command's own `main` share."""
    with contextlib.redirect_stdout(stdout or sys.stdout), contextlib.redirect_stderr(stderr or sys.stderr):
        try:
            command.main(args=list(args) if args is not None else None, prog_name=prog_name,
                         standalone_mode=False)
            return 0
        except SystemExit as e:  # a command's own exit codes (1, 3, 130, ...)
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
        except click.exceptions.Exit as e:
            return e.exit_code
        except click.ClickException as e:
            e.show()
            return 2
        except click.Abort:
            echo("Aborted.", err=True)
            return 2


def write_report(output: str, text: str) -> None:
    """Write a report to `output` (ending in a newline); exit 2 with the reason if it cannot."""
    try:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:
        echo(f"Error: cannot write {output}: {e.strerror or e}", err=True)
        raise SystemExit(2) from None
