"""`protoverify run --spec SPEC`: agents negotiate through the reference exchange; logs land in --out.

A plain click command (the CLI group registers it); `main` runs it alone, for tests.
"""
from __future__ import annotations

import contextlib
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click
import orjson

from . import invoke

if TYPE_CHECKING:
    from ..agents.base import Agent
    from ..exchange.bus import Transport

RUN_EXIT_CODES = """\b
Exit codes:
  0    the run finished; its logs and summary.json are in --out
  2    usage or input error (unreadable spec, bad option or fault list)
  3    NATS failed: no server at --nats-url, nats-server missing or not
       starting, servers not federated, or messages lost in transit
  130  interrupted (Ctrl-C, SIGINT)
  143  terminated (SIGTERM)
       When interrupted or terminated, the log written so far is flushed (whole
       lines), nats-servers the run started are stopped and their configs removed."""
EXIT_NATS = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(BaseException):
    """SIGTERM reached the run: unwinds it like Ctrl-C, so that everything it started stops
    (a BaseException, as KeyboardInterrupt: the `except Exception` of a connect or a close on
    the way must not swallow it or turn it into another exit code)."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated(signum)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str) -> float:
    """`90`, `90s`, `30m`, `12h` -> seconds; raises click.BadParameter."""
    m = _DURATION.match(text)
    if m is None or float(m.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a positive duration like 90s, 30m or 12h")
    return float(m.group(1)) * _UNIT[m.group(2)]


@click.command("run", epilog=RUN_EXIT_CODES)
@click.argument("spec_arg", metavar="[SPEC]", required=False, type=click.Path(dir_okay=False))
@click.option("--spec", "spec_opt", default=None, type=click.Path(dir_okay=False),
              help="The BSPL spec to enact (or give it as the argument SPEC).")
@click.option("--protocol", default=None, help="Protocol of SPEC to enact (default: the only one).")
@click.option("--agents", default=12, show_default=True, type=click.IntRange(2, 10000),
              help="Number of personal agents (each requests and bids).")
@click.option("--policy", default="high", show_default=True, type=click.Choice(["low", "medium", "high"]),
              help="Policy level of the gateways (docs/exchange.md).")
@click.option("--duration", default="1h", show_default=True,
              help="How long negotiations open (90s, 30m, 12h); open ones then finish.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of agents, bus and faults.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Directory for exchange.jsonl, summary.json and injections.jsonl.")
@click.option("--clock", default="sim", show_default=True, type=click.Choice(["sim", "real"]),
              help="Simulated time (fast) or wall-clock time.")
@click.option("--faults", default="", help="Fault rates, e.g. drop=0.01,duplicate=0.01,reorder=0.01,"
              "delay=0.01,crash=0.1 (crash: share of agents).")
@click.option("--gateways", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Federated gateways the agents are spread over.")
@click.option("--adversarial", default=0, show_default=True, type=click.IntRange(0, None),
              help="How many of the agents misbehave.")
@click.option("--adversarial-rate", default=0.3, show_default=True, type=click.FloatRange(0, 1),
              help="Probability that an adversarial agent adds a bad envelope to a decision.")
@click.option("--agent-kind", default="scripted", show_default=True, type=click.Choice(["scripted", "random"]),
              help="Behaviour of the honest agents.")
@click.option("--biased", default=0, show_default=True, type=click.IntRange(0, None),
              help="How many honest agents call only their two favourite peers.")
@click.option("--transport", default="inproc", show_default=True, type=click.Choice(["inproc", "nats"]),
              help="The bus between gateways: in process, or through NATS servers (without "
              "--nats-url the run starts one local nats-server per gateway, federated).")
@click.option("--nats-url", "nats_urls", multiple=True, metavar="URL",
              help="A running NATS server (repeat: one per gateway, federated; one URL serves all "
              "gateways). Implies --transport nats.")
@click.option("--llm", is_flag=True, help="Every honest agent is an LLM agent (key from OPENAI_API_KEY), "
              "in every role that --role-agent does not map otherwise.")
@click.option("--role-agent", "role_agent", multiple=True, metavar="ROLE=KIND",
              help="Who makes the honest agents' decisions for ROLE: llm, scripted, random or "
              "simulated-llm (repeat per role; other roles: --llm, else --agent-kind).")
@click.option("--base-url", default=None,
              help="OpenAI-compatible endpoint for --llm and llm roles (default: OpenAI's).")
@click.option("--model", default="gpt-4o-mini", show_default=True, help="Model name for --llm and llm roles.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json instead of one line.")
def run(spec_arg: str | None, spec_opt: str | None, protocol: str | None, agents: int, policy: str,
        duration: str, seed: int, out: str, clock: str, faults: str, gateways: int, adversarial: int,
        adversarial_rate: float, agent_kind: str,
        biased: int, transport: str, nats_urls: tuple[str, ...], llm: bool, role_agent: tuple[str, ...],
        base_url: str | None, model: str, as_json: bool) -> None:
    """Run agents enacting the protocol in SPEC through the reference exchange."""
    from ..bspl import BSPLError
    from ..exchange.nats import NatsUnavailable
    from ..exchange.run import run as run_exchange

    if (spec_arg is None) == (spec_opt is None):
        raise click.UsageError("give the spec once: --spec FILE (or the argument SPEC)")
    spec = spec_opt or spec_arg or ""
    seconds = parse_duration(duration)
    if adversarial > agents:
        raise click.BadParameter(f"{adversarial} adversarial agents but only {agents} agents",
                                 param_hint="--adversarial")
    from ..agents.by_role import parse_mapping

    try:
        mapping = parse_mapping(role_agent)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--role-agent") from None
    if nats_urls:
        transport = "nats"
        if len(nats_urls) not in (1, gateways):
            raise click.BadParameter(f"{len(nats_urls)} URLs for {gateways} gateway(s): give one per gateway "
                                     "(or one for all)", param_hint="--nats-url")
    main_thread = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        with contextlib.ExitStack() as stack:
            bus = _nats(stack, list(nats_urls), gateways, out) if transport == "nats" else None
            with _progress(seconds) as tick:
                s = run_exchange(spec, agents=agents, policy=policy, duration=seconds, seed=seed, out=out,
                                 clock=clock, faults=faults or None, gateways=gateways, protocol=protocol,
                                 adversarial=adversarial, adversarial_rate=adversarial_rate,
                                 agent_kind=agent_kind, biased=biased, transport=bus, progress=tick,
                                 **agent_kinds(spec, protocol, mapping, llm, model, base_url))
    except NatsUnavailable as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(EXIT_NATS) from None
    except KeyboardInterrupt:
        click.echo(f"Interrupted; the log so far is in {out}, the run's servers are stopped.", err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Terminated:
        click.echo(f"Terminated; the log so far is in {out}, the run's servers are stopped.", err=True)
        raise SystemExit(EXIT_TERMINATED) from None
    except OSError as e:
        raise click.ClickException(f"cannot read {spec}: {e.strerror or e}") from None
    except (BSPLError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, before if before is not None else signal.SIG_DFL)
    if as_json:
        click.echo(orjson.dumps(s.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(f"{s.protocol}: {s.agents} agents, policy {s.policy}, {s.gateways} gateway(s), "
               f"{s.sim_seconds:.0f} s {'simulated' if s.clock == 'sim' else 'real'} in {s.wall_seconds:.2f} s: "
               f"{s.envelopes} envelopes = {s.delivered} delivered + {s.rejected} rejected + {s.dropped} dropped; "
               f"{s.negotiations_completed}/{s.negotiations} negotiations and {s.completed}/{s.enactments} "
               f"enactments complete; log {s.log}")


def _nats(stack: contextlib.ExitStack, urls: list[str], gateways: int, out: str) -> Transport:
    """The NATS transport: over the servers at `urls`, else over local federated servers this
    run starts (stopped when `stack` closes, whatever happens)."""
    from ..exchange.nats import NatsTransport
    from ..exchange.natsserver import LocalFederation

    if not urls:
        urls = stack.enter_context(LocalFederation(gateways, Path(out) / "nats")).urls
    bus = NatsTransport(urls)
    # idempotent: a run that ends closes it first (settling its receipts); an interrupted one waits for nothing
    stack.callback(bus.close, False)
    return bus


@contextlib.contextmanager
def _progress(seconds: float) -> Iterator[Callable[[float], None] | None]:
    """A rich progress bar over the run's clock on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("run"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("run", total=seconds)
        yield lambda now: bar.update(task, completed=min(now, seconds))


