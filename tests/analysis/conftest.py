"""Exchange runs shared by the analysis tests: simulated-LLM agents and one adversarial agent,
under two policy levels (each run takes a fraction of a second: simulated clock)."""
from __future__ import annotations

from pathlib import Path

import pytest

from protoverify.commands.run import main as run_main
from tests.helpers.paths import SPECS

CNET = SPECS / "contract-net.bspl"


def make_run(out: Path, policy: str, seed: int = 0, llm: bool = True) -> Path:
    args = [str(CNET), "--agents", "6", "--duration", "30m", "--policy", policy, "--seed", str(seed),
            "--adversarial", "1", "--faults", "drop=0.02,duplicate=0.02", "--out", str(out)]
    if llm:
        args += ["--role-agent", "Initiator=simulated-llm", "--role-agent", "Participant=simulated-llm"]
    assert run_main(args) == 0
    return out


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """runs/low and runs/high (simulated LLMs), runs/scripted (scripted agents, low policy)."""
    root = tmp_path_factory.mktemp("runs")
    make_run(root / "low", "low")
    make_run(root / "high", "high")
    make_run(root / "scripted", "low", llm=False)
    return root
