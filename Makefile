VENV ?= .venv
PYTHON ?= python3
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: venv run test bench openapi clean

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

bench: venv
	$(VENV)/bin/python -m tests.bench.run

openapi: venv
	$(VENV)/bin/inventory-gateway openapi --out openapi/

clean:
	rm -rf build *.egg-info .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
