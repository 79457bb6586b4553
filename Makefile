# Two entry points (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ORACLE := .oracle-venv

.PHONY: demo test test-slow lint install oracle browser traces bench clean

$(BIN)/protoverify: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/protoverify

# The reference tool `bspl` (PyPI, needs Python >= 3.12) in its own venv,
# used as the oracle by the differential tests. Skipped with a message when no
# Python >= 3.12 can be found.
oracle:
	@bash scripts/oracle-venv.sh $(ORACLE)

# In CI (CI set, to anything) a missing oracle, corpus or browser fails, never skips: one rule
# for the tests and for `make browser`.
REQUIRE_ALL = PROTOVERIFY_REQUIRE_ALL=$${CI:+1}

# Chromium from Debian's packages for the HTML report's browser test
# (tests/analysis/test_report_browser.py); installed only when missing, quietly.
# Without root (and no apt-get) it says so: the test then skips, or fails in CI.
CHROMIUM := /usr/bin/chromium
browser:
	@$(REQUIRE_ALL) bash scripts/browser.sh $(CHROMIUM)

demo: install
	$(BIN)/protoverify check specs/purchase.bspl; test $$? -le 1

# Lint first (ruff, mypy --strict): CI runs only `make test`, so style and types gate it too.
test: install oracle browser lint
	@$(REQUIRE_ALL) $(BIN)/python -m pytest -q -n 2; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test-slow: install oracle browser
	$(BIN)/python -m pytest -q -m "slow or not slow" --run-slow

# Style and types (configured in pyproject.toml); `make test` runs it before pytest.
lint: install
	@rc=0; $(BIN)/ruff check protoverify tests bench || rc=1; $(BIN)/mypy protoverify || rc=1; exit $$rc

# Regenerate the exchange runs of the curated corpus (traces/runs/; same seeds, same bytes).
traces: install
	$(BIN)/python scripts/make-traces.py

bench: install oracle
	$(BIN)/python -m bench.budgets --budget 5
	$(BIN)/python -m bench.check_bench --repeat 3 --timeout 60 --out docs/benchmarks-check.md

clean:
	rm -rf $(VENV) $(ORACLE) .pytest_cache .hypothesis
