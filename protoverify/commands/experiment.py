"""`protoverify experiment --out DIR`: the LLM-X matrix (docs/experiments.md).

A plain click command (the CLI group registers it); `main` runs it alone, for tests.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import click

from . import invoke

EXPERIMENT_EXIT_CODES = """\b
Exit codes:
  0  every cell ran; metrics.csv, the figures and each run's audit are in --out
  2  usage or input error (unreadable spec, bad option)"""

DEFAULT_SPEC = "specs/contract-net.bspl"


def _ints(text: str) -> tuple[int, ...]:
    try:
        vals = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of agent counts") from None
    if not vals or any(v < 2 for v in vals):
        raise click.BadParameter("agent counts must be 2 or more")
    return vals


def _names(text: str, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    vals = tuple(x.strip() for x in text.split(",") if x.strip())
    bad = [v for v in vals if v not in allowed]
    if bad or not vals:
        raise click.BadParameter(f"{', '.join(bad) or text!r}: {what} must be among {', '.join(allowed)}")
    return vals


@click.command("experiment", epilog=EXPERIMENT_EXIT_CODES)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Directory for metrics.csv, the figures and one folder per run.")
@click.option("--spec", default=DEFAULT_SPEC, show_default=True, type=click.Path(dir_okay=False),
              help="The protocol the agents enact.")
@click.option("--agents", default="5,9,12", show_default=True, help="Agent counts of the matrix.")
@click.option("--policies", default="low,medium,high", show_default=True, help="Policy levels of the matrix.")
@click.option("--horizons", default="short,2h,12h", show_default=True,
              help="Run lengths (simulated clock): short (30 min), 2h, 12h.")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1, 100), help="Runs per cell.")
@click.option("--faults", default=None, help="Fault rates of every run (default: 1 % each, 10 % crashes).")
@click.option("--adversarial", default=1, show_default=True, type=click.IntRange(0, None),
              help="Misbehaving agents in every run.")
@click.option("--llm", is_flag=True, help="Real LLM agents (key from OPENAI_API_KEY) instead of simulated ones.")
@click.option("--base-url", default=None, help="OpenAI-compatible endpoint for --llm.")
@click.option("--model", default="gpt-4o-mini", show_default=True, help="Model name for --llm.")
@click.option("--no-figures", is_flag=True, help="Skip the matplotlib figures.")
def experiment(out: str, spec: str, agents: str, policies: str, horizons: str, seeds: int, faults: str | None,
               adversarial: int, llm: bool, base_url: str | None, model: str, no_figures: bool) -> None:
    """Run the LLM-X matrix (agents × policy × horizon) and write metrics.csv and figures."""
    from ..bspl import BSPLError
    from ..experiment.matrix import FAULTS, HORIZONS, POLICIES, Cell, cells, run_matrix

    chosen = list(cells(_ints(agents), _names(policies, POLICIES, "policies"),
                        _names(horizons, tuple(HORIZONS), "horizons"), seeds))
    if adversarial >= min(c.agents for c in chosen):
        raise click.BadParameter("fewer adversarial agents than agents, please", param_hint="--adversarial")
    model_for = None
    if llm:
        from ..agents.llm import OpenAIChat

        chat = OpenAIChat(model, base_url)
        model_for = lambda cell: chat  # noqa: E731
    outp = Path(out)
    t0 = time.perf_counter()

    def progress(cell: Cell, row: dict[str, Any]) -> None:
        click.echo(f"{cell.name}: {row['negotiations_completed']}/{row['negotiations']} negotiations, "
                   f"p95 {row['latency_p95']}, {time.perf_counter() - t0:.1f} s", err=True)

    try:
        rows = run_matrix(Path(spec), outp, chosen, model_for, faults or FAULTS, adversarial, progress)
    except OSError as e:
        raise click.ClickException(f"cannot read {spec}: {e.strerror or e}") from None
    except (BSPLError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    figs = []
    if not no_figures:
        from ..experiment.figures import draw

        figs = draw(outp, rows)
    click.echo(f"{len(rows)} runs in {time.perf_counter() - t0:.1f} s: {outp / 'metrics.csv'}, "
               f"{len(figs)} figure files, one audit.json per run")


def main(args: Sequence[str] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run the `experiment` command alone with `args`; return its exit code."""
    return invoke(experiment, "protoverify experiment", args, stdout, stderr)


if __name__ == "__main__":
    sys.exit(main())
