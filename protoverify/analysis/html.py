"""The HTML report of `protoverify report`: one self-contained page for people to open.

Everything is inline (CSS in a <style>, figures as PNG data: URIs) and nothing is
fetched when the page is viewed; it needs no JavaScript: each enactment is a section
with an id, shown alone by CSS `:target` when a table links to it. Logs are untrusted
input, so every string that comes from them goes through `html.escape` (`_e`) and
anchors are generated (`e1`, `e2`…), never derived from log text.
"""
from __future__ import annotations

import base64
import html
import io
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..findings import SEVERITIES, Finding, Severity
from .taxonomy import MODES, mode_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from ..api import SpecSource
    from ..auditor.result import AuditResult
    from .frames import Frames

#: What the inputs table shows of a run (keys of its summary.json).
RUN_FACTS = ("policy", "agents", "seed")

#: How many enactments (with findings, the worst first) get a sequence diagram on their page.
SEQUENCES = 12

#: How many enactment links a taxonomy row shows (the enactments table lists them all).
EXAMPLES = 6


@dataclass(frozen=True)
class Figure:
    """One figure of the page: a PNG and what it shows."""

    title: str
    png: bytes
    caption: str = ""


@dataclass
class Page:
    """One enactment of one audit (or a file's findings outside any enactment)."""

    anchor: str
    audit: int
    run: str | None
    enactment: str | None
    status: str = "-"  # complete | stalled | deadlock | - (no enactment)
    source: str | None = None
    first_line: int | None = None
    last_line: int | None = None
    events: int = 0
    missing: tuple[str, ...] = ()
    findings: list[Finding] = field(default_factory=list)

    def label(self, names: Callable[[str | None], str] = str) -> str:
        if self.enactment is None:
            return f"other findings in {names(self.source) or 'the audit'}"
        return self.enactment

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def modes(self) -> list[str]:
        """The failure modes of its findings, in the taxonomy's order."""
        seen = {mode_of(f.code) for f in self.findings}
        return [m.id for m in MODES if m.id in seen]


def pages(results: Sequence[AuditResult]) -> list[Page]:
    """One page per enactment of each audit, in the order they ended, then one per file
    for the findings that belong to no enactment (unreadable lines, unknown messages…)."""
    out: list[Page] = []
    for i, r in enumerate(results):
        by_key: dict[tuple[str | None, str | None], Page] = {}
        for s in r.statuses:
            key = (s.run, s.enactment)
            if key not in by_key:
                by_key[key] = Page("", i, s.run, s.enactment, s.status, s.source, s.first_line, s.last_line,
                                   s.events, tuple(s.missing))
        loose: dict[str | None, Page] = {}
        for f in r.findings:
            if f.enactment is None:
                page = loose.setdefault(f.source, Page("", i, f.run, None, source=f.source))
            else:
                page = by_key.setdefault((f.run, f.enactment), Page("", i, f.run, f.enactment, source=f.source))
            page.findings.append(f)
        out.extend(by_key.values())
        out.extend(loose.values())
    for n, p in enumerate(out, 1):
        p.anchor = f"e{n}"
        p.findings.sort(key=lambda f: (f.source or "", f.line or 0))
    return out


class Names:
    """Input paths as shown: relative to the directory that holds them all."""

    def __init__(self, sources: Iterable[str]) -> None:
        given = list(sources)
        dirs = [os.path.dirname(x) for x in given if os.path.isabs(x)]
        self.base = os.path.commonpath(dirs) if dirs and len(dirs) == len(given) else ""

    def __call__(self, source: str | None) -> str:
        if source is None:
            return ""
        return os.path.relpath(source, self.base) if self.base and os.path.isabs(source) else source


def run_facts(path: str) -> dict[str, Any]:
    """A run's policy, agents… from the summary.json beside its exchange log (docs/exchange.md),
    for the inputs table; empty for any other log."""
    from .rundir import run_summary

    data = run_summary(path)
    return {k: data[k] for k in RUN_FACTS if k in data}


