# newsflow: `make run` runs the pipeline on this machine, `make test` passes the tests.
# Both install what is needed first (a .venv beside this file).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml 2>/dev/null | sha1sum | cut -c1-12)
PYTEST_ARGS ?=
E2E_ARGS ?=

.PHONY: install run test test-unit lint bench bench-ingest bench-enrich bench-scaling bench-e2e clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	$(VENV)/bin/newsflow dev --demo

test: install
	@scripts/ensure-redis.sh
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-unit: install
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: bench-ingest bench-enrich bench-scaling

bench-ingest: install
	$(PY) -m bench.ingest

bench-enrich: install
	$(PY) -m bench.enrich

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .newsflow

bench-scaling: install
	$(PY) -m bench.scaling

# the whole pipeline against the hand-written baseline: about 15 minutes; `make bench-e2e E2E_ARGS=--quick` is a smoke run
bench-e2e: install
	$(PY) -m bench.e2e $(E2E_ARGS)
