"""`protoverify report`: the command's exit codes and errors, and the page it writes:
self-contained (nothing to fetch, no script), every log string escaped, one linked
section per enactment. The page in a real browser: test_report_browser.py."""
from __future__ import annotations

import io
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from protoverify.analysis.html import analysis_frames, pages, render
from protoverify.auditor.driver import audit
from protoverify.cli import main
from tests.helpers.paths import SPECS, TRACES

CN = str(SPECS / "contract-net.bspl")
PURCHASE = str(SPECS / "purchase.bspl")
HOSTILE = str(TRACES / "native" / "hostile.jsonl")


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["report", *args], out, err)
    return code, out.getvalue(), err.getvalue()


class Page(HTMLParser):
    """What a page holds: tags with their attributes, text, and the CSS."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.css: list[str] = []
        self._in_style = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.css if self._in_style else self.text).append(data)

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}


ALLOWED = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "main", "div",
           "section", "table", "thead", "tbody", "tr", "th", "td", "a", "span", "code", "small", "b", "figure",
           "img", "figcaption", "dl", "dt", "dd", "br"}


def assert_self_contained(text: str) -> Page:
    """Only the report's own tags; images inline; links inside the page; no event handler,
    no URL in any attribute or in the CSS."""
    page = Page(text)
    assert {t for t, _ in page.tags} <= ALLOWED
    ids = page.ids()
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name, value in attrs.items():
            assert "://" not in (value or ""), (tag, name, value)
        if tag == "img":
            assert (attrs["src"] or "").startswith("data:image/png;base64,")
        if tag == "a":
            href = attrs["href"] or ""
            assert href.startswith("#") and href[1:] in ids, href
    css = "".join(page.css)
    assert "url(" not in css and "@import" not in css
    return page


def test_report_of_runs_is_self_contained(tmp_path: Path):
    out = tmp_path / "r.html"
    code, stdout, err = run(str(TRACES / "runs"), "--spec", CN, "--spec", PURCHASE, "-o", str(out))
    assert code == 1, err  # the simulated-LLM runs have errors
    text = out.read_text(encoding="utf-8")
    assert "://" not in text  # no URL anywhere: nothing could be fetched
    assert "<script" not in text.lower()
    page = assert_self_contained(text)
    assert {"summary-table", "taxonomy-table", "enactments-table", "figure-1", "figure-2"} <= page.ids()
    # each run directory's log is one input; its summary.json gives the run's policy, and is not audited
    inputs = text.split('id="inputs-table"', 1)[1].split("</table>", 1)[0]
    assert inputs.count("<tr>") == 1 + 6 and inputs.count("/exchange.jsonl</td>") == 6
    assert "summary.json" not in text
    assert "policy high" in text and "policy medium" in text
    assert stdout == "" and err.startswith(f"{out}: 47 enactments (37 complete), 23 errors, 47 warnings, 23 notes")


def test_report_of_an_experiment_audits_only_its_logs(tmp_path: Path):
    """An experiment cell is a run directory with more side files (audit.json, drift.json):
    none of them is audited as a log (which would be REC007, exit 2) or named as an input."""
    exp = tmp_path / "exp"
    assert main(["experiment", "--out", str(exp), "--spec", CN, "--agents", "4", "--policies", "low",
                 "--horizons", "short", "--seeds", "1"], io.StringIO(), io.StringIO()) == 0
    cells = [d for d in exp.iterdir() if d.is_dir()]
    assert len(cells) == 1 and {"audit.json", "drift.json"} <= {f.name for f in cells[0].iterdir()}
    out = tmp_path / "r.html"
    code, _, err = run(str(exp), "--spec", CN, "-o", str(out))
    assert code in (0, 1), err
    assert "REC007" not in err and "not audited" not in err
    text = out.read_text(encoding="utf-8")
    inputs = text.split('id="inputs-table"', 1)[1].split("</table>", 1)[0]
    assert inputs.count("<tr>") == 1 + 1 and "exchange.jsonl</td>" in inputs
    for side in ("summary.json", "injections.jsonl", "audit.json", "drift.json", "metrics.csv"):
        assert side not in text


def test_adapter_events_get_their_roles_from_the_spec(tmp_path: Path):
    """An adapter capture names no recipients: the report's frames take them from the spec,
    so its sequence diagrams draw arrows between roles."""
    wire, spec = str(TRACES / "adapter" / "wire.jsonl"), str(TRACES / "specs" / "adapter-purchase.bspl")
    result = audit(spec, [wire], record_enactments=True)
    bare = analysis_frames([result])
    assert bare is not None and (bare.events["recipients"] == "").all()  # the log alone does not say
    frames = analysis_frames([result], spec)
    assert frames is not None and len(frames.events) == len(bare.events) > 0
    assert (frames.events["recipients"] != "").all() and frames.events["sender"].notna().all()
    assert {"Buyer", "Seller"} <= set(frames.events["sender"])
    code, _, err = run(wire, "--spec", spec, "-o", str(tmp_path / "r.html"))
    assert code == 0, err


def test_render_leaves_the_matplotlib_backend_alone():
    """A notebook's backend stays as it was: the figures are drawn on their own Agg canvas,
    without pyplot (run apart, so the backend chosen here is this process's own)."""
    code = ("import sys, matplotlib; matplotlib.use('svg'); "
            "from protoverify.analysis.html import render; from protoverify.auditor.driver import audit; "
            f"page = render(audit({CN!r}, [{HOSTILE!r}], record_enactments=True)); "
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules, page.count('data:image/png'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    backend, pyplot, figures = out.split()
    assert backend.lower() == "svg" and pyplot == "False" and int(figures) >= 2


def test_standard_input_and_singular_counts(tmp_path: Path, monkeypatch):
    """`-` reads the log from standard input, as `audit` does, named <stdin> on the page;
    the counts read as `audit`'s (one enactment, one warning: not "1 warnings")."""
    monkeypatch.setattr("sys.stdin", io.StringIO(Path(HOSTILE).read_text(encoding="utf-8")))
    out = tmp_path / "r.html"
    code, _, err = run("-", "--spec", PURCHASE, "-o", str(out))
    assert code == 1, err
    assert err.startswith(f"{out}: 1 enactment (0 complete), 2 errors, 1 warning, 0 notes"), err
    text = out.read_text(encoding="utf-8")
    assert "&lt;stdin&gt;" in text and "protoverify-stdin" not in text


def test_runs_sharing_run_ids_are_audited_apart(tmp_path: Path):
    """Both adversarial runs have seed 2, so both are `run-2`: audited together they would
    be one run with conflicting enactments; the report audits each run directory alone."""
    low, high = TRACES / "runs" / "cn-adversarial-low", TRACES / "runs" / "cn-adversarial-high"
    apart = [audit(CN, [str(d / "exchange.jsonl")]) for d in (low, high)]
    together = audit(CN, [str(low / "exchange.jsonl"), str(high / "exchange.jsonl")])
    assert sum(len(r) for r in apart) != len(together)
    out = tmp_path / "r.html"
    code, _, err = run(str(low), str(high), "--spec", CN, "-o", str(out))
    assert code == 0
    assert f"{sum(r.enactments for r in apart)} enactments" in err and "0 errors, 20 warnings" in err


def test_hostile_log_is_escaped(tmp_path: Path):
    out = tmp_path / "r.html"
    code, _, err = run(HOSTILE, "--spec", PURCHASE, "-o", str(out))
    assert code == 1, err
    text = out.read_text(encoding="utf-8")
    page = assert_self_contained(text)
    shown = "".join(page.text)
    for s in ("<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "<style>body{display:none}</style>",
              "Seller\"><script>alert(3)</script>", "<iframe src=\"https://example.com/\"></iframe>",
              "javascript:alert(4)"):
        assert s in shown, s  # shown as text…
    assert "<script" not in text and "<iframe" not in text and "<h1>injected" not in text  # …never as markup
    assert text.count("<style>") == 1 and "javascript:" not in "".join(str(a) for _, a in page.tags)


@settings(max_examples=60)
@given(st.text(min_size=1, max_size=40))
def test_any_string_from_a_log_stays_text(value: str):
    """Whatever a log puts in a value, an agent or a run, the page's markup is the report's own."""
    from protoverify.auditor.result import AuditResult
    from protoverify.findings import finding

    r = AuditResult(sources=[value])
    r.findings.append(finding("CAU002", f"sent {value}", source=value, line=3, run=value, enactment=value,
                              message=value, role=value, agent=value, expected=value))
    text = render(r, title=value, subtitle=value, figures=[], sequences=0)
    page = assert_self_contained(text)
    assert value.strip() == "" or value in "".join(page.text)
    assert [t for t, _ in page.tags].count("section") == 1 + 4  # the enactment's page and the overview's four


def test_every_enactment_has_a_linked_page():
    results = [audit(CN, [str(TRACES / "runs" / "cn-faults-medium" / "exchange.jsonl")], record_enactments=True)]
    all_pages = pages(results)
    assert [p.status for p in all_pages] == ["complete", "complete", "complete", "stalled"]
    page = assert_self_contained(render(results, figures=[]))
    for p in all_pages:
        assert p.anchor in page.ids()
        assert ("a", {"href": f"#{p.anchor}"}) in page.tags
    stalled = all_pages[-1]
    assert [f.code for f in stalled.findings] == ["DEL004", "CMP001"] or \
        sorted(f.code for f in stalled.findings) == ["CMP001", "DEL004"]


def test_usage_errors_exit_2(tmp_path: Path):
    out = str(tmp_path / "r.html")
    log = str(TRACES / "native" / "purchase-clean.jsonl")
    assert run(log, "-o", out)[0] == 2 and "Missing option '--spec'" in run(log, "-o", out)[2]
    code, _, err = run("--spec", PURCHASE, "-o", out)
    assert code == 2 and "Missing argument 'LOGS...'" in err
    code, _, err = run(log, "--spec", PURCHASE)
    assert code == 2 and "Missing option '-o'" in err
    code, _, err = run(log, "--spec", str(tmp_path), "-o", out)
    assert code == 2 and "no .bspl file" in err
    code, _, err = run(str(tmp_path), "--spec", PURCHASE, "-o", out)
    assert code == 2 and "no log file" in err
    code, _, err = run(log, "--spec", PURCHASE, "-o", str(tmp_path / "no" / "such" / "r.html"))
    assert code == 2 and "cannot write" in err
    assert not Path(out).exists()
    (tmp_path / "bad.bspl").write_text("Purchase {")
    code, _, err = run(log, "--spec", str(tmp_path / "bad.bspl"), "-o", out)
    assert code == 2 and "Error" in err and "Traceback" not in err


def test_exit_codes_follow_fail_on(tmp_path: Path):
    out = str(tmp_path / "r.html")
    clean = str(TRACES / "native" / "purchase-clean.jsonl")
    assert run(clean, "--spec", PURCHASE, "-o", out)[0] == 0
    assert Path(out).read_text(encoding="utf-8").count('class="page"') == 2
    faults = str(TRACES / "runs" / "cn-faults-medium")  # warnings only
    assert run(faults, "--spec", CN, "-o", out)[0] == 0
    assert run(faults, "--spec", CN, "-o", out, "--fail-on", "warning")[0] == 1
    assert run(HOSTILE, "--spec", PURCHASE, "-o", out, "--fail-on", "never")[0] == 0
    # a log that cannot be read: still a report, with its REC007, and exit 2
    code, _, err = run(clean, str(tmp_path / "missing.jsonl"), "--spec", PURCHASE, "-o", out)
    assert code == 2 and "Error:" in err and "REC007" in Path(out).read_text(encoding="utf-8")


def test_help_documents_exit_codes():
    code, out, _ = run("--help")
    assert code == 0
    assert re.search(r"0\s+no finding at or above --fail-on", out)
    assert re.search(r"1\s+some finding", out) and re.search(r"2\s+usage or input error", out)