def _e(value: object) -> str:
    """Escaped text of any value from a log (None as an empty cell)."""
    return "" if value is None else html.escape(str(value), quote=True)


def _sev(s: Severity | None) -> str:
    return f'<span class="sev {s.value}">{s.value}</span>' if s is not None else '<span class="sev none">ok</span>'


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "", tid: str = "") -> str:
    """A table of already-escaped cells."""
    attrs = (f' id="{tid}"' if tid else "") + (f' class="{cls}"' if cls else "")
    h = "".join(f"<th>{c}</th>" for c in head)
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{attrs}><thead><tr>{h}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _link(p: Page, names: Names, where: bool = False) -> str:
    """A link to an enactment's page (`where`: with its input, small, after it)."""
    link = f'<a href="#{p.anchor}">{_e(p.label(names))}</a>'
    if where and p.enactment is not None:
        link += f' <small class="where">{_e(names(p.source))}</small>'
    return link


def _counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    c = Counter(f.severity for f in findings)
    return {s: c.get(s, 0) for s in SEVERITIES}


def _summary(results: Sequence[AuditResult], all_pages: list[Page], runs: dict[str, dict[str, Any]],
             names: Names) -> str:
    findings = [f for r in results for f in r.findings]
    c = _counts(findings)
    complete = sum(r.complete for r in results)
    incomplete = sum(r.incomplete for r in results)
    totals = _table(
        ["inputs", "events", "records", "enactments", "complete", "incomplete", "errors", "warnings", "notes"],
        [[str(sum(len(r.sources) for r in results)), str(sum(r.events for r in results)),
          str(sum(r.records for r in results)), str(complete + incomplete), str(complete), str(incomplete),
          str(c[Severity.ERROR]), str(c[Severity.WARNING]), str(c[Severity.INFO])]],
        tid="summary-table")
    per_source: dict[str, list[Page]] = defaultdict(list)
    for p in all_pages:
        if p.source is not None:
            per_source[p.source].append(p)
    rows = []
    for r in results:
        for src in r.sources:
            ps = [p for p in per_source.get(src, []) if p.enactment is not None]
            sc = _counts(f for f in r.findings if f.source == src)
            run_text = ", ".join(f"{_e(k)} {_e(v)}" for k, v in runs.get(src, {}).items())
            rows.append([_e(names(src)), _e(r.formats.get(src, "")), run_text, str(len(ps)),
                         str(sum(1 for p in ps if p.status == "complete")),
                         str(sc[Severity.ERROR]), str(sc[Severity.WARNING]), str(sc[Severity.INFO])])
    inputs = _table(["input", "format", "run", "enactments", "complete", "errors", "warnings", "notes"], rows,
                    tid="inputs-table")
    protocols = sorted({p for r in results for p in r.protocols})
    base = f" (paths below are relative to {_e(names.base)})" if names.base else ""
    return (f'<section id="summary"><h2>Summary</h2>{totals}'
            f'<p class="note">Protocols: {_e(", ".join(protocols)) or "none"}.</p>'
            f'<h3>Inputs{base}</h3>{inputs}</section>')


def _taxonomy(all_pages: list[Page], names: Names, frames: Frames | None) -> str:
    rows = []
    for m in MODES:
        fs = [f for p in all_pages for f in p.findings if mode_of(f.code) == m.id]
        hit = [p for p in all_pages if any(mode_of(f.code) == m.id for f in p.findings)]
        c = _counts(fs)
        codes = Counter(f.code for f in fs)
        code_cells = ", ".join(f"<code>{_e(k)}</code>&nbsp;×{v}" for k, v in sorted(codes.items()))
        examples = ", ".join(_link(p, names, where=True) for p in hit[:EXAMPLES]) + (
            f' <span class="more">and {len(hit) - EXAMPLES} more</span>' if len(hit) > EXAMPLES else "")
        rows.append([f'<span title="{_e(m.description)}">{_e(m.title)}</span>', str(len(fs)),
                     str(c[Severity.ERROR]), str(c[Severity.WARNING]), str(c[Severity.INFO]), str(len(hit)),
                     code_cells, examples])
    table = _table(["failure mode", "findings", "errors", "warnings", "notes", "enactments", "codes",
                    "where (links)"], rows, tid="taxonomy-table")
    return ('<section id="taxonomy"><h2>Failure modes</h2>'
            "<p class=\"note\">Each finding code belongs to one failure mode (docs/analysis.md); "
            f"every mode is listed, also those with no finding.</p>{table}{_breakdown(frames)}</section>")


