"""Figures of the analysis frames: each function returns a matplotlib Figure drawn on the Agg
canvas (made without pyplot: no window, no global list of open figures to close); save it
with `fig.savefig(path)`, or show it in a notebook.

* `modes_by` — failure modes by agent, agent kind, model or policy (a table of counts as a heat map);
* `completion_over_time` — the share of enactments complete as a run goes on, per group;
* `latency` — distributions of LLM decision latency and of message delivery latency;
* `sequence` — one enactment as a sequence diagram, its findings marked.
"""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar, cast

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..findings import CODES
from .frames import mode_counts
from .taxonomy import MODE_BY_ID

SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#e67e22", "info": "#2980b9"}
#: the vertical step between findings listed beside one row (in rows)
FINDING_STEP = 0.5
TEXT_CHARS = 60  # of a finding's text beside the sequence diagram
POINTS = 250  # values drawn as points per box at most (a sample: the box summarises them all)
_NA = "n/a"


F = TypeVar("F", bound=Callable[..., Figure])


def _plain(draw: F) -> F:
    """Draw log strings as plain text: a `$` in an agent, run or message name must not start
    matplotlib's mathtext (which fails on arbitrary input). Texts keep the setting they are
    made with, so the figure draws plainly later too."""
    @functools.wraps(draw)
    def wrapper(*args: Any, **kw: Any) -> Figure:
        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kw)
    return cast(F, wrapper)


