#!/usr/bin/env python3
"""Entry of the protoverify GitHub Action (action.yml): run `check` and `audit`,
merge their SARIF into one file for code scanning, and exit with the worst code.

Runs anywhere Python and protoverify are installed (GitHub, GitLab, Jenkins, a
laptop): inputs come from the environment, as the Action passes them:

    PV_COMMAND   check | audit | both (default both)
    PV_ARGS      extra arguments for both commands (e.g. `--fail-on warning`)
    PV_CHECK     arguments of check (default: none, i.e. the project's configuration)
    PV_AUDIT     arguments of audit (default: none, i.e. the project's configuration)
    PV_SARIF     path of the merged SARIF (default protoverify.sarif)
    PV_JUNIT     path of a JUnit XML report per command (`NAME` replaced by check/audit), optional
    GITHUB_OUTPUT  where `exit-code` and `sarif` are written (set by GitHub)

Exit code: the worst of the commands' (2 > 1 > 3 > 0), so an input error is never
hidden by a mere finding.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

_WORST = {2: 4, 1: 3, 3: 2, 0: 0}


def _run(cmd: list[str]) -> int:
    print("+ " + shlex.join(cmd), flush=True)
    return subprocess.run(cmd, check=False).returncode


def main() -> int:
    exe = os.environ.get("PV_PROTOVERIFY") or "protoverify"
    which = os.environ.get("PV_COMMAND", "both").strip() or "both"
    if which not in ("check", "audit", "both"):
        print(f"protoverify action: command must be check, audit or both, not {which!r}", file=sys.stderr)
        return 2
    common = shlex.split(os.environ.get("PV_ARGS", ""))
    sarif = Path(os.environ.get("PV_SARIF") or "protoverify.sarif")
    junit = os.environ.get("PV_JUNIT", "")
    sarif.parent.mkdir(parents=True, exist_ok=True)
    codes: list[int] = []
    runs: list[dict[str, Any]] = []
    for name in ("check", "audit"):
        if which not in (name, "both"):
            continue
        own = shlex.split(os.environ.get(f"PV_{name.upper()}", ""))
        part = sarif.with_name(f"{sarif.stem}.{name}.sarif")
        code = _run([exe, name, *own, *common, "--format", "sarif", "-o", str(part)])
        if junit:
            _run([exe, name, *own, *common, "--format", "junit", "-o", junit.replace("NAME", name)])
        codes.append(code)
        if part.is_file():
            runs.extend(json.loads(part.read_text(encoding="utf-8"))["runs"])
            part.unlink()
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": runs}
    sarif.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    worst = max(codes, key=lambda c: _WORST.get(c, 5)) if codes else 2
    results = sum(len(r.get("results", [])) for r in runs)
    print(f"protoverify: {results} result{'s' if results != 1 else ''} in {sarif}; exit code {worst}")
    out = os.environ.get("GITHUB_OUTPUT")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(f"exit-code={worst}\nsarif={sarif}\n")
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
