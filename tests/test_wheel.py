"""The built wheel works on its own: installed into a fresh venv, away from the repo.

An editable install reads everything from the source tree, so it cannot show a
file left out of the wheel (the checker profiles once were). This test copies
the project's build inputs to a temp dir, builds the wheel there with the
setuptools of .venv (no network), installs it with `--no-deps` into a fresh
venv whose dependencies come from .venv's site-packages through a `.pth` line
(the editable install's own `.pth` finder is not run from there), and runs the
installed `protoverify` on files in a temp dir outside the repo.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.paths import REPO, SPECS

pytestmark = pytest.mark.wheel

# Not build inputs: environments, caches, build output, and the tests themselves.
_NOT_INPUTS = shutil.ignore_patterns(
    ".git", ".venv", ".oracle-venv", "build", "dist", "*.egg-info", "__pycache__",
    ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "tests", "out",
)

# An rfq and a quote, then nothing: the enactment stalls (CMP001, a warning by
# default, an error under the shipped `strict` profile).
_STALLED_LOG = "\n".join(json.dumps(r) for r in [
    {"kind": "send", "message": "rfq", "sender": "Buyer", "recipients": ["Seller"],
     "bindings": {"orderID": "o1", "item": "pen"}},
    {"kind": "send", "message": "quote", "sender": "Seller", "recipients": ["Buyer"],
     "bindings": {"orderID": "o1", "item": "pen", "price": 5}},
]) + "\n"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    work: Path  # a directory outside the repo holding the inputs

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        return subprocess.run([str(self.venv / "bin" / "protoverify"), *args], cwd=self.work,
                              capture_output=True, text=True, env=env, timeout=300)


def _run(*cmd: str | Path, cwd: Path | None = None) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(REPO), "the temp dir must lie outside the repo"
    src = base / "src"
    shutil.copytree(REPO, src, ignore=_NOT_INPUTS, symlinks=True)
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", base / "dist", src)
    (wheel,) = (base / "dist").glob("protoverify-*.whl")

    venv = base / "venv"
    _run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", venv)
    _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet",
         "--no-deps", "--no-index", wheel)
    # Dependencies from .venv: a plain path line, so .venv's editable finder stays out.
    purelib = Path(_run(venv / "bin" / "python", "-c",
                        "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (purelib / "_protoverify_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = base / "work"
    work.mkdir()
    for name in ("purchase.bspl", "purchase-unsafe.bspl"):
        shutil.copy(SPECS / name, work / name)
    (work / "run.jsonl").write_text(_STALLED_LOG)
    return Installed(wheel, venv, work)


def test_pyproject_lists_every_package() -> None:
    """The package list in pyproject.toml is explicit: a new subpackage must be added there."""
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "protoverify").rglob("__init__.py")}
    listed = set(conf["packages"])
    assert on_disk - listed == set(), f"add these packages to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert conf["package-dir"]["protoverify.checkers"] == "checkers"


def test_wheel_holds_profiles_grammar_and_license(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    profiles = {p.name for p in (REPO / "checkers").glob("*.json")}
    assert profiles >= {"strict.json", "single-agent.json"}
    assert {f"protoverify/checkers/{p}" for p in profiles} <= names
    assert "protoverify/bspl/bspl.lark" in names
    assert "protoverify/py.typed" in names  # PEP 561: the API is typed for users
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)
    packages = {".".join(Path(n).parent.parts) for n in names if n.endswith("/__init__.py")}
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "protoverify").rglob("__init__.py")}
    assert on_disk <= packages
    assert not {n for n in names if n.split("/")[0] in ("tests", "checkers", "bench", "specs")}


def test_installed_package_is_the_wheel(installed: Installed) -> None:
    out = _run(installed.venv / "bin" / "python", "-c",
               "import protoverify, importlib.resources as r; print(protoverify.__file__); "
               "print(r.files('protoverify.checkers').joinpath('strict.json').is_file())",
               cwd=installed.work)
    where, has_strict = out.split()
    assert Path(where).is_relative_to(installed.venv), where
    assert has_strict == "True"


def test_installed_check(installed: Installed) -> None:
    ok = installed.run("check", "purchase.bspl")
    assert ok.returncode == 0, ok.stderr
    assert "Purchase: well-formed, safe, live" in ok.stdout
    bad = installed.run("check", "purchase-unsafe.bspl")
    assert bad.returncode == 1, bad.stderr
    assert "unsafe" in bad.stdout


def test_installed_audit_with_shipped_strict_profile(installed: Installed) -> None:
    plain = installed.run("audit", "--spec", "purchase.bspl", "--format", "json", "run.jsonl")
    assert plain.returncode == 0, plain.stderr
    assert [(f["code"], f["severity"], f["line"]) for f in json.loads(plain.stdout)["findings"]] \
        == [("CMP001", "warning", 2)]
    strict = installed.run("audit", "--spec", "purchase.bspl", "--checker", "strict", "--format", "json",
                           "run.jsonl")
    assert strict.returncode == 1, strict.stderr
    assert [(f["code"], f["severity"], f["line"]) for f in json.loads(strict.stdout)["findings"]] \
        == [("CMP001", "error", 2)]
    unknown = installed.run("audit", "--spec", "purchase.bspl", "--checker", "nope", "run.jsonl")
    assert unknown.returncode == 2
    assert "strict" in unknown.stderr and "Traceback" not in unknown.stderr
