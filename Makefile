# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo
DEMO_PRESET ?= small
DEMO_PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test lint typecheck check setup clean bench-ingest

$(STAMP): pyproject.toml scripts/setup-system.sh
	bash scripts/setup-system.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## Build a synthetic demo dump, ingest and verify it, screen it for personal data, serve the reading room.
demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/strongroom demo --preset $(DEMO_PRESET) $(DEMO_DIR)/dump
	$(BIN)/strongroom --case $(DEMO_DIR)/case init
	$(BIN)/strongroom --case $(DEMO_DIR)/case keys import $(DEMO_DIR)/dump/dns/*.zone
	$(BIN)/strongroom --case $(DEMO_DIR)/case ingest $(DEMO_DIR)/dump || [ $$? -eq 3 ]
	$(BIN)/strongroom --case $(DEMO_DIR)/case pii scan
	$(BIN)/strongroom --case $(DEMO_DIR)/case serve --port $(DEMO_PORT)

## Every test, lint and type check. Installs what the tests need first.
test: $(STAMP) lint typecheck
	bash scripts/setup-test-system.sh
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts $(wildcard bench)
	$(BIN)/ruff format --check src tests scripts $(wildcard bench)

typecheck: $(STAMP)
	$(BIN)/mypy

bench-ingest: $(STAMP)
	bash bench/ingest/run.sh

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache test-artifacts
