"""The `protoverify` command line: parse options, call the library, render, exit.

Tests call `main(args, stdout, stderr) -> int` directly; `entry` is the console script.
"""
from __future__ import annotations

import sys
from typing import IO, Sequence

import click
import orjson

from . import __version__
from .check import FileReport, check_file, exit_code

CHECK_EXIT_CODES = """\b
Exit codes:
  0  every protocol is well-formed (and, when verified, safe and live)
  1  some protocol is ill-formed, unsafe or nonlive
  2  usage or input error (missing file, syntax error, bad option)
  3  inconclusive: a solver query timed out (unknown)"""


class _Streams:
    """Where commands write; swapped by `main` so tests can capture output."""

    out: IO[str] = sys.stdout
    err: IO[str] = sys.stderr


def _echo(text: str = "", err: bool = False) -> None:
    (_Streams.err if err else _Streams.out).write(text + "\n")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="protoverify")
def cli() -> None:
    """Prove and audit BSPL interaction protocols."""


def render_check_text(reports: list[FileReport]) -> str:
    lines: list[str] = []
    for r in reports:
        for d in r.diagnostics:
            lines.append(d.format())
        for p in r.protocols:
            status = "well-formed" if p.wellformed else "ILL-FORMED"
            lines.append(f"{r.path}: {p.name}: {status}")
            for d in p.diagnostics:
                lines.append(d.format())
    return "\n".join(lines)


@cli.command(epilog=CHECK_EXIT_CODES)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def check(files: tuple[str, ...], fmt: str) -> None:
    """Check the BSPL protocols in FILES."""
    reports = [check_file(f) for f in files]
    if fmt == "json":
        _echo(orjson.dumps([r.to_dict() for r in reports], option=orjson.OPT_INDENT_2).decode())
    else:
        _echo(render_check_text(reports))
    raise SystemExit(exit_code(reports))


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


def entry() -> None:
    sys.exit(main())
