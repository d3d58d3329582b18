# newsflow: `make run` runs the pipeline on this machine, `make test` passes the tests.
# Both install what is needed first (a .venv beside this file).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LOCK   := requirements.lock
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) 2>/dev/null | sha1sum | cut -c1-12)
PIP    := $(PY) -m pip install -q --disable-pip-version-check
PYTEST_ARGS ?=
E2E_ARGS ?=

.PHONY: install lock run test test-unit lint typecheck check bench bench-ingest bench-enrich bench-scaling bench-quality bench-e2e bench-webhooks bench-memory bench-intake browser clean

# Every package at the version in requirements.lock, then newsflow itself (editable, nothing else).
install: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -r $(LOCK)
	$(PIP) --no-deps -e .
	@$(PY) scripts/lock.py --check || echo "warning: $(LOCK) is not current with pyproject.toml: run make lock"
	@rm -f $(VENV)/.installed-*
	@touch $@

# Rewrite requirements.lock from pyproject.toml (keeps the pins it can); run it after changing dependencies.
lock: install
	$(PY) scripts/lock.py
	@$(MAKE) --no-print-directory install

run: install
	$(VENV)/bin/newsflow dev --demo

test: install browser
	@scripts/ensure-redis.sh
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The live-page test drives Debian's chromium; install it when we can (root, apt), else that test skips.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  echo "installing chromium for the browser test (apt-get)" && \
	  (apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1) || \
	  echo "chromium not installed: the browser test will be skipped"; } || true

test-unit: install
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/lock.py --check

# mypy: strict for shared/, evaluation/ and the pure modules, normal for the rest (see [tool.mypy] in pyproject.toml)
typecheck: install
	$(VENV)/bin/mypy

# what .ci/run and the pre-commit hooks run
check: lint typecheck test

bench: bench-ingest bench-enrich bench-scaling bench-quality bench-webhooks bench-memory bench-intake bench-e2e

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

# the whole pipeline against the hand-written baseline: about 15 minutes; `make bench-e2e E2E_ARGS=--quick` is a smoke run
bench-e2e: install
	$(PY) -m bench.e2e $(E2E_ARGS)

bench-webhooks: install
	$(PY) -m bench.webhooks

# intake: 5,000 local feeds polled every 5 minutes by one and two replicas, beside a feedparser loop (about 12 minutes;
# INTAKE_ARGS=--quick: 500 feeds every 30 s, about 3 minutes)
INTAKE_ARGS ?=
bench-intake: install
	$(PY) -m bench.intake $(INTAKE_ARGS)

# enrich's RSS step by step (imports, models, warm-up, batches) and its peak, next to the naive composition's
bench-memory: install
	$(PY) -m bench.memory
