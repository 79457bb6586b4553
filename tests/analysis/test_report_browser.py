"""The HTML report of the whole corpus, opened in a real headless Chromium (Debian's).

Playwright drives /usr/bin/chromium (`make browser` installs it; Playwright's own browser
download is never used). The page must load from file:// with no console error and no
network request, show the summary, the taxonomy and every figure, and an enactment link
must lead to that enactment's findings. Screenshots go to the test's tmp_path (and to
$PROTOVERIFY_SCREENSHOTS when set, to look at them).
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from protoverify.analysis.html import pages, render, run_facts
from protoverify.analysis.taxonomy import MODES
from protoverify.findings import Severity
from tests.helpers.corpus import audit_corpus
from tests.helpers.paths import missing

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, list[str]], Path]]:
    """A Chromium page on a fresh profile, with what it logged: console errors, page
    errors, dialogs and every request that is not the file itself or an inline image."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} not found (run `make browser`: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -e '.[dev]')")
    tmp = tmp_path_factory.mktemp("browser")
    seen: dict[str, list[str]] = {"console": [], "pageerror": [], "dialog": [], "request": []}
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp / "profile"), executable_path=str(CHROMIUM),
                                                   headless=True, args=ARGS, viewport={"width": 1360, "height": 900})
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.on("console", lambda m: seen["console"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: seen["pageerror"].append(str(e)))
        page.on("dialog", lambda d: (seen["dialog"].append(d.message), d.dismiss()))
        page.on("request", lambda r: seen["request"].append(r.url)
                if not r.url.startswith(("file:", "data:")) else None)
        try:
            yield page, seen, tmp
        finally:
            ctx.close()


def _keep(shot: Path) -> None:
    """Copy a screenshot to $PROTOVERIFY_SCREENSHOTS, where someone can look at it."""
    where = os.environ.get("PROTOVERIFY_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(where) / shot.name)


def test_corpus_report_in_chromium(browser_page: tuple[Any, dict[str, list[str]], Path]) -> None:
    page, seen, tmp = browser_page
    results = audit_corpus()
    all_pages = pages(results)
    report = tmp / "report.html"
    report.write_text(render(results, title="protoverify: the traces/ corpus",
                             subtitle="every log of traces/README.md audited with its specs",
                             runs={s: run_facts(s) for r in results for s in r.sources}), encoding="utf-8")
    page.goto(report.as_uri())
    page.wait_for_load_state("load")

    assert page.locator("#summary-table").is_visible()
    assert page.locator("#inputs-table tbody tr").count() == sum(len(r.sources) for r in results)
    assert page.locator("#taxonomy-table").is_visible()
    assert page.locator("#taxonomy-table tbody tr").count() == len(MODES)
    imgs = page.locator("#figures img")
    assert imgs.count() >= 2
    for i in range(imgs.count()):
        img = imgs.nth(i)
        img.scroll_into_view_if_needed()
        assert img.is_visible()
        assert img.evaluate("e => e.complete && e.naturalWidth > 0 && e.naturalHeight > 0")
    shot = tmp / "report-overview.png"
    page.screenshot(path=str(shot), full_page=True)
    _keep(shot)
    assert shot.stat().st_size > 10_000

    # an enactment with findings: its link in the enactments table leads to its page
    target = next(p for p in all_pages if p.enactment is not None and len(p.findings) >= 3
                  and p.worst() is Severity.ERROR)
    link = page.locator(f'#enactments-table a[href="#{target.anchor}"]')
    assert link.count() == 1
    link.click()
    assert page.evaluate("location.hash") == f"#{target.anchor}"
    section = page.locator(f"section#{target.anchor}")
    assert section.is_visible()
    assert not page.locator("#overview").is_visible()  # the enactment page stands alone
    assert section.locator("table.findings tbody tr").count() == len(target.findings)
    codes = section.locator("table.findings code").all_inner_texts()
    assert codes == [f.code for f in target.findings]
    diagram = section.locator("figure img")  # its sequence diagram (an error enactment: among the first drawn)
    assert diagram.count() == 1
    diagram.scroll_into_view_if_needed()
    assert diagram.evaluate("e => e.complete && e.naturalWidth > 0")
    shot = tmp / "report-enactment.png"
    page.screenshot(path=str(shot), full_page=True)
    _keep(shot)

    section.locator("a[href='#overview']").click()
    assert page.locator("#enactments-table").is_visible() and not section.is_visible()

    # the hostile log's strings are shown as text, and nothing of them ran or loaded
    hostile = next(p for p in all_pages if p.source and p.source.endswith("hostile.jsonl") and p.enactment)
    page.locator(f'#enactments-table a[href="#{hostile.anchor}"]').click()
    assert page.locator(f"section#{hostile.anchor}").get_by_text("<script>alert('x')</script>").count() >= 1
    assert page.evaluate("document.querySelectorAll('script, iframe, object, embed, link').length") == 0
    assert page.evaluate("document.querySelectorAll('style').length") == 1
    assert page.evaluate("[...document.querySelectorAll('*')].filter("
                         "e => [...e.attributes].some(a => a.name.startsWith('on'))).length") == 0
    page.locator(f"section#{hostile.anchor} a[href='#overview']").click()
    assert page.locator("#summary-table").is_visible()

    assert seen == {"console": [], "pageerror": [], "dialog": [], "request": []}
