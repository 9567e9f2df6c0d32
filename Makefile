# Only Python 3.11+ and make are assumed; everything else comes from the package registry.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The accessibility checker the browser tests inject (npm, pinned in tests/web/package.json).
AXE := tests/web/node_modules/axe-core/axe.min.js

.PHONY: install run test lint bench mutate clean

install: $(INSTALLED) $(AXE)

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "boxoffice needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[dev]'
	@touch $@

$(AXE): tests/web/package.json
	@# Only the browser tests need it: without it `make run` still works, and those tests say why
	@# they cannot check accessibility (a failure with CI=true, a skip otherwise).
	@if ! command -v npm >/dev/null; then \
		echo "npm not found: cannot install axe-core for the browser tests"; \
	elif ! npm install --prefix tests/web --no-package-lock --no-audit --no-fund --silent; then \
		echo "npm install failed: axe-core for the browser tests is missing"; \
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
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache boxoffice.egg-info tests/web/node_modules test-artifacts mutants
