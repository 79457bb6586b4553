"""The `protoverify` command line: parse options, call the library, render, exit.

Tests call `main(args, stdout, stderr) -> int` directly; `entry` is the console script.
"""
from __future__ import annotations

import sys
from typing import IO, Sequence

import click
import orjson

from . import __version__

class _Streams:
    """Where commands write; swapped by `main` so tests can capture output."""

    out: IO[str] = sys.stdout
    err: IO[str] = sys.stderr


def echo(text: str = "", err: bool = False) -> None:
    (_Streams.err if err else _Streams.out).write(text + "\n")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="protoverify")
def cli() -> None:
    """Prove and audit BSPL interaction protocols."""


def main(args: Sequence[str] | None = None, stdout: IO[str] | None = None,
         stderr: IO[str] | None = None) -> int:
    """Run the CLI with `args`, writing to the given streams; return the exit code."""
    old = _Streams.out, _Streams.err
    _Streams.out, _Streams.err = stdout or sys.stdout, stderr or sys.stderr
    try:
        try:
            cli.main(args=list(args) if args is not None else None, prog_name="protoverify",
                     standalone_mode=False)
            return 0
        except SystemExit as e:
            return int(e.code or 0)
        except click.exceptions.Exit as e:
            return e.exit_code
        except click.ClickException as e:
            _Streams.err.write(f"Error: {e.format_message()}\n")
            if isinstance(e, click.UsageError) and e.ctx is not None:
                _Streams.err.write(e.ctx.get_usage() + "\n")
            return 2
        except click.Abort:
            _Streams.err.write("Aborted.\n")
            return 2
    finally:
        _Streams.out, _Streams.err = old


def _register() -> None:
    """Attach the subcommands; each lives in protoverify/commands/<name>.py."""
    from .commands import check  # noqa: F401  (registers on import)


_register()


def entry() -> None:
    sys.exit(main())
