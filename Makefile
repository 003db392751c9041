# The few entry points that the README, CI and developers all use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp
PYBKT  := benchmarks/.pybkt-venv/bin/python
ARGS   ?=
POSTGRES ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install browser-deps demo serve test test-sqlite lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml  ## everything: the application, PostgreSQL, DKT (torch), Ray, test tools
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(DEMO_STAMP)

# Only what the demo needs (the core and the application), installed by uv, which fetches and
# unpacks in parallel; pip does the same work, slower, where uv cannot be had.
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	( $(BIN)/python -m pip install --quiet --disable-pip-version-check uv \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[app]' ) \
	|| $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[app]'
	touch $(DEMO_STAMP)

$(PYBKT):  ## pyBKT, the knowledge-tracing benchmark's peer, in an environment of its own
	bash benchmarks/kt/setup_pybkt.sh

browser-deps:  ## Chromium (Debian) and axe-core (npm) for the browser tests
	sh tests/web/install_browser_deps.sh

demo: $(DEMO_STAMP)  ## build the demo school and show it
	$(BIN)/learnway demo $(ARGS)

test: $(STAMP) browser-deps $(PYBKT)  ## every test, SQLite and PostgreSQL
	$(BIN)/python -m pytest $(ARGS)

test-sqlite: $(STAMP) browser-deps $(PYBKT)  ## every test that needs no PostgreSQL server
	$(BIN)/python -m pytest -m "not postgres" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(STAMP)  ## every benchmark; each writes its results files in benchmarks/results/
	$(BIN)/python benchmarks/store/run.py
	$(BIN)/python benchmarks/answers/coverage.py
	$(BIN)/python benchmarks/web/heatmap.py
	$(BIN)/learnway bench paths
	$(BIN)/learnway bench evidence
	$(BIN)/learnway bench live --postgres $(POSTGRES)
	$(BIN)/python benchmarks/interop/oneroster.py
	bash benchmarks/kt/run_all.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