def _blank(width: float, height: float) -> Figure:
    """A Figure on an Agg canvas, outside pyplot."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    """A Figure on an Agg canvas and its one Axes."""
    fig = _blank(width, height)
    return fig, fig.subplots()


def _labels(values: Any) -> list[str]:
    return [str(v) for v in values]


@_plain
def modes_by(findings: pd.DataFrame, by: str = "agent_kind", share: bool = False,
             title: str | None = None) -> Figure:
    """Findings per failure mode (rows) and value of `by` (columns: "agent", "agent_kind", "model",
    "policy", "run", or any column), as a heat map with the counts written in. `share`: each column
    as percentages of its findings (to compare groups of different sizes)."""
    table = mode_counts(findings, by).astype(float)
    if share:
        totals = table.sum(axis=0).replace(0, np.nan)
        table = table.div(totals, axis=1) * 100
    nrows, ncols = table.shape
    fig, ax = _figure(max(5.0, 1.1 * ncols + 4.2), 0.42 * nrows + 1.6)
    if ncols == 0:
        ax.text(0.5, 0.5, "no findings", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title or f"Failure modes by {by}", fontsize=11)
        return fig
    data = table.to_numpy()
    shown = np.nan_to_num(data)
    im = ax.imshow(shown, aspect="auto", cmap="Reds", vmin=0, vmax=max(1.0, float(shown.max())))
    ax.set_yticks(range(nrows), [MODE_BY_ID[m].title for m in table.index])
    cols = _labels(table.columns)
    ax.set_xticks(range(ncols), cols, rotation=30 if max((len(c) for c in cols), default=0) > 8 else 0,
                  ha="right" if max((len(c) for c in cols), default=0) > 8 else "center")
    ax.set_xlabel(by)
    top = float(shown.max()) if shown.size else 0.0
    for i in range(nrows):
        for j in range(ncols):
            v = data[i, j]
            text = "" if np.isnan(v) else (f"{v:.0f}%" if share else f"{v:.0f}")
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if top and v > 0.6 * top else "black")
    ax.set_title(title or f"Failure modes by {by}" + (" (share of each column's findings)" if share else ""),
                 fontsize=11)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="% of findings" if share else "findings")
    fig.tight_layout()
    return fig


@_plain
def completion_over_time(enactments: pd.DataFrame, by: str = "policy", title: str | None = None) -> Figure:
    """Per value of `by`, the share of its enactments that are complete at each moment of the run
    (time since the run's first event; an enactment counts from its last event on). The line ends
    at the group's completion rate."""
    fig, ax = _figure(8, 4.5)
    df = enactments.dropna(subset=["start", "end"]).copy()
    if df.empty:
        ax.text(0.5, 0.5, "no enactments with times", ha="center", va="center", transform=ax.transAxes)
        return fig
    origin = df.groupby(["file", "run_id"], dropna=False)["start"].transform("min")
    df["t"] = df["end"] - origin
    groups = df[by].astype(object).where(df[by].notna(), _NA) if by in df else pd.Series(_NA, index=df.index)
    order = list(df[by].cat.categories) + [_NA] if by in df and isinstance(df[by].dtype, pd.CategoricalDtype) \
        else sorted(set(groups))
    for g in order:
        sel = df[groups == g]
        if sel.empty:
            continue
        done = np.sort(sel.loc[sel["complete"].fillna(False).astype(bool), "t"].to_numpy())
        n = len(sel)
        xs = np.concatenate([[0.0], done, [float(sel["t"].max())]])
        ys = np.concatenate([[0.0], np.arange(1, len(done) + 1) / n, [len(done) / n]]) * 100
        ax.step(xs, ys, where="post", label=f"{g} ({len(done)}/{n} complete)")
    ax.set_xlabel("time since the run's first event (s)")
    ax.set_ylabel("enactments complete (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(title=by, fontsize=8, loc="lower right")
    ax.set_title(title or f"Completion over time by {by}", fontsize=11)
    fig.tight_layout()
    return fig


def delivery_latency(events: pd.DataFrame) -> pd.DataFrame:
    """Each receipt with its send: (file, run, id, message, latency_s) from the events frame
    (receive ts - send ts of the same message id in the same run of the same log: runs of one
    log may reuse ids)."""
    ev = events.dropna(subset=["id", "ts"])
    ev = ev.assign(_run=ev["run_id"].astype(object).where(ev["run_id"].notna(), ""))
    key = ["file", "_run", "id"]
    sends = ev[ev["kind"] == "send"].drop_duplicates(key).set_index(key)["ts"]
    recv = ev[ev["kind"] == "receive"]
    sent = sends.reindex(pd.MultiIndex.from_frame(recv[key])).to_numpy()
    out = recv[["file", "run", "id", "message"]].reset_index(drop=True)
    out["latency_s"] = recv["ts"].to_numpy(dtype=float) - sent.astype(float)
    out["policy"] = recv["policy"].reset_index(drop=True)
    return out.dropna(subset=["latency_s"]).reset_index(drop=True)


@_plain
def latency(decisions: pd.DataFrame, events: pd.DataFrame | None = None, by: str = "model",
            events_by: str = "run", title: str | None = None) -> Figure:
    """Latency distributions: LLM decision latency per value of `by` (left), and, with an events
    frame, message delivery latency (send to receipt) per value of `events_by` (right). Box plots
    with the values drawn as points (a sample of `POINTS` per box when there are more)."""
    panels = 2 if events is not None else 1
    fig = _blank(6.2 * panels, 4.3)
    axes = fig.subplots(1, panels, squeeze=False)
    _boxes(axes[0][0], decisions.dropna(subset=["latency_s"]), "latency_s", by,
           "LLM decision latency", "seconds per call")
    if events is not None:
        d = delivery_latency(events)
        d["latency_ms"] = d["latency_s"] * 1000
        if events_by not in d and events_by in events:
            first = events.drop_duplicates(["file"]).set_index("file")[events_by]
            d[events_by] = d["file"].map(first).astype(events[events_by].dtype)
        _boxes(axes[0][1], d, "latency_ms", events_by, "Message delivery latency (send to receipt)",
               "milliseconds (log scale)", log=True)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def _boxes(ax: Any, df: pd.DataFrame, col: str, by: str, title: str, ylabel: str, log: bool = False) -> None:
    if df.empty or by not in df:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(title, fontsize=10)
        return
    groups = df[by].astype(object).where(df[by].notna(), _NA)
    names = [g for g in (list(df[by].cat.categories) + [_NA] if isinstance(df[by].dtype, pd.CategoricalDtype)
                         else sorted(set(groups), key=str)) if (groups == g).any()]
    values = [df.loc[groups == g, col].to_numpy(dtype=float) for g in names]
    if log:
        values = [np.clip(v, 1e-6, None) for v in values]
    ax.boxplot(values, showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), [f"{g}\n(n={len(v)})" for g, v in zip(names, values, strict=True)])
    rng = np.random.default_rng(0)
    for i, v in enumerate(values, 1):
        pts = v if len(v) <= POINTS else rng.choice(v, POINTS, replace=False)
        ax.plot(i + rng.uniform(-0.18, 0.18, len(pts)), pts, ".", alpha=0.35, color="tab:blue", markersize=4)
    if log:
        ax.set_yscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_xlabel(by)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")


@_plain
def sequence(events: pd.DataFrame, findings: pd.DataFrame, title: str | None = None,
             max_rows: int = 60) -> Figure:
    """One enactment as a sequence diagram: a lifeline per role (its agents named under it), an
    arrow per message sent (dashed and crossed when rejected or dropped), in log order; each
    finding marked at its line with its code and text (colour: severity). Takes the two frames
    `Frames.enactment(...)` returns. A receipt is drawn only when its send is not in the log (a log
    of one agent's view: the receipt stands for the other role's send). Times are seconds since
    the first event drawn."""
    sends = events[events["kind"] == "send"]
    sent_ids = set(sends["id"].dropna())
    sent_msgs = set(sends["message"].dropna())
    unseen = (events["kind"] == "receive") & ~(events["id"].isin(sent_ids) if events["id"].notna().any()
                                                else events["message"].isin(sent_msgs))
    shown = events[(events["kind"] != "receive") | unseen].sort_values("line").head(max_rows)
    t0 = shown["ts"].min() if shown["ts"].notna().any() else None
    roles: list[str] = []
    for _, e in shown.iterrows():
        for r in [e["sender"], *(str(e["recipients"]).split(",") if pd.notna(e["recipients"]) else [])]:
            if isinstance(r, str) and r and r not in roles:
                roles.append(r)
    for r in findings["role"].dropna():
        if r not in roles:
            roles.append(r)
    x = {r: i for i, r in enumerate(roles)}
    lines = list(shown["line"])
    late = findings[~findings["line"].isin(lines)]
    nrows = len(lines) + (1 if len(late) else 0)
    row_of = {ln: i for i, ln in enumerate(lines)}
    rows_of_findings = [row_of.get(ln, nrows - 1) if pd.notna(ln) else nrows - 1
                        for ln in findings.sort_values("line")["line"]]
    per_row = Counter(rows_of_findings)
    # a row is as tall as the findings listed beside it (one text line each), so none overlap
    height = [max(1.0, FINDING_STEP * per_row.get(i, 0)) for i in range(nrows)]
    y: list[float] = []
    for i, h in enumerate(height):
        y.append(0.0 if i == 0 else y[-1] + (height[i - 1] + h) / 2)
    bottom = (y[-1] + height[-1] / 2) if y else 0.5
    fig, ax = _figure(max(6.0, 2.4 * max(len(roles), 2) + 2.6 + 4.2), 0.55 * bottom + 2.2)
    agents: dict[str, set[str]] = {r: set() for r in roles}
    for _, e in events.iterrows():
        role = e["sender"] if e["kind"] != "receive" else (str(e["recipients"]).split(",")[0]
                                                           if pd.notna(e["recipients"]) else None)
        if isinstance(role, str) and role in agents and pd.notna(e["agent"]):
            agents[role].add(str(e["agent"]))
    for r, i in x.items():
        ax.plot([i, i], [-0.6, bottom - 0.1], color="0.7", lw=1, zorder=0)
        names = sorted(agents[r] - {r})
        who = "\n".join(names[:3] + ([f"+{len(names) - 3} more"] if len(names) > 3 else []))
        ax.text(i, -0.8, r, ha="center", va="bottom", fontsize=9, fontweight="bold",
                bbox={"boxstyle": "round", "fc": "#eef2f7", "ec": "0.6"})
        if who:
            ax.text(i, -0.75, who, ha="center", va="top", fontsize=7, color="0.3",
                    bbox={"boxstyle": "round", "fc": "white", "ec": "none", "alpha": 0.9})
    for row, (_, e) in enumerate(shown.iterrows()):
        yr = y[row]
        src = x.get(e["sender"])
        targets = [x[t] for t in (str(e["recipients"]).split(",") if pd.notna(e["recipients"]) else []) if t in x]
        name = str(e["message"]).rsplit("/", 1)[-1]
        failed = e["kind"] in ("reject", "drop")
        for t in targets or ([src] if src is not None else []):
            if src is None:
                continue
            ax.annotate("", xy=(t, yr), xytext=(src, yr),
                        arrowprops={"arrowstyle": "-|>", "lw": 1.3, "ls": "--" if failed else "-",
                                    "color": "0.55" if failed else "black"})
            if failed:
                ax.plot([(src + t) / 2], [yr], marker="x", color="#c0392b", markersize=9, mew=2)
        mid = (src + (targets[0] if targets else src)) / 2 if src is not None else 0
        label = name + (f"  [{e['kind']}]" if failed else "")
        ax.text(mid, yr - 0.12, label, ha="center", va="bottom", fontsize=8)
        ts = f"  t+{e['ts'] - t0:.1f}s" if pd.notna(e["ts"]) and t0 is not None else ""
        ax.text(-0.55, yr, f"line {e['line']}{ts}", ha="right", va="center", fontsize=7, color="0.4")
    right = len(roles) - 1 + 0.35
    marks: dict[int, int] = {}
    for row, (_, f) in zip(rows_of_findings, findings.sort_values("line").iterrows(), strict=True):
        k = marks.get(row, 0)
        marks[row] = k + 1
        colour = SEVERITY_COLOURS.get(str(f["severity"]), "black")
        at = x.get(f["role"], x.get(shown.iloc[row]["sender"], 0) if row < len(lines) else 0)
        ax.plot([at], [y[row]], "o", ms=11, mfc="none", mec=colour, mew=2)
        text = str(f["text"]) if pd.notna(f["text"]) else CODES[str(f["code"])].title
        text = text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"
        yt = y[row] + FINDING_STEP * (k - (per_row[row] - 1) / 2)
        ax.text(right + 0.05, yt, f"{f['code']} {text}", color=colour, fontsize=8, va="center")
    if len(late):
        ax.text(-0.55, y[nrows - 1], "end of log", ha="right", va="center", fontsize=7, color="0.4")
    ax.set_xlim(-1.5, right + 4.5)
    ax.set_ylim(bottom, -1.6)
    ax.axis("off")
    enact = events["enactment"].dropna().iloc[0] if events["enactment"].notna().any() else ""
    ax.set_title(title or f"Enactment {enact}", fontsize=11)
    fig.tight_layout()
    return fig
