"""`protoverify check FILE…`: validate (and prove) BSPL protocols."""
from __future__ import annotations

import sys

import click
import orjson

from ..check import FileReport, check_file, exit_code, to_document
from . import echo

CHECK_EXIT_CODES = """\b
Exit codes:
  0  every protocol is well-formed (and, when verified, safe and live)
  1  some protocol is ill-formed, unsafe or nonlive
  2  usage or input error (missing file, syntax error, bad option)
  3  inconclusive: a solver query timed out (unknown)"""


def render_check_text(reports: list[FileReport], diagram: bool = False) -> str:
    """One line per protocol with its verdicts, its diagnostics, then its counterexamples."""
    lines: list[str] = []
    details: list[str] = []
    for r in reports:
        for d in r.diagnostics:
            lines.append(d.format())
        for p in r.protocols:
            status = "well-formed" if p.wellformed else "ILL-FORMED"
            if p.result is not None and p.result.skipped:
                status += ", verification skipped"
            elif p.result is not None:
                status += f", {p.result.summary()} ({p.result.seconds:.2f}s)"
            lines.append(f"{r.path}: {p.name}: {status}")
            for d in p.diagnostics:
                lines.append(d.format())
            if p.result is not None:
                from ..verify import render_diagrams, render_text

                text = render_text(p.result)
                if text:
                    details.append(f"{r.path}: {p.name}:\n{text}")
                if diagram and text:
                    details.append(render_diagrams(p.result))
    return "\n".join(lines + ([""] + details if details else []))


@click.command(epilog=CHECK_EXIT_CODES)
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--exclude", "exclude", multiple=True, metavar="GLOB",
              help="Leave out the files (or folders) matching GLOB (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--timeout", type=click.FloatRange(min=0.001), default=5.0, show_default=True,
              help="Seconds per solver query; a query that runs out answers 'unknown' (exit 3).")
@click.option("--diagram", is_flag=True, help="Also print each counterexample as a Mermaid sequence diagram.")
@click.option("--no-verify", "no_verify", is_flag=True, help="Only parse and validate; do not prove.")
@click.option("--strict", is_flag=True,
              help="Refuse the dialect bspl accepts but a careful author may not mean: two messages "
                   "with one name (E019), a message to its own sender (E022), a parameter declared "
                   "twice (E003) or public and private (E004), a public out nothing binds (E014). "
                   "These become errors (ill-formed, not verified) instead of warnings (W106-W109) "
                   "or silence.")
def check(files: tuple[str, ...], exclude: tuple[str, ...], fmt: str, timeout: float, diagram: bool, no_verify: bool,
          strict: bool) -> None:
    """Check the BSPL protocols in FILES: well-formedness, then (with Z3) safety,
    liveness and enactability of every well-formed protocol.

    FILES are .bspl files, directories (recursed for *.bspl) or `-` for standard input."""
    from ._inputs import SPEC_SUFFIXES, STDIN, expand

    paths = expand(files, SPEC_SUFFIXES, exclude)
    if not paths:
        echo("Error: no .bspl file in " + ", ".join(files) + (" (after --exclude)" if exclude else ""), err=True)
        raise SystemExit(2)
    stdin = sys.stdin.read() if STDIN in paths else None
    reports = [check_file("<stdin>" if f == STDIN else f, verify=not no_verify, timeout=timeout,
                          strict=strict, text=stdin if f == STDIN else None) for f in paths]
    if fmt == "json":
        echo(orjson.dumps(to_document(reports), option=orjson.OPT_INDENT_2).decode())
    else:
        echo(render_check_text(reports, diagram))
    raise SystemExit(exit_code(reports))


