"""The public API: front-door functions beside plain subpackages, a lean import.

Each import-order case runs in a fresh interpreter: the point is what Python's
import system does to the front doors `protoverify.verify` / `protoverify.audit` when a
subpackage module is imported first, later, or by `from` form.
"""
from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import protoverify
from protoverify import api
from tests.helpers.paths import REPO


def run_fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)


FRONT_DOORS = ("import protoverify.api as api\n"
               "assert protoverify.verify is api.verify and protoverify.audit is api.audit\n"
               "spec = protoverify.load('specs/purchase.bspl')\n"
               "r = protoverify.verify('Purchase', spec=spec)\n"
               "assert type(r).__name__ == 'Report' and r.safety.verdict == 'safe'\n"
               "flat = protoverify.flatten(spec, 'Purchase')\n"
               "a = protoverify.audit(flat, [protoverify.simulate(flat, n=3)])\n"
               "assert type(a).__name__ == 'AuditResult' and a.enactments == 3\n")


@pytest.mark.parametrize("first", [
    "import protoverify.prover.solve",
    "import protoverify.auditor.driver",
    "from protoverify.auditor.driver import audit as run_audit",
    "import protoverify.prover.solve, protoverify.auditor.driver, protoverify.monitor.simulate",
    "import protoverify; from protoverify.prover import solve; from protoverify.auditor import driver",
    "import protoverify; import protoverify.prover.explorer; import protoverify.traces.native_fast",
])
def test_front_doors_survive_submodule_imports(first: str) -> None:
    proc = run_fresh(f"{first}\nimport protoverify\n{FRONT_DOORS}")
    assert proc.returncode == 0, proc.stderr


def test_subpackages_stay_importable() -> None:
    code = ("import sys\n"
            "import protoverify.auditor.driver as d\n"
            "import protoverify\n"
            "assert protoverify.auditor.driver is d and callable(protoverify.audit)\n"
            "from protoverify.auditor.driver import audit\n"
            "from protoverify.prover.solve import run\n"
            "from protoverify.auditor import driver\n"
            "import protoverify.prover.solve\n"
            "verify_pkg = sys.modules['protoverify.prover']\n"
            "assert verify_pkg.solve.run is run and driver.audit is audit\n"
            "assert callable(verify_pkg.verify) and verify_pkg.__path__\n")
    proc = run_fresh(code)
    assert proc.returncode == 0, proc.stderr


def test_import_is_lean() -> None:
    code = ("import sys, protoverify\n"
            "print(sorted(m for m in ('networkx', 'z3', 'openai', 'rich') if m in sys.modules))")
    proc = run_fresh(code)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


@pytest.mark.parametrize("fn", [api.verify, api.audit])
def test_front_doors_name_every_option(fn) -> None:
    sig = inspect.signature(fn)
    kinds = {p.kind for p in sig.parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds and inspect.Parameter.VAR_POSITIONAL not in kinds
    assert all(p.annotation is not inspect.Parameter.empty for p in sig.parameters.values())
    assert sig.return_annotation in ("Report", "AuditResult")
    assert inspect.isfunction(getattr(protoverify, fn.__name__))


def test_audit_front_door_passes_every_option(tmp_path) -> None:
    from protoverify.auditor.driver import audit as driver_audit

    assert list(inspect.signature(api.audit).parameters) == list(inspect.signature(driver_audit).parameters)
    seen: list[tuple[str, int]] = []
    spec = protoverify.load(REPO / "specs" / "purchase.bspl")
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join('{"kind": "send", "message": "Purchase/rfq", "sender": "Buyer", '
                             f'"recipients": ["Seller"], "bindings": {{"ID": "{i}", "item": "pen"}}}}'
                             for i in range(3)) + "\n")
    r = api.audit(spec, [str(log)], "Purchase", "native", {"disable": ["REC004"]}, delivery="receive",
                  record_enactments=True, keep_closed=5, progress=lambda p, n: seen.append((p, n)))
    assert r.delivery == "receive" and r.formats == {str(log): "native"} and r.protocols == ["Purchase"]
    assert "REC004" not in r.codes() and "REC005" in r.codes() and seen[-1] == (str(log), 3)


def test_all_is_complete_and_resolvable() -> None:
    for name in protoverify.__all__:
        assert hasattr(protoverify, name), name
    wanted = {"verify", "audit", "load", "validate", "flatten", "Report", "AuditResult", "Finding",
              "Diagnostic", "Event", "Simulator", "BSPLError", "BSPLSyntaxError", "AuditInputError",
              "FormatError", "Severity", "Verdict"}
    assert wanted <= set(protoverify.__all__)


def test_package_declares_its_types() -> None:
    assert (REPO / "protoverify" / "py.typed").is_file()


def test_severities_and_verdicts_are_ordered() -> None:
    S, V = protoverify.Severity, protoverify.Verdict
    assert S.INFO < S.WARNING < S.ERROR and max(S) is S.ERROR and S("warning") is S.WARNING
    assert V.SAFE < V.UNKNOWN < V.UNSAFE and V.UNSAFE.failed and V.NONLIVE.failed
    assert not V.UNKNOWN.failed and not V.SKIPPED.failed
    from protoverify.findings import SEVERITIES
    assert [s.value for s in SEVERITIES] == ["error", "warning", "info"]
    f = protoverify.Finding("REC001", "warning", "text")  # a plain string is coerced
    assert f.severity is S.WARNING and f.to_dict()["severity"] == "warning"
