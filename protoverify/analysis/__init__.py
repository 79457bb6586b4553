"""Failure-mode analysis: audits and runs as pandas DataFrames, the taxonomy, plots.

`load(spec, *paths)` audits logs and exchange run directories and returns `Frames`
(findings, enactments, decisions, events); `from_result` / `from_json` start from an
audit made elsewhere. pandas is imported here (and matplotlib in `.plots`), never by
`import protoverify`. See docs/analysis.md.
"""
from __future__ import annotations

from .columns import FRAMES
from .frames import Frames, concat, find_logs, from_json, from_result, load, mode_counts, taxonomy_frame
from .taxonomy import MODE_BY_ID, MODE_IDS, MODE_OF, MODES, Mode, codes_of, mode_of

__all__ = ["FRAMES", "Frames", "MODES", "MODE_BY_ID", "MODE_IDS", "MODE_OF", "Mode", "codes_of", "concat", "find_logs",
           "from_json", "from_result", "load", "mode_counts", "mode_of", "taxonomy_frame"]
