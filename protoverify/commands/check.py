"""`protoverify check FILE…`: validate (and prove) BSPL protocols."""
from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

import click

from . import echo, write_report

if TYPE_CHECKING:
    from ..check import FileReport
    from ..report.checks import Filter

CHECK_EXIT_CODES = """\b
Exit codes:
  0  no issue at or above --fail-on (default: every protocol is
     well-formed and, when verified, safe and live)
  1  some issue at or above --fail-on (ill-formed, unsafe, nonlive)
  2  usage or input error (missing file, syntax error, bad option)
  3  inconclusive: a solver query timed out (unknown)

\b
Codes: E (error) and W (warning) diagnostics (docs/language.md); V001
unsafe, V002 nonlive, V003 inconclusive, V004 dead message."""

_COLORS = {"error": "31;1", "ILL-FORMED": "31;1", "unsafe": "31;1", "nonlive": "31;1",
           "warning": "33", "unknown": "33", "well-formed": "32", "safe": "32", "live": "32", "hint:": "2"}
_WORD = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in _COLORS) + r")(?![\w-])")


def use_color(choice: str, stream: Any) -> bool:
    """--color: always/never; auto colours a terminal unless NO_COLOR is set (no-color.org)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", None) and stream.isatty())


def paint(text: str) -> str:
    return _WORD.sub(lambda m: f"\x1b[{_COLORS[m.group(1)]}m{m.group(1)}\x1b[0m", text)


def render_check_text(reports: list[FileReport], diagram: bool = False, keep: Filter | None = None,
                      quiet: bool = False) -> str:
    """Per file: one line per protocol with its verdicts and its diagnostics, then that
    file's counterexamples (next to their own file). `quiet`: only what has an issue."""
    from ..report.checks import Issue, _sentence

    def shown(d: Any, path: str, proto: str | None) -> bool:
        return keep is None or keep.keeps(Issue(d.code, d.severity, _sentence(d.message), path, d.line,
                                                d.column, proto))

    lines: list[str] = []
    for r in reports:
        details: list[str] = []
        for d in r.diagnostics:
            if shown(d, r.path, None):
                lines.append(d.format())
        for p in r.protocols:
            diags = [d for d in p.diagnostics if shown(d, r.path, p.name)]
            status = "well-formed" if p.wellformed else "ILL-FORMED"
            if p.result is not None and p.result.skipped:
                status += ", verification skipped"
            elif p.result is not None:
                status += f", {p.result.summary()} ({p.result.seconds:.2f}s)"
            clean = p.wellformed and not diags and (p.result is None or p.result.skipped
                                                    or (not p.result.verdict.failed and not p.result.dead
                                                        and p.result.verdict.value != "unknown"))
            if not (quiet and clean):
                lines.append(f"{r.path}: {p.name}: {status}")
            lines.extend(d.format() for d in diags)
            if p.result is not None:
                from ..prover import render_diagrams, render_text

                text = render_text(p.result)
                if text:
                    details.append(f"{r.path}: {p.name}:\n{text}")
                if diagram and text:
                    details.append(render_diagrams(p.result))
        if details:
            lines.extend([""] + details + ([""] if r is not reports[-1] else []))
    return "\n".join(lines)


def _document(reports: list[FileReport], diagram: bool) -> dict[str, Any]:
    """The JSON document; with --diagram each protocol with a counterexample gets `diagram` (Mermaid)."""
    from ..check import to_document

    doc = to_document(reports)
    if diagram:
        from ..prover import render_diagrams, render_text

        for r, fd in zip(reports, doc["files"], strict=True):
            for p, pd in zip(r.protocols, fd["protocols"], strict=True):
                if p.result is not None and render_text(p.result):
                    pd["diagram"] = render_diagrams(p.result)
    return doc




@click.command(epilog=CHECK_EXIT_CODES)
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--exclude", "exclude", multiple=True, metavar="GLOB",
              help="Leave out the files (or folders) matching GLOB (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "junit"]), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", "output", default=None, type=click.Path(dir_okay=False),
              help="Write the report to FILE instead of standard output.")
@click.option("--fail-on", "fail_on", default="error", show_default=True,
              type=click.Choice(["error", "warning", "info", "never"]),
              help="Lowest severity of an issue that makes the exit code 1.")
@click.option("--select", "select", multiple=True, metavar="CODES",
              help="Report only these codes or prefixes (E001, W1, V; comma-separated, repeatable).")
@click.option("--ignore", "ignore", multiple=True, metavar="CODES",
              help="Do not report these codes or prefixes (comma-separated, repeatable).")
@click.option("--per-file-ignores", "per_file", multiple=True, metavar="GLOB:CODES",
              help="Ignore CODES in the files matching GLOB, e.g. 'legacy/*.bspl:W101,W102' (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the protocols with an issue (text).")
@click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour the text report (auto: on a terminal, unless NO_COLOR is set).")
@click.option("--timeout", type=click.FloatRange(min=0.001), default=5.0, show_default=True,
              help="Seconds per solver query; a query that runs out answers 'unknown' (exit 3).")
@click.option("--diagram", is_flag=True, help="Also give each counterexample as a Mermaid sequence diagram "
              "(text: printed; json: a `diagram` field of its protocol).")
@click.option("--no-verify", "no_verify", is_flag=True, help="Only parse and validate; do not prove.")
@click.option("--jobs", "-j", "jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Processes for the proofs (0: auto, parallel when there are many protocols).")
@click.option("--cache", "cache", default=None, metavar="DIR", envvar="PROTOVERIFY_CACHE",
              help="Keep each proof in DIR, keyed by the spec's content, the protocol, --timeout and the "
                   "tool's version: a later run re-solves only what changed (env PROTOVERIFY_CACHE).")
