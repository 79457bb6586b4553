"""One module per CLI subcommand, each a plain click command; `protoverify.cli` adds them.

Commands never import the CLI group (the group imports them), and write through
`echo` so that `cli.main` can redirect both streams.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from ..auditor.result import AuditResult, FailOn


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


def spec_paths(specs: Sequence[str]) -> list[str]:
    """The .bspl files named by `--spec` (directories recursed); exit 2 when there is none."""
    from ._inputs import SPEC_SUFFIXES, expand

    found = expand(specs, SPEC_SUFFIXES)
    if not found:
        echo("Error: no .bspl file in " + ", ".join(specs), err=True)
        raise SystemExit(2)
    return found


def log_paths(logs: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """The log files named by LOGS (directories recursed, `--exclude` applied); exit 2 when
    there is none."""
    from ._inputs import LOG_SUFFIXES, expand

    found = expand(logs, LOG_SUFFIXES, exclude)
    if not found:
        echo("Error: no log file in " + ", ".join(logs) + (" (after --exclude)" if exclude else ""), err=True)
        raise SystemExit(2)
    return found


def exit_audit(result: AuditResult, fail_on: FailOn) -> NoReturn:
    """Exit as `audit` does: 2 (each REC007 said again) when an input could not be audited,
    else 1 when a finding is at or above `fail_on`, else 0."""
    if result.unread:
        for found in result.findings:
            if found.code == "REC007":
                echo(f"Error: {found.text}", err=True)
        raise SystemExit(2)
    raise SystemExit(1 if result.failed(fail_on) else 0)


def merge(results: list[AuditResult]) -> AuditResult:
    """One AuditResult from several audits (of `[[audit]]` tables, or of run directories audited
    apart), in their order; the first is extended in place."""
    if len(results) == 1:
        return results[0]
    first = results[0]
    for r in results[1:]:
        first.add(r)
        first.by_enactment.update(r.by_enactment)
        first.hints.extend(r.hints)
    return first
