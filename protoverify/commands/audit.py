"""`protoverify audit --spec SPEC LOGS…`: check recorded enactments against a protocol."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import click

from . import echo, exit_audit, log_paths, merge, spec_paths, write_report
from ._options import checker_option, delivery_option, fail_on_option, format_in_option, protocol_option

if TYPE_CHECKING:
    from ..auditor.result import FailOn

AUDIT_EXIT_CODES = """\b
Exit codes:
  0  no finding at or above --fail-on
  1  some finding at or above --fail-on
  2  usage or input error (unreadable spec, bad option); also when some
     log could not be audited (missing, unreadable, not a log: a REC007
     finding), after the report of everything else

\b
Finding codes (docs/auditing.md): REC record, ROL role, CAU causality,
INT integrity, DUP duplication, DEL delivery, CMP completion,
DEC LLM decision, POL policy."""


@dataclass
class _Job:
    specs: list[str]
    logs: list[str]
    protocol: str | None
    format_in: str
    checker: str | None
    delivery: str
    exclude: tuple[str, ...]
    retire_after: int | None = None


def _configured_jobs(protocol: str | None, format_in: str, checker: str | None, delivery: str,
                     fail_on: str, exclude: tuple[str, ...], retire_after: int | None = None) -> list[_Job]:
    """The `[[audit]]` tables of the project's configuration; command-line options win."""
    from ..config import ConfigError, discover

    try:
        cfg = discover()
    except ConfigError as e:
        echo(f"Error: {e}", err=True)
        raise SystemExit(2) from None
    if cfg is None or not cfg.audits:
        echo("Error: Missing option '--spec' and argument 'LOGS...' (or [[tool.protoverify.audit]] tables "
             "in pyproject.toml, [[audit]] in protoverify.toml: docs/ci.md).", err=True)
        raise SystemExit(2)
    ctx = click.get_current_context()
    given = {n for n in ctx.params if ctx.get_parameter_source(n) is not click.core.ParameterSource.DEFAULT}
    jobs = []
    for a in cfg.audits:
        o = a.options
        jobs.append(_Job(a.specs, a.logs, protocol if "protocol" in given else o.get("protocol"),
                         format_in if "format_in" in given else o.get("format_in", format_in),
                         checker if "checker" in given else o.get("checker"),
                         delivery if "delivery" in given else o.get("delivery", delivery),
                         exclude + tuple(cfg.exclude) + tuple(o.get("exclude", ())),
                         retire_after if "retire_after" in given else o.get("retire_after")))
    fails = {o for a in cfg.audits for o in [a.options.get("fail_on")] if o}
    if "fail_on" not in given and fails:
        # the strictest of the tables' (one exit code for the whole job)
        ctx.meta["protoverify.fail_on"] = min(fails, key=("info", "warning", "error", "never").index)
    return jobs