#: Columns of the findings frame the report breaks failure modes down by (when the logs say).
BREAKDOWNS = (("policy", "policy"), ("agent_kind", "agent kind"), ("model", "model"))


def _breakdown(frames: Frames | None) -> str:
    """Failure modes by the exchange's policy, the kind of agent and the model, from the
    analysis frames (columns only for values the logs name)."""
    if frames is None or frames.findings.empty:
        return ""
    heads: list[str] = []
    cols: list[list[int]] = []
    for column, label in BREAKDOWNS:
        table = frames.modes(by=column)
        for value in table.columns:
            if str(value) == "n/a" or int(table[value].sum()) == 0:
                continue
            heads.append(f'{_e(value)}<br><small class="where">{_e(label)}</small>')
            cols.append([int(table.loc[m.id, value]) if m.id in table.index else 0 for m in MODES])
    if not heads:
        return ""
    rows = [[_e(m.title), *(str(c[i]) for c in cols)] for i, m in enumerate(MODES)]
    return ("<h3>By policy, agent kind and model</h3>"
            '<p class="note">Findings per failure mode where the logs tell the policy (exchange runs), '
            "the kind of agent (llm, scripted, adversarial) or the model.</p>"
            + _table(["failure mode", *heads], rows, tid="breakdown-table"))


def _enactment_table(all_pages: list[Page], names: Names) -> str:
    rows = []
    for p in all_pages:
        c = _counts(p.findings)
        rows.append([_link(p, names), _e(p.run), _e(names(p.source)),
                     f'<span class="st {_e(p.status)}">{_e(p.status)}</span>',
                     str(p.events), str(len(p.findings)), _sev(p.worst()),
                     _e(", ".join(p.modes())), f"{c[Severity.ERROR]}/{c[Severity.WARNING]}/{c[Severity.INFO]}"])
    table = _table(["enactment", "run", "input", "status", "events", "findings", "worst", "failure modes",
                    "errors/warnings/notes"], rows, tid="enactments-table")
    return f'<section id="enactments"><h2>Enactments</h2>{table}</section>'


def _img(f: Figure, fid: str) -> str:
    """A figure with its PNG inline (a data: URI) and its caption."""
    data = base64.b64encode(f.png).decode("ascii")
    return (f'<figure id="{fid}">' if fid else "<figure>") + (
            f'<img src="data:image/png;base64,{data}" alt="{_e(f.title)}">'
            f"<figcaption><b>{_e(f.title)}</b>{(' — ' + _e(f.caption)) if f.caption else ''}</figcaption></figure>")


def _figures(figs: Sequence[Figure]) -> str:
    items = [_img(f, f"figure-{i}") for i, f in enumerate(figs, 1)]
    body = "\n".join(items) if items else '<p class="note">No figures (nothing to plot).</p>'
    return f'<section id="figures"><h2>Figures</h2>{body}</section>'


