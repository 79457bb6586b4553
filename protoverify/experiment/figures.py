"""Figures of an experiment (PNG and SVG): the metrics by policy level, and the drift of
p95 latency over the long runs. matplotlib is imported here only, when figures are drawn."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

PANELS = (("latency_p95", "gateway latency p95 (s)"), ("messages_per_completed", "messages / completed negotiation"),
          ("completed_correctly", "enactments completed correctly"),
          ("violations_stopped", "violations stopped before delivery"),
          ("fairness", "Jain's fairness (awards)"), ("decision_findings", "decision findings"))


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def by_policy(out: Path, rows: list[dict[str, Any]], horizon: str) -> list[Path]:
    """One panel per metric: value by policy level, one line per agent count (mean over seeds)."""
    policies = ["low", "medium", "high"]
    agents = sorted({int(r["agents"]) for r in rows if r["horizon"] == horizon})
    fig = _figure(13, 7.5)
    axes = fig.subplots(2, 3)
    for ax, (key, title) in zip(axes.flat, PANELS, strict=True):
        for n in agents:
            vals: dict[str, list[float]] = defaultdict(list)
            for r in rows:
                if r["horizon"] == horizon and int(r["agents"]) == n and r.get(key) not in (None, ""):
                    vals[r["policy"]].append(float(r[key]))
            ys = [_mean(vals[p]) for p in policies]
            ax.plot(policies, [y if y is not None else float("nan") for y in ys], marker="o", label=f"{n} agents")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"LLM-X matrix, {horizon} runs: metrics by policy level")
    fig.tight_layout()
    return _save(fig, out, f"policy-{horizon}")


def drift(out: Path, rows: list[dict[str, Any]], horizon: str) -> list[Path]:
    """p95 latency per simulated hour in the runs of `horizon`: per agent count and policy,
    the median over the seeds of each hour's p95 (in ms, log scale: a lone delayed
    envelope in a quiet hour shows without flattening the rest)."""
    fig = _figure(9, 5)
    ax = fig.subplots()
    colours = {"low": "tab:blue", "medium": "tab:orange", "high": "tab:green"}
    styles = {5: ":", 9: "--", 12: "-"}
    groups: dict[tuple[int, str], dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["horizon"] != horizon:
            continue
        d = orjson.loads((out / r["cell"] / "drift.json").read_bytes())
        for h, p in d["series"]:
            groups[(int(r["agents"]), r["policy"])][h].append(p * 1000)
    for (n, pol), series in sorted(groups.items()):
        xs = sorted(series)
        ys = [sorted(series[x])[len(series[x]) // 2] for x in xs]
        ax.plot(xs, ys, styles.get(n, "-"), color=colours.get(pol), marker=".", label=f"{n} agents, {pol}")
    ax.set_yscale("log")
    ax.set_xlabel("simulated hour")
    ax.set_ylabel("gateway latency p95 (ms, median over seeds)")
    ax.set_title(f"Latency drift over the {horizon} runs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    return _save(fig, out, f"drift-{horizon}")


def _figure(width: float, height: float) -> Any:
    """A Figure on its own Agg canvas: no pyplot, so drawing never switches the caller's
    backend (a notebook's inline display) and leaves no open figure behind."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, out: Path, stem: str) -> list[Path]:
    paths = []
    for ext in ("png", "svg"):
        p = out / f"{stem}.{ext}"
        fig.savefig(p, dpi=110)
        paths.append(p)
    return paths


def draw(out: Path, rows: list[dict[str, Any]]) -> list[Path]:
    """Every figure of the rows into `out`; returns the files written."""
    written: list[Path] = []
    for h in dict.fromkeys(r["horizon"] for r in rows):
        written += by_policy(out, rows, h)
        if h != "short":
            written += drift(out, rows, h)
    return written
