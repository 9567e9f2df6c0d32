# Only Python 3.11+ and make are assumed; everything else comes from the package registry.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The web UI's tools (npm, pinned in package.json): Biome and tsc for make lint, axe-core for
# the browser tests.
NODE_TOOLS := node_modules/.installed
NODE_BIN := node_modules/.bin

.PHONY: install run test lint bench mutate clean

install: $(INSTALLED) $(NODE_TOOLS)

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "boxoffice needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[dev]'
	@touch $@

$(NODE_TOOLS): package.json
	@# Without npm `make run` still works; make lint then says what is missing, and the browser
	@# tests say why they cannot check accessibility (a failure with CI=true, a skip otherwise).
	@if ! command -v npm >/dev/null; then \
		echo "npm not found: cannot install Biome, tsc and axe-core for the web UI"; \
	elif ! npm install --no-package-lock --no-audit --no-fund --silent; then \
		echo "npm install failed: Biome, tsc and axe-core for the web UI are missing"; \
	else \
		touch $@; \
	fi

run: install
	$(BIN)/boxoffice serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(NODE_BIN)/biome ci boxoffice/web
	$(NODE_BIN)/tsc --project jsconfig.json

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m benchmarks.bench

# Mutation testing (mutmut) on SQLite; the files it mutates are listed once, in pyproject.toml
# ([tool.mutmut] only_mutate). MUTANTS narrows a run by mutant name, e.g.
# make mutate MUTANTS='boxoffice.auth.*'. See docs/testing.md.
mutate: install
	rm -rf mutants
	CI= BOXOFFICE_TEST_ENGINES=sqlite $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results | grep -v "not checked" || true

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache boxoffice.egg-info node_modules test-artifacts mutants
