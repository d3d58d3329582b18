# newsflow: `make run` runs the pipeline on this machine, `make test` passes the tests.
# Both install what is needed first (a .venv beside this file).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml 2>/dev/null | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: install run test test-unit lint bench bench-ingest bench-enrich bench-scaling bench-quality clean

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

bench: bench-ingest bench-enrich bench-scaling bench-quality

bench-ingest: install
	$(PY) -m bench.ingest

bench-enrich: install
	$(PY) -m bench.enrich

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .newsflow

bench-scaling: install
	$(PY) -m bench.scaling

# entity quality on CoNLL-2003 dev (read from ../shared/data/external, or NEWSFLOW_CONLL_DEV): newsflow vs stock spaCy
bench-quality: install
	$(PY) -m bench.quality