def _facts(frames: Frames | None) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(file, run id, enactment) -> what the enactments frame adds: agents, policy, model, duration."""
    if frames is None or frames.enactments.empty:
        return {}
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in frames.enactments.to_dict("records"):
        facts = {k: row[k] for k in ("agents", "policy", "model", "duration") if _present(row.get(k))}
        out[(str(row["file"]), str(row["run_id"]), str(row["enactment"]))] = facts
    return out


def _present(v: Any) -> bool:
    return v is not None and v == v and str(v) not in ("", "<NA>", "nan")  # v == v: not NaN


def _where(f: Finding, p: Page, names: Names) -> str:
    """A finding's place: its line when it is in the page's input, else file:line."""
    if f.source == p.source:
        return f"line {f.line}" if f.line else "end of log"
    return _e(names(f.source)) + (f":{f.line}" if f.line else "")


def _page(p: Page, names: Names, extra: dict[str, Any] | None = None, diagram: Figure | None = None) -> str:
    lines = ""
    if p.first_line is not None:
        lines = f"lines {p.first_line}–{p.last_line}" if p.last_line not in (None, p.first_line) else \
            f"line {p.first_line}"
    facts = [("status", f'<span class="st {_e(p.status)}">{_e(p.status)}</span>'), ("run", _e(p.run)),
             ("input", _e(names(p.source)) + (f" ({lines})" if lines else "")), ("events", str(p.events))]
    if p.enactment is None:  # no enactment: no status, no events of its own
        facts = facts[1:3]
    if p.missing:
        facts.append(("unbound at the end", _e(", ".join(p.missing))))
    for k, v in (extra or {}).items():
        facts.append((k, _e(f"{v:.3f} s" if k == "duration" else str(v).replace(",", ", "))))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    rows = [[_where(f, p, names), _sev(f.severity),
             f"<code>{_e(f.code)}</code>", _e(mode_of(f.code)), _e(f.message),
             _e(" / ".join(x for x in (f.role, f.agent) if x)), _e(f.text), _e(f.expected)]
            for f in p.findings]
    body = (_table(["where", "severity", "code", "failure mode", "message", "role / agent", "finding",
                    "expected"], rows, cls="findings")
            if rows else '<p class="clean">No findings: this enactment followed the protocol.</p>')
    title = ("Enactment " + _e(p.label(names)) if p.enactment is not None else
             _e(p.label(names)).capitalize() + ": records and decisions of no enactment")
    if diagram is not None:
        body += _img(diagram, "")
    return (f'<section class="page" id="{p.anchor}"><p class="back"><a href="#overview">← overview</a></p>'
            f"<h2>{title}</h2><dl>{dl}</dl>{body}</section>")


CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d232b;
       background: #f6f7f9; }
header { background: #1f3a5f; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; opacity: .85; }
main { padding: 8px 24px 40px; max-width: 1400px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 4px 16px 14px; margin: 14px 0; }
h2 { font-size: 17px; margin: 12px 0 8px; } h3 { font-size: 15px; margin: 14px 0 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #e6e8eb; padding: 4px 8px; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
code { white-space: nowrap; }
.sev, .st { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; white-space: nowrap; }
.sev.error { background: #fde2e1; color: #9b1c1c; } .sev.warning { background: #fff1cc; color: #7a5200; }
.sev.info { background: #e3efff; color: #1f4e8c; } .sev.none { background: #e3f6e8; color: #1c6b36; }
.st.complete { background: #e3f6e8; color: #1c6b36; } .st.stalled { background: #fff1cc; color: #7a5200; }
.st.deadlock { background: #fde2e1; color: #9b1c1c; }
.note, .more, .where { color: #5b6573; } .clean { color: #1c6b36; }
figure { display: inline-block; margin: 8px 16px 8px 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #e6e8eb; }
figcaption { font-size: 13px; color: #3b4450; max-width: 820px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
dt { color: #5b6573; } dd { margin: 0; }
a { color: #1f5fa8; }
.page { display: none; }
.page:target { display: block; }
body:has(.page:target) #overview { display: none; }
"""


