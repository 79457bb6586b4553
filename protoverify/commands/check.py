"""`protoverify check FILE…`: validate (and prove) BSPL protocols."""
from __future__ import annotations

import click
import orjson

from ..check import FileReport, check_file, exit_code
from ..cli import cli, echo

CHECK_EXIT_CODES = """\b
Exit codes:
  0  every protocol is well-formed (and, when verified, safe and live)
  1  some protocol is ill-formed, unsafe or nonlive
  2  usage or input error (missing file, syntax error, bad option)
  3  inconclusive: a solver query timed out (unknown)"""


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
        echo(orjson.dumps([r.to_dict() for r in reports], option=orjson.OPT_INDENT_2).decode())
    else:
        echo(render_check_text(reports))
    raise SystemExit(exit_code(reports))


