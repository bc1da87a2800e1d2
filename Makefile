# Two commands do all the set-up: `make demo` and `make test`.
# Both create the project's own virtual environment in .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: demo demo-town test lint format bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "lvbalance needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,lint]"
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/lvbalance demo -o $(OUT) --overwrite

# the whole town of Schutterwald (13 transformer areas + 1 listed failure) on a local Dask cluster;
# exit code 2 because one area of the net is not radial. BATCH_OPTS e.g. "--workers 2 --no-evaluate"
BATCH_OPTS ?=
demo-town: $(VENV)/.installed
	$(BIN)/python scripts/demo_town.py $(OUT)-town $(BATCH_OPTS)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

# ruff (lint and format check) and mypy (types); settings in pyproject.toml
lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix src tests benchmarks scripts
	$(BIN)/ruff format src tests benchmarks scripts

bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(OUT) $(OUT)-town .pytest_cache
