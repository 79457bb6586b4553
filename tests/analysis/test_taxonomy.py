"""The failure-mode taxonomy covers every finding code, once."""
from __future__ import annotations

import pytest

from protoverify.analysis import taxonomy
from protoverify.analysis.taxonomy import MODE_BY_ID, MODE_IDS, MODE_OF, MODES, UnknownCode, codes_of, mode_of
from protoverify.findings import CODES


@pytest.mark.parametrize("code", list(CODES))
def test_every_code_has_one_known_mode(code: str) -> None:
    assert mode_of(code) in MODE_BY_ID
    assert sum(code in codes_of(m) for m in MODE_IDS) == 1


def test_the_map_names_exactly_the_codes() -> None:
    """A code removed from CODES but left here, or a typo, fails too."""
    assert set(MODE_OF) == set(CODES)


def test_every_mode_has_a_code() -> None:
    assert all(codes_of(m.id) for m in MODES)


def test_the_issue_modes_are_there() -> None:
    titles = {m.title for m in MODES}
    assert {"hallucinated message", "invented or wrong value", "acting out of turn", "wrong role",
            "premature or missing completion", "invalid reply", "declined when options existed",
            "repeated choice / loop", "policy rejection", "lost or duplicated delivery"} <= titles


def test_unknown_code_is_a_clear_error() -> None:
    with pytest.raises(UnknownCode, match="XYZ001"):
        mode_of("XYZ001")
    with pytest.raises(KeyError, match="no-such-mode"):
        codes_of("no-such-mode")


def test_table_lists_each_code_once() -> None:
    listed = [c for row in taxonomy.table() for c in row["codes"].split(", ")]
    assert sorted(listed) == sorted(CODES)
    assert [row["mode"] for row in taxonomy.table()] == list(MODE_IDS)


def test_the_report_page_uses_the_taxonomy() -> None:
    """One mapping of codes to modes: the HTML report has no fallback of its own."""
    from protoverify.analysis import html, taxonomy

    assert html.mode_of is taxonomy.mode_of
