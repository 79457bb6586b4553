"""pytest hooks and the hypothesis profile only; shared helpers live in tests/helpers/."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# No wall-clock limits in tests: hypothesis's per-example deadline and its "too slow"
# health check both depend on the machine's load (tests that set their own
# suppress_health_check list replace this one, so add too_slow there too).
settings.register_profile("protoverify", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("protoverify")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with `make test-slow` (pytest --run-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
