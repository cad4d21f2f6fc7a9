VENV ?= .venv
PYTHON ?= python3
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: venv run test test-fast lint bench chaos chaos-ci openapi clean

venv: $(STAMP)

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -e '.[test]'
	touch $(STAMP)

run: venv
	$(VENV)/bin/inventory-gateway serve --demo

test: venv
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# What needs no server: no redis-server, no gateway process (see the markers in tests/conftest.py).
test-fast: venv
	$(VENV)/bin/python -m pytest -m "unit and not slow" $(PYTEST_ARGS)

# What CI checks besides the tests: lint, import order and format (ruff), types (mypy), the tiers' import rules.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: venv
	$(VENV)/bin/python -m benchmarks.run

# Faults and hostile input against the split shape, audited from the run's own records (chaos/run.py).
chaos: venv
	$(VENV)/bin/python -m chaos.run $(CHAOS_ARGS)

# The short profile CI plays (under 4 minutes).
chaos-ci: venv
	$(VENV)/bin/python -m chaos.run --profile ci $(CHAOS_ARGS)

openapi: venv
	$(VENV)/bin/inventory-gateway openapi --out openapi/

clean:
	rm -rf build *.egg-info .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
