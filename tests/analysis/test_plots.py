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
