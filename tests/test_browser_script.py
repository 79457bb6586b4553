"""scripts/browser.sh decides whether a missing browser is an error by the rule the tests use
(PROTOVERIFY_REQUIRE_ALL, which make sets from CI as `${CI:+1}`), so `CI=false` is the same
for both: the browser is required."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

SCRIPT = REPO / "scripts" / "browser.sh"


def _give_up(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The script on a missing browser with no apt-get on PATH: it gives up at once."""
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run([bash, str(SCRIPT), str(tmp_path / "no-chromium")], capture_output=True, text=True,
                          env={"PATH": str(tmp_path), **env}, check=False)


@pytest.mark.parametrize("env,required", [
    ({}, False), ({"CI": ""}, False), ({"CI": "true"}, True), ({"CI": "false"}, True), ({"CI": "0"}, True),
    ({"PROTOVERIFY_REQUIRE_ALL": "1"}, True), ({"PROTOVERIFY_REQUIRE_ALL": "0", "CI": "true"}, False),
    ({"PROTOVERIFY_REQUIRE_ALL": "", "CI": "true"}, False)])
def test_missing_browser_fails_where_the_tests_require_it(tmp_path: Path, env: dict[str, str],
                                                         required: bool) -> None:
    done = _give_up(tmp_path, env)
    assert done.returncode == (1 if required else 0), done.stderr
    assert ("required" in done.stderr) is required and ("skipped" in done.stdout) is not required


def test_make_gives_the_script_and_the_tests_one_rule() -> None:
    make = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^REQUIRE_ALL = PROTOVERIFY_REQUIRE_ALL=\$\$\{CI:\+1\}$", make, re.M)
    assert re.search(r"^\t@\$\(REQUIRE_ALL\) bash scripts/browser\.sh", make, re.M)
    assert re.search(r"^\t@\$\(REQUIRE_ALL\) \$\(BIN\)/python -m pytest", make, re.M)