class _Progress:
    """A rich progress display on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _Progress:
        err = sys.stderr
        if hasattr(err, "isatty") and err.isatty():
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                TextColumn("{task.completed:,} events"), TimeElapsedColumn(),
                                console=Console(file=err), transient=True)
            self.bar.start()
        return self

    def __call__(self, path: str, events: int) -> None:
        if self.bar is None:
            return
        task = self.tasks.get(path)
        if task is None:
            task = self.tasks[path] = self.bar.add_task(os.path.basename(path), total=None)
        self.bar.update(task, completed=events)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@click.command(epilog=AUDIT_EXIT_CODES)
@click.argument("logs", nargs=-1, type=click.Path())
@click.option("--exclude", "exclude", multiple=True, metavar="GLOB",
              help="Leave out the files (or folders) matching GLOB, e.g. '*.summary.json' (repeatable).")
@click.option("--spec", "specs", multiple=True, type=click.Path(),
              help="BSPL file holding the protocol, or a directory of them; repeat it to audit "
                   "against several specs (each event goes to the protocol that has its message).")
@protocol_option
@format_in_option
@click.option("--format", "fmt", default="text", show_default=True,
              type=click.Choice(["text", "json", "junit", "sarif"]), help="Report format.")
@click.option("--output", "-o", "output", default=None, type=click.Path(dir_okay=False),
              help="Write the report to FILE instead of standard output.")
@fail_on_option
@delivery_option
@checker_option
@click.option("--retire-after", "retire_after", default=None, type=click.IntRange(min=0), metavar="N",
              help="Multi-key protocols: retire a complete enactment after N events without one of its "
                   "own, to bound memory; a later message of it is CMP003 [default: 20000].")
@click.option("--jobs", "-j", "jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Audit in N local processes (inputs partitioned by run; same findings, same order).")
@click.option("--engine", default="local", show_default=True, type=click.Choice(["local", "dask"]),
              help="dask: audit on a Dask cluster (pip install 'protoverify[scale]').")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --engine dask: the scheduler's address (default: a LocalCluster of --jobs "
                   "workers, at least 2).")
def audit(logs: tuple[str, ...], exclude: tuple[str, ...], specs: tuple[str, ...], protocol: str | None,
          format_in: str, fmt: str,
          output: str | None, fail_on: str, delivery: str, checker: str | None,
          retire_after: int | None, jobs: int, engine: str, scheduler: str | None) -> None:
    """Audit the recorded enactments in LOGS against the protocol in --spec.

    LOGS are files (plain, or gzip/bz2/xz compressed), directories (recursed for
    .jsonl/.ndjson/.json/.log/.txt files) or `-` for standard input. With neither
    LOGS nor --spec, the [[audit]] tables of [tool.protoverify] (pyproject.toml)
    or protoverify.toml say what to audit (docs/ci.md)."""
    from ..auditor.driver import audit as run_audit
    from ..auditor.parallel import audit_parallel
    from ..auditor.result import AuditInputError
    from ..report import counts_text, render
    from ._inputs import rename_sources, stdin_files

    if not logs and not specs:  # the project's audits, from [tool.protoverify] / protoverify.toml
        tables = _configured_jobs(protocol, format_in, checker, delivery, fail_on, exclude, retire_after)
    elif not specs:
        echo("Error: Missing option '--spec'.", err=True)
        raise SystemExit(2)
    elif not logs:
        echo("Error: Missing argument 'LOGS...'.", err=True)
        raise SystemExit(2)
    else:
        tables = [_Job(list(specs), list(logs), protocol, format_in, checker, delivery, exclude, retire_after)]
    if scheduler and engine != "dask":
        echo("Error: --scheduler needs --engine dask.", err=True)
        raise SystemExit(2)
    results = []
    for job in tables:
        spec = spec_paths(job.specs)
        paths = log_paths(job.logs, job.exclude)
        try:
            with _Progress() as progress, stdin_files(paths, ".log") as (paths, names):
                options: dict[str, Any] = dict(
                    protocol=job.protocol, format=None if job.format_in == "auto" else job.format_in,
                    checker=job.checker, delivery=None if job.delivery == "auto" else job.delivery,
                    record_enactments=fmt == "junit", progress=progress)
                if job.retire_after is not None:
                    options["retire_after"] = job.retire_after
                if engine == "dask" or jobs > 1:
                    result = audit_parallel(spec, paths, jobs=max(jobs, 2) if engine == "dask" and not scheduler
                                            else jobs, engine=engine, scheduler=scheduler, **options)
                else:
                    result = run_audit(spec, paths, **options)
                rename_sources(result, names)
        except AuditInputError as e:
            echo(f"Error: {e}", err=True)
            raise SystemExit(2) from None
        results.append(result)
    result = merge(results)
    text = render(result, fmt)
    if fmt != "text" or output:  # the text report ends with them already
        for h in result.hints:
            echo(f"hint: {h}", err=True)
    if output:
        write_report(output, text)
        c = result.counts()
        echo(f"{output}: {counts_text(c)}", err=True)
    else:
        echo(text.rstrip("\n"))
    fail_on = click.get_current_context().meta.get("protoverify.fail_on", fail_on)
    exit_audit(result, cast("FailOn", fail_on))
