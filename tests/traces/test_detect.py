"""Format detection by content, including files that are not logs."""
from __future__ import annotations

from pathlib import Path

import pytest

from protoverify.traces import FormatError, detect_format
from tests.helpers.traces import TRACES


@pytest.mark.parametrize("name,fmt", [("native_good.jsonl", "native"), ("native_bad.jsonl", "native"),
                                      ("envelope_mixed.jsonl", "envelope"), ("adapter_mixed.jsonl", "adapter"),
                                      ("ahoy_small.log", "ahoy")])
def test_small_inputs(name: str, fmt: str) -> None:
    assert detect_format(str(TRACES / name)) == fmt


def test_first_line_corrupt_uses_next(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_text('{"kind": "se\n{"kind": "send", "message": "m"}\n')
    assert detect_format(str(p)) == "native"


@pytest.mark.parametrize("text,needle", [
    ("", "empty"), ("\n\n  \n", "empty"),
    ('{"foo": 1}\n', "keys foo"),
    ("Purchase {\n roles A, B\n}\n", "not an Ahoy log"),
    ('{\n  "demo_summary": {},\n  "protocol_metrics": []\n}\n', "not a log"),
    ('{"t": 1, "from_role": "A", "to_roles": [], "message": "P/m", "payload": {}}\n', "normalized adapter trace"),
])
def test_not_a_log(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "x"
    p.write_text(text)
    with pytest.raises(FormatError, match=needle):
        detect_format(str(p))


def test_real_corpus_formats(corpus: Path) -> None:
    assert detect_format(str(corpus / "bspl-adapter" / "wire.jsonl")) == "adapter"
    assert detect_format(str(corpus / "ahoy/demo/demo1/results/demo1_20260130_234930.log")) == "ahoy"
    assert detect_format(str(corpus / "ahoy/demo/demo2/demo3_extracted_v3.json")) == "ahoy-json"
    assert detect_format(str(corpus / "ahoy/demo/demo4/results/demo4_analysis_20260212_204719.json")) == "ahoy-json"
    for summary in ["ahoy/demo/demo1/results/tmpaxfapv6o_analysis.json", "ahoy/demo/demo3/results/tmpqhbfevew.json",
                    "ahoy/demo/demo4/results/demo4_events_20260212_204719.json", "ahoy/MANIFEST.md",
                    "ahoy/demo/results/demo3_concurrent_multiprotocol_summary.txt"]:
        with pytest.raises(FormatError):
            detect_format(str(corpus / summary))
