"""The `protoverify` command line: parse options, call the library, render, exit.

Tests call `main(args, stdout, stderr) -> int` directly; `entry` is the console script.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO

import click

from ._version import __version__
from .commands import audit, check, experiment, invoke, report, run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="protoverify")
def cli() -> None:
    """Prove and audit BSPL interaction protocols."""


def main(args: Sequence[str] | None = None, stdout: IO[str] | None = None,
         stderr: IO[str] | None = None) -> int:
    """Run the CLI with `args`, writing to the given streams; return the exit code."""
    return invoke(cli, "protoverify", args, stdout, stderr)


# Each subcommand lives in protoverify/commands/<name>.py; the group adds it here.
cli.add_command(check.check)
cli.add_command(audit.audit)
cli.add_command(run.run)
cli.add_command(experiment.experiment)
cli.add_command(report.report)


def entry() -> None:
    sys.exit(main())
