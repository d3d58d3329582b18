# newsflow: `make run` runs the pipeline on this machine, `make test` passes the tests.
# Both install what is needed first (a .venv beside this file).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml 2>/dev/null | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: install run test test-unit lint bench bench-ingest bench-enrich bench-scaling bench-webhooks browser clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

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

bench: bench-ingest bench-enrich bench-scaling bench-webhooks

bench-ingest: install
	$(PY) -m bench.ingest

bench-enrich: install
	$(PY) -m bench.enrich

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .newsflow

bench-scaling: install
	$(PY) -m bench.scaling

bench-webhooks: install
	$(PY) -m bench.webhooks