@click.option("--strict", is_flag=True,
              help="Refuse the dialect bspl accepts but a careful author may not mean: two messages "
                   "with one name (E019), a message to its own sender (E022), a parameter declared "
                   "twice (E003) or public and private (E004), a public out nothing binds (E014). "
                   "These become errors (ill-formed, not verified) instead of warnings (W106-W109) "
                   "or silence.")
def check(files: tuple[str, ...], exclude: tuple[str, ...], fmt: str, output: str | None, fail_on: str,
          select: tuple[str, ...], ignore: tuple[str, ...], per_file: tuple[str, ...], quiet: bool,
          color: str, timeout: float, diagram: bool, no_verify: bool, jobs: int, cache: str | None,
          strict: bool) -> None:
    """Check the BSPL protocols in FILES: well-formedness, then (with Z3) safety,
    liveness and enactability of every well-formed protocol.

    FILES are .bspl files, directories (recursed for *.bspl) or `-` for standard input;
    with none, the `specs` of [tool.protoverify] (pyproject.toml) or protoverify.toml."""
    from ..check import check_file
    from ..config import ConfigError, discover
    from ..report import plural
    from ..report.checks import Filter, exit_code, issues, to_junit, to_sarif
    from ._inputs import SPEC_SUFFIXES, STDIN, expand

    try:
        cfg = discover()
    except ConfigError as e:
        echo(f"Error: {e}", err=True)
        raise SystemExit(2) from None
    if cfg is not None:  # the project's defaults, for every option not given on the command line
        ctx = click.get_current_context()
        given = {n for n in ctx.params if ctx.get_parameter_source(n) is not click.core.ParameterSource.DEFAULT}
        o = cfg.check
        fail_on = fail_on if "fail_on" in given else o.get("fail_on", fail_on)
        select = select if "select" in given else tuple(o.get("select", select))
        ignore = ignore if "ignore" in given else tuple(o.get("ignore", ignore))
        per_file = per_file if "per_file" in given else tuple(o.get("per_file_ignores", per_file))
        timeout = timeout if "timeout" in given else float(o.get("timeout", timeout))
        strict = strict if "strict" in given else bool(o.get("strict", strict))
        no_verify = no_verify if "no_verify" in given else not o.get("verify", not no_verify)
        quiet = quiet if "quiet" in given else bool(o.get("quiet", quiet))
        jobs = jobs if "jobs" in given else int(o.get("jobs", jobs))
        if "cache" not in given and o.get("cache"):
            cache = os.path.relpath(os.path.join(os.path.dirname(cfg.path), str(o["cache"])))
        exclude = exclude + tuple(cfg.exclude) + tuple(o.get("exclude", ()))
        if not files:
            files = tuple(cfg.specs)
    if not files:
        echo("Error: Missing argument 'FILES...': name the spec files or folders to check "
             "(or `-` for standard input), or list them as `specs` in [tool.protoverify] "
             "(pyproject.toml) or protoverify.toml", err=True)
        raise SystemExit(2)
    paths = expand(files, SPEC_SUFFIXES, exclude)
    if not paths:
        echo("Error: no .bspl file in " + ", ".join(files) + (" (after --exclude)" if exclude else ""), err=True)
        raise SystemExit(2)
    split = [c for arg in select for c in arg.split(",")], [c for arg in ignore for c in arg.split(",")]
    keep = Filter(split[0], split[1], per_file)
    stdin = sys.stdin.read() if STDIN in paths else None
    reports = [check_file("<stdin>" if f == STDIN else f, verify=False, timeout=timeout,
                          strict=strict, text=stdin if f == STDIN else None) for f in paths]
    if not no_verify:
        from ..bspl import BSPLError, read_source
        from ._parallel import verify_all

        texts: dict[str, str] = {}
        for name, r in zip(paths, reports, strict=True):
            if r.spec is not None:
                try:
                    texts[r.path] = stdin if name == STDIN and stdin is not None else read_source(name)
                except BSPLError:
                    pass
        counts = verify_all(reports, texts, timeout, jobs, cache)
        if cache and not quiet:
            echo(f"cache {cache}: {plural(counts['cached'], 'proof')} reused, {counts['proved']} solved", err=True)
    found = issues(reports, keep)
    if fmt == "json":
        import orjson

        text = orjson.dumps(_document(reports, diagram), option=orjson.OPT_INDENT_2).decode()
    elif fmt == "sarif":
        text = to_sarif(reports, found)
    elif fmt == "junit":
        text = to_junit(reports, found, fail_on)
    else:
        text = render_check_text(reports, diagram, keep, quiet)
        if use_color(color, sys.stdout if output is None else None):
            text = paint(text)
    code = exit_code(reports, found, fail_on)
    if output:
        write_report(output, text)
    elif text or not quiet:
        echo(text.rstrip("\n"))
    if output or (fmt == "text" and not quiet and len(paths) > 1):
        errors = sum(i.severity == "error" for i in found)
        echo(f"{output + ': ' if output else ''}{plural(len(paths), 'file')}, "
             f"{plural(sum(len(r.protocols) for r in reports), 'protocol')}: "
             f"{plural(errors, 'error')}, {plural(len(found) - errors, 'warning')}", err=bool(output))
    raise SystemExit(code)
