# The two commands of the README: `make pdf` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: pdf test lint bench clean

## Build every document in content/ into out/ (PDF and HTML).
pdf: $(VENV)/.runtime
	$(BIN)/python -m briefing.render.precompile  # the built-in templates, compiled ahead
	$(BIN)/briefing build

## Run the whole test suite (it includes ruff and mypy).
test: $(VENV)/.test
	$(BIN)/python -m briefing.render.precompile
	$(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check briefing tests bench
	$(BIN)/mypy

bench: $(VENV)/.runtime
	$(BIN)/python bench/bench_seed.py

$(VENV)/.runtime: pyproject.toml scripts/system-deps.sh
	scripts/system-deps.sh runtime
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	$(BIN)/python -m compileall -q briefing  # bytecode, even where PYTHONDONTWRITEBYTECODE is set
	touch $@

# The test extra brings the independent validators (page, outloud) and readers (PDFium,
# pdfminer); `npm ci` brings pdf.js, pinned in package-lock.json, into node_modules/.
$(VENV)/.test: $(VENV)/.runtime package.json package-lock.json
	scripts/system-deps.sh test
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf out/*.pdf out/*.html out/packs .pytest_cache .mypy_cache .ruff_cache node_modules