def render(results: AuditResult | Sequence[AuditResult], *, title: str = "protoverify report",
           subtitle: str = "", figures: Sequence[Figure] | None = None, sequences: int = SEQUENCES,
           runs: dict[str, dict[str, Any]] | None = None,
           spec: SpecSource | Sequence[SpecSource] | None = None) -> str:
    """The report page of one or several audits (several: e.g. logs audited against
    different specs; audit with `record_enactments=True` so complete enactments get a
    page too), as HTML text. `figures`: the overview's figures (default: `default_figures`);
    `sequences`: how many enactments with findings (the worst first) get a sequence
    diagram on their page. `runs`: facts shown per input (`run_facts`). `spec`: the specs
    audited against (paths or parsed), for the senders and recipients of logs that do not
    name them (Ahoy, adapter captures), drawn in the sequence diagrams."""
    from ..auditor.result import AuditResult

    rs: list[AuditResult] = [results] if isinstance(results, AuditResult) else list(results)
    all_pages = pages(rs)
    frames = analysis_frames(rs, spec)
    extra = _facts(frames)
    figs = default_figures(all_pages, frames) if figures is None else figures
    diagrams = sequence_figures(all_pages, frames, sequences) if sequences else {}
    names = Names([src for r in rs for src in r.sources])
    overview = (_summary(rs, all_pages, runs or {}, names) + _taxonomy(all_pages, names, frames) + _figures(figs)
                + _enactment_table(all_pages, names))
    body = "\n".join(_page(p, names, extra.get((str(p.source), str(p.run), str(p.enactment))),
                           diagrams.get(p.anchor)) for p in all_pages)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>"
            f"<header><h1>{_e(title)}</h1><p>{_e(subtitle)}</p></header>\n<main>"
            f'<div id="overview">{overview}</div>\n{body}\n</main></body></html>\n')


def analysis_frames(results: Sequence[AuditResult],
                    spec: SpecSource | Sequence[SpecSource] | None = None) -> Frames | None:
    """The analysis frames of the audits (protoverify.analysis.frames), re-reading the logs
    for agents, times and decisions (`spec`: the senders and recipients of logs that do not
    name them); None when there is no finding and no enactment."""
    from ..auditor.result import AuditResult
    from .frames import from_result

    total = AuditResult()
    for r in results:
        total.add(r)
    if not total.findings and not total.statuses:
        return None
    return from_result(total, spec=spec)


def _png(fig: Any) -> bytes:
    """The figure as PNG bytes (figures are drawn on their own Agg canvas, outside pyplot:
    nothing to close, and the caller's matplotlib backend is left as it is)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _has(frame: Any, column: str) -> bool:
    """Does a frame's column hold some value (not only NA)?"""
    return column in frame and bool(frame[column].notna().any())


def default_figures(all_pages: list[Page], frames: Frames | None = None) -> list[Figure]:
    """The overview's figures: findings by failure mode and severity; failure modes by policy,
    agent kind or agent (protoverify.analysis.plots.modes_by); completion over time by policy
    (exchange runs); LLM decision and delivery latency (logs with decisions); enactment
    outcomes per input."""
    figs = [_modes_by_severity(all_pages)]
    if frames is not None:
        figs.extend(_frame_figures(frames))
    outcomes = _outcomes(all_pages)
    if outcomes is not None:
        figs.append(outcomes)
    return figs


def _modes_by_severity(all_pages: list[Page]) -> Figure:
    from . import plots

    return Figure("Findings by failure mode", _png(plots._plain(_draw_modes_by_severity)(all_pages)),
                  "stacked by severity")


