# One entry point for every routine. `make demo` and `make test` work on a fresh
# machine with python3 (3.11), make and access to the package registries.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= auto
PG_URL ?= postgres://postgres@127.0.0.1:5432
# CI sets PYTEST_FLAGS (for example a JUnit report); empty by default.
PYTEST_FLAGS ?=

.PHONY: help bootstrap demo serve test test-sqlite test-postgres lint format lock licences bench clean

help:
	@echo "make demo           start Alzette with demo data on http://127.0.0.1:8000"
	@echo "make test           run the test suite on SQLite, then on PostgreSQL"
	@echo "make lint           ruff (lint + format check) and import-linter contracts"
	@echo "make format         format the code with ruff"
	@echo "make lock           re-pin dependencies into constraints.txt"
	@echo "make licences       print the licence of every installed dependency"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/alzette compiletranslations --verbosity 0
	@touch $(STAMP)

bootstrap: $(STAMP)

demo: $(STAMP)
	$(BIN)/alzette demo

serve: $(STAMP)
	$(BIN)/alzette serve

test: $(STAMP)
	$(BIN)/alzette compiletranslations --verbosity 0
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

# The whole suite on the embedded default, browser tests included.
test-sqlite: $(STAMP)
	env -u ALZETTE_PERSONAL_DATABASE_URL -u ALZETTE_TERRITORY_DATABASE_URL \
		-u ALZETTE_LEDGER_DATABASE_URL \
		$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_FLAGS)

# The same suite on PostgreSQL (throwaway test_* databases), browsers excepted.
test-postgres: $(STAMP)
	ALZETTE_PERSONAL_DATABASE_URL=$(PG_URL)/alzette_personal \
	ALZETTE_TERRITORY_DATABASE_URL=$(PG_URL)/alzette_territory \
	ALZETTE_LEDGER_DATABASE_URL=$(PG_URL)/alzette_ledger \
		$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser" $(PYTEST_FLAGS)

lint: $(STAMP)
	$(BIN)/ruff check alzette tests bench
	$(BIN)/ruff format --check alzette tests bench
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format alzette tests bench
	$(BIN)/ruff check --fix alzette tests bench

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --upgrade -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable --exclude alzette > constraints.txt
	@echo "constraints.txt updated: review and commit it."

licences: $(STAMP)
	$(BIN)/pip-licenses --from=mixed --order=license --format=markdown --with-urls

bench: $(STAMP)
	$(BIN)/python bench/spatial_locate.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/procedures_export.py
	$(BIN)/python bench/ngsild.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
	find alzette -name '*.mo' -delete
