"""The figures draw what the frames hold (checked on the figure objects), and save as PNG."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from protoverify.analysis import Frames, load, plots
from protoverify.analysis.taxonomy import MODES
from tests.helpers.paths import REPO

CNET = REPO / "specs" / "contract-net.bspl"


@pytest.fixture(scope="module")
def frames(runs: Path) -> Frames:
    return load(CNET, runs)


def _png(fig: object, path: Path) -> None:
    fig.savefig(path)  # type: ignore[attr-defined]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_modes_by_writes_the_counts(frames: Frames, tmp_path: Path) -> None:
    fig = plots.modes_by(frames.findings, "policy")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [m.title for m in MODES]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["low", "high"]
    written = sum(int(t.get_text()) for t in ax.texts if t.get_text())
    assert written == int(frames.findings["policy"].notna().sum())
    _png(fig, tmp_path / "modes.png")
    share = plots.modes_by(frames.findings, "agent_kind", share=True)
    cols = share.axes[0].get_xticklabels()
    assert {t.get_text() for t in cols} >= {"llm", "adversarial"}


def test_completion_lines_end_at_the_completion_rate(frames: Frames, tmp_path: Path) -> None:
    fig = plots.completion_over_time(frames.enactments, by="run")
    lines = {ln.get_label().split(" ")[0]: ln for ln in fig.axes[0].get_lines()}
    en = frames.enactments
    for run, ln in lines.items():
        rate = en.loc[en["run"] == run, "complete"].mean() * 100
        assert ln.get_ydata()[-1] == pytest.approx(rate)
        assert np.all(np.diff(ln.get_ydata()) >= 0)
    assert set(lines) == {"low", "high", "scripted"}
    _png(fig, tmp_path / "completion.png")


def test_latency_panels(frames: Frames, tmp_path: Path) -> None:
    fig = plots.latency(frames.decisions, frames.events, by="run", events_by="policy")
    left, right = fig.axes
    labels = [t.get_text() for t in left.get_xticklabels()]
    assert labels == [f"{r}\n(n={int((frames.decisions['run'] == r).sum())})" for r in ("high", "low")]
    d = plots.delivery_latency(frames.events)
    assert (d["latency_s"] >= 0).all() and len(d) > 0
    assert sum(int(t.get_text().split("n=")[1].rstrip(")")) for t in right.get_xticklabels()) == len(d)
    _png(fig, tmp_path / "latency.png")


def test_delivery_latency_matches_within_a_run() -> None:
    """Two runs of one log reuse message id m1: each receipt is matched to its own run's send."""
    from protoverify.analysis.frames import typed

    def ev(line: int, run: str | None, kind: str, ts: float) -> dict[str, object]:
        return {"file": "x.jsonl", "line": line, "run": run, "run_id": run, "kind": kind, "ts": ts,
                "message": "P/m", "id": "m1", "policy": None}

    rows = [ev(1, "r1", "send", 0.0), ev(2, "r1", "receive", 1.0), ev(3, "r2", "send", 10.0),
            ev(4, "r2", "receive", 10.5), ev(5, None, "send", 20.0), ev(6, None, "receive", 20.25)]
    d = plots.delivery_latency(typed(rows, "events"))
    assert list(d["latency_s"]) == [1.0, 0.5, 0.25]


def test_sequence_marks_every_finding(frames: Frames, tmp_path: Path) -> None:
    low = frames.enactments[frames.enactments["run"] == "low"]
    label = low.sort_values("findings").iloc[-1]["enactment"]
    events, findings = frames.enactment(label, file=str(low.iloc[0]["file"]))
    fig = plots.sequence(events, findings)
    texts = [t.get_text() for t in fig.axes[0].texts]
    marked = [t.split(" ")[0] for t in texts if t[:3].isalpha() and t[3:6].isdigit()]
    assert sorted(marked) == sorted(findings["code"].astype(str))
    arrows = [c for c in fig.axes[0].texts if getattr(c, "arrow_patch", None) is not None]
    assert len(arrows) == int((events["kind"] != "receive").sum())
    assert label in fig.axes[0].get_title()
    _png(fig, tmp_path / "sequence.png")


def test_log_strings_are_drawn_as_plain_text(tmp_path: Path) -> None:
    """Names with `$` (mathtext markers) and markup from a hostile log draw as they are written."""
    log = tmp_path / "hostile.jsonl"
    log.write_text(
        '{"kind": "send", "message": "rfq", "sender": "Buyer", "recipients": ["Seller"], '
        '"bindings": {"orderID": "$x^{2}$", "item": "<b>"}, "agent": "$\\\\frac{a}{$", "run": "r$1", "ts": 1.0}\n'
        '{"kind": "send", "message": "rfq", "sender": "Buyer", "recipients": ["Seller"], '
        '"bindings": {"orderID": "$x^{2}$", "item": "<i>"}, "agent": "$\\\\frac{a}{$", "run": "r$1", "ts": 2.0}\n')
    fr = load(REPO / "specs" / "purchase.bspl", log)
    assert "DUP002" in set(fr.findings["code"].astype(str))
    fig = plots.modes_by(fr.findings, "agent")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["$\\frac{a}{$", "n/a"]
    _png(fig, tmp_path / "modes.png")
    events, findings = fr.enactment("orderID=$x^{2}$")
    _png(plots.sequence(events, findings), tmp_path / "sequence.png")
    _png(plots.completion_over_time(fr.enactments, by="run"), tmp_path / "completion.png")


def test_empty_frames_draw_a_note(tmp_path: Path) -> None:
    """A clean log (no findings, no decisions) and an empty folder still give figures."""
    (tmp_path / "empty").mkdir()
    for fr in (load(REPO / "specs" / "purchase.bspl", REPO / "examples" / "logs" / "purchase-clean.jsonl"),
               load(REPO / "specs" / "purchase.bspl", tmp_path / "empty")):
        fig = plots.modes_by(fr.findings, "policy")
        assert [t.get_text() for t in fig.axes[0].texts] == ["no findings"]
        _png(fig, tmp_path / "m.png")
        _png(plots.completion_over_time(fr.enactments), tmp_path / "c.png")
        _png(plots.latency(fr.decisions, fr.events), tmp_path / "l.png")
