"""`protoverify report LOGS… --spec SPEC -o report.html`: audit, then write one HTML page.

The page (protoverify/analysis/html.py) is self-contained: inline CSS, figures as
inline PNG, nothing fetched when it is opened, no JavaScript.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, cast

import click

from . import echo, exit_audit, log_paths, merge, spec_paths, write_report
from ._options import checker_option, delivery_option, fail_on_option, format_in_option, protocol_option

if TYPE_CHECKING:
    from ..auditor.result import FailOn

REPORT_EXIT_CODES = """\b
Exit codes (as `audit`):
  0  no finding at or above --fail-on (the report is written)
  1  some finding at or above --fail-on (the report is written)
  2  usage or input error: no --spec, no log, unreadable spec, bad
     option, report not writable; also when some log could not be
     audited (a REC007 finding, in the report too)"""

@click.command("report", epilog=REPORT_EXIT_CODES)
@click.argument("logs", nargs=-1, type=click.Path())
@click.option("--spec", "specs", multiple=True, type=click.Path(),
              help="BSPL file holding the protocol, or a directory of them (repeatable, as for audit).")
@click.option("--output", "-o", "output", default=None, type=click.Path(dir_okay=False),
              help="The HTML file to write (required).")
@protocol_option
@format_in_option
@click.option("--exclude", "exclude", multiple=True, metavar="GLOB",
              help="Leave out the files (or folders) matching GLOB (repeatable).")
@fail_on_option
@delivery_option
@checker_option
@click.option("--title", default=None, help="Title of the page (default: protoverify report: the specs).")
def report(logs: tuple[str, ...], specs: tuple[str, ...], output: str | None, protocol: str | None,
           format_in: str, exclude: tuple[str, ...], fail_on: str, delivery: str, checker: str | None,
           title: str | None) -> None:
    """Audit the enactments in LOGS against --spec and write an HTML report to -o.

    LOGS are files, directories (recursed as for `audit`) or `-` for standard input;
    in a run directory of `protoverify run` or `protoverify experiment` only
    exchange.jsonl is a log (its summary.json gives the run's policy and agents;
    audit.json, drift.json… are skipped). The page holds the summary, the failure-mode table, figures and one
    section per enactment with its findings, linked from the tables. It is
    self-contained: open it in any browser, offline."""
    from ..analysis.html import render, run_facts
    from ..analysis.rundir import is_side_file
    from ..auditor.driver import audit as run_audit
    from ..auditor.result import AuditInputError
    from ..report import counts_text, plural
    from ._inputs import rename_sources, stdin_files

    if not specs:
        echo("Error: Missing option '--spec'.", err=True)
        raise SystemExit(2)
    if not logs:
        echo("Error: Missing argument 'LOGS...' (files or directories of logs).", err=True)
        raise SystemExit(2)
    if not output:
        echo("Error: Missing option '-o' / '--output' (the HTML file to write).", err=True)
        raise SystemExit(2)
    spec = spec_paths(specs)
    named = set(logs)
    paths = [p for p in log_paths(logs, exclude) if p in named or not is_side_file(p)]
    if not paths:
        echo("Error: no log file in " + ", ".join(logs) + (" (after --exclude)" if exclude else ""), err=True)
        raise SystemExit(2)
    runs = {p: facts for p in paths if (facts := run_facts(p))}
    # Each run's log is audited alone: runs name themselves by their seed (run-1…), so two
    # run directories could share run ids; the other logs are audited together, as by `audit`.
    options: dict[str, Any] = dict(protocol=protocol, format=None if format_in == "auto" else format_in,
                                   checker=checker, delivery=None if delivery == "auto" else delivery,
                                   record_enactments=True)  # complete enactments get their page too
    try:
        with stdin_files(paths, ".log") as (read_paths, names):  # `-`: standard input, as for `audit`
            groups = [[p for p in read_paths if p not in runs]] + [[p] for p in read_paths if p in runs]
            results = [run_audit(spec, group, **options) for group in groups if group]
            for r in results:
                rename_sources(r, names)
    except AuditInputError as e:
        echo(f"Error: {e}", err=True)
        raise SystemExit(2) from None
    page = render(results, title=title or "protoverify report: " + ", ".join(os.path.basename(s) for s in spec),
                  subtitle=f"{len(paths)} log(s) audited against {', '.join(spec)}", runs=runs, spec=spec)
    write_report(output, page)
    total = merge(results)
    echo(f"{output}: {plural(total.enactments, 'enactment')} ({total.complete} complete), "
         f"{counts_text(total.counts())}", err=True)
    exit_audit(total, cast("FailOn", fail_on))
