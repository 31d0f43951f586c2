# Accélérateur — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck unit clean assets screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create the virtual environment with every dependency.

run: $(STAMP) ## Migrate, load catalogue and demo data, serve API + Prefect server + relay.
	$(BIN)/accelerator demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Two pytest processes (pytest-xdist), a test file each at a time: the suite waits on
# PostgreSQL, Prefect and child processes as much as it computes. PYTEST_WORKERS=0: one.
PYTEST_WORKERS ?= 2

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

test: lint typecheck unit ## Lint, type-check and run the whole suite on SQLite and PostgreSQL.

# The design system's files are committed under api/static/ (a fresh clone needs no npm).
# To update them: change the versions in package.json, then `make assets` (the licence of the
# DSFR is accepted in .dsfr.yml) and commit what changed.
assets: $(STAMP) ## Copy the DSFR's files from the npm packages into api/static/.
	npm ci --no-audit --no-fund
	$(BIN)/python -m api.pages.assets

screenshots: $(STAMP) ## Regenerate docs/screenshots/ with Debian's Chromium (apt-get install chromium).
	$(BIN)/python -m tests.pages.screenshots
	$(BIN)/python -m tests.reports.screenshot

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