def _draw_modes_by_severity(all_pages: list[Page]) -> MplFigure:
    from . import plots

    findings = [f for p in all_pages for f in p.findings]
    fig, ax = plots._figure(7.5, 4.2)
    titles = [m.title for m in MODES][::-1]
    left = [0] * len(titles)
    colours = {Severity.ERROR: "#d64541", Severity.WARNING: "#e8a317", Severity.INFO: "#4a7fc1"}
    for s in SEVERITIES:
        vals = [sum(1 for f in findings if f.severity is s and mode_of(f.code) == m.id) for m in MODES][::-1]
        ax.barh(titles, vals, left=left, color=colours[s], label=s.value)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_xlabel("findings")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def _frame_figures(frames: Frames) -> list[Figure]:
    from . import plots

    figs: list[Figure] = []
    fi, en, de = frames.findings, frames.enactments, frames.decisions
    if not fi.empty:
        by = next((c for c in ("policy", "agent_kind") if _has(fi, c)), "agent")
        figs.append(Figure(f"Failure modes by {by.replace('_', ' ')}", _png(plots.modes_by(fi, by=by)),
                           "findings per failure mode and group (n/a: the logs do not say)"))
        if by == "policy" and _has(fi, "agent_kind"):
            figs.append(Figure("Failure modes by agent kind", _png(plots.modes_by(fi, by="agent_kind")),
                               "llm: wrote decision records; adversarial: misbehaved on purpose"))
    if _has(en, "policy") and _has(en, "start"):
        figs.append(Figure("Completion over time by policy", _png(plots.completion_over_time(en, by="policy")),
                           "share of each policy's enactments complete as the runs go on (exchange runs)"))
    if _has(de, "latency_s"):
        by = "model" if _has(de, "model") else "agent_kind"
        # delivery grouped by policy (few groups) when the logs are exchange runs, else by run
        events_by = "policy" if _has(frames.events, "policy") else "run"
        figs.append(Figure("Latency", _png(plots.latency(de, frames.events, by=by, events_by=events_by)),
                           "LLM decision latency, and message delivery latency from send to receipt"))
    return figs


def _outcomes(all_pages: list[Page]) -> Figure | None:
    from . import plots

    sources = sorted({p.source for p in all_pages if p.enactment is not None and p.source})
    if not sources:
        return None
    return Figure("Enactment outcomes per input", _png(plots._plain(_draw_outcomes)(all_pages, sources)),
                  "complete, stalled or deadlocked at the end of the log")


def _draw_outcomes(all_pages: list[Page], sources: list[str]) -> MplFigure:
    from . import plots

    names = Names(sources)
    fig, ax = plots._figure(7.5, max(2.2, 0.32 * len(sources) + 1.2))
    labels = [n if len(n) <= 48 else "…" + n[-47:] for n in map(names, sources)][::-1]
    left = [0] * len(sources)
    for status, colour in (("complete", "#3a9d5d"), ("stalled", "#e8a317"), ("deadlock", "#d64541")):
        vals = [sum(1 for p in all_pages if p.source == s and p.status == status) for s in sources][::-1]
        ax.barh(labels, vals, left=left, color=colour, label=status)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_xlabel("enactments")
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def _of_run(frame: Any, run: str | None) -> Any:
    """The rows of a frame whose `run_id` is `run` (NA for None)."""
    sel = frame["run_id"].isna() if run is None else (frame["run_id"] == run).fillna(False)
    return frame[sel.astype(bool)].reset_index(drop=True)


def sequence_figures(all_pages: list[Page], frames: Frames | None, limit: int = SEQUENCES) -> dict[str, Figure]:
    """Anchor -> the sequence diagram of that enactment (protoverify.analysis.plots.sequence),
    for at most `limit` enactments with findings, the worst first (errors, then the most
    findings), so the page stays small."""
    if frames is None or limit <= 0:
        return {}
    from . import plots

    ranked = sorted((p for p in all_pages if p.enactment is not None and p.findings and p.source),
                    key=lambda p: (SEVERITIES.index(p.worst() or Severity.INFO), -len(p.findings)))
    out: dict[str, Figure] = {}
    for p in ranked:
        if len(out) >= limit:
            break
        try:
            events, found = frames.enactment(str(p.enactment), file=p.source)
        except (KeyError, ValueError):  # not in the frames, or its key names two enactments there
            continue
        # the same key may name enactments of several runs in one log: keep this one's run
        events, found = _of_run(events, p.run), _of_run(found, p.run)
        if events.empty:
            continue
        out[p.anchor] = Figure(f"Sequence of enactment {p.enactment}", _png(plots.sequence(events, found)),
                               "messages in log order; findings circled at their line")
    return out