def llm_factory(spec: str, model: str, base_url: str | None) -> Callable[[str], Agent]:
    """LLM agents sharing one client to `model` at `base_url` (openai imported only here)."""
    from ..agents.llm import LLMAgent, OpenAIChat

    text = open(spec, encoding="utf-8").read()
    chat = OpenAIChat(model, base_url)
    return lambda name: LLMAgent(name, chat, text)


def simulated_factory(spec: str, protocol: str | None) -> Callable[[str], Agent]:
    """LLM agents asking one simulated model (offline; agents.simulated_llm)."""
    from ..agents.llm import LLMAgent
    from ..agents.simulated_llm import SimulatedLLM
    from ..exchange.run import _flat

    text = open(spec, encoding="utf-8").read()
    model = SimulatedLLM(keys=frozenset(_flat(spec, protocol).keys))
    return lambda name: LLMAgent(name, model, text)


def agent_kinds(spec: str, protocol: str | None, mapping: dict[str, str], llm: bool, model: str,
                base_url: str | None) -> dict[str, Any]:
    """The exchange run's `agent_factory` and `role_agents` for --llm and --role-agent: one
    LLM client (and one simulated model) shared by every agent that needs it."""
    made: dict[str, Callable[[str], Agent]] = {}

    def factory(kind: str) -> Callable[[str], Agent] | str:
        if kind in ("scripted", "random"):
            return kind
        if kind not in made:
            made[kind] = llm_factory(spec, model, base_url) if kind == "llm" else simulated_factory(spec, protocol)
        return made[kind]

    out: dict[str, Any] = {"agent_factory": factory("llm") if llm else None}
    if mapping:
        out["role_agents"] = {r: factory(k) for r, k in mapping.items()}
    return out


def main(args: Sequence[str] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run the `run` command alone with `args`; return its exit code."""
    return invoke(run, "protoverify run", args, stdout, stderr)


if __name__ == "__main__":
    sys.exit(main())
