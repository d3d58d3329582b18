"""Prometheus metrics shared by the services (served on ``/metrics``, see ``shared/web.py``).

Every name is ``newsflow_...`` with the unit as suffix (``_seconds``, ``_total``); no label takes
an unbounded value (no article ids, no offsets): ``service`` is ingest/enrich/publish, ``topic``
a configured or routed topic, ``code`` a dead-letter code, ``partition`` a partition number.
``deploy/grafana/newsflow.json`` is built on these names (checked against a running service in
``tests/e2e/test_observability.py``); README, "Operating newsflow", gives the alert thresholds.

The agent loop (``shared/agent.py``) calls :func:`batch_started`, :func:`handled` and
:func:`produced`; the other helpers here are for one place each (Redis client, enrichers,
webhooks, consumer lag).
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import orjson
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .records import InRecord, OutRecord

__all__ = [
    "ARCHIVED",
    "ARCHIVE_BYTES",
    "ARCHIVE_ROWS",
    "BATCH_BLOCKED_SECONDS",
    "BATCH_RECORDS",
    "BATCH_SECONDS",
    "DEAD_LETTERS",
    "END_TO_END_SECONDS",
    "ENRICHER_ARTICLES",
    "ENRICHER_SECONDS",
    "ENRICH_OVER_BUDGET",
    "HANDLE_SECONDS",
    "INTAKE_BYTES",
    "INTAKE_ENTRIES",
    "INTAKE_HTTP",
    "INTAKE_LAST_ERROR",
    "INTAKE_LAST_SUCCESS",
    "INTAKE_POLLS",
    "INTAKE_RAW_PUSHED",
    "OUTCOMES",
    "RAW_TS_HEADER",
    "RECORDS_IN",
    "RECORDS_OUT",
    "REDIS_ERRORS",
    "REDIS_SECONDS",
    "RETRIES",
    "STATE_BEHIND",
    "STATE_LOST",
    "STATE_REBUILDING",
    "STATE_REBUILD_RECORDS",
    "STATE_REBUILD_SECONDS",
    "WEBHOOK_ATTEMPTS",
    "WEBHOOK_SECONDS",
    "batch_started",
    "enricher_timer",
    "handled",
    "outcome",
    "produced",
    "redis_call",
    "register_consumer_lag",
    "webhook_attempt",
]

RAW_TS_HEADER = "newsflow_raw_ts"
"""Header on every output: the broker timestamp (ms) of the ``news.raw`` record it comes from."""

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_AGE = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_REDIS = (0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5)

RECORDS_IN = Counter("newsflow_records_in_total", "Records consumed", ["service", "topic"])
RECORDS_OUT = Counter("newsflow_records_out_total", "Records produced (broker-acknowledged)", ["service", "topic"])
OUTCOMES = Counter(
    "newsflow_outcomes_total",
    "Produced records by what they are: ingested, version (a correction), duplicate_exact, duplicate_near, "
    "enriched, published, dead_letter",
    ["service", "outcome"],
)
DEAD_LETTERS = Counter("newsflow_dead_letters_total", "Dead letters produced, by error code", ["service", "code"])
RETRIES = Counter("newsflow_retries_total", "Retried operations (dependency failures)", ["service", "what"])
BATCH_RECORDS = Histogram(
    "newsflow_batch_records", "Records per consumed batch", ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
)  # fmt: skip
BATCH_SECONDS = Histogram(
    "newsflow_batch_seconds", "Time to handle and produce one batch (retries included)", ["service"], buckets=_FAST
)
HANDLE_SECONDS = Histogram(
    "newsflow_handle_seconds", "Time of the handler alone on one batch (retries included)", ["service"], buckets=_FAST
)
END_TO_END_SECONDS = Histogram(
    "newsflow_end_to_end_seconds",
    "Age of each produced record when the broker acknowledged it: now minus the raw record's timestamp",
    ["service"],
    buckets=_AGE,
)
REDIS_SECONDS = Histogram(
    "newsflow_redis_seconds", "Redis call latency (a pipeline is one call)", ["command"], buckets=_REDIS
)
REDIS_ERRORS = Counter("newsflow_redis_errors_total", "Redis calls that raised", ["command", "error"])
ENRICHER_SECONDS = Histogram(
    "newsflow_enricher_seconds", "Time of one enricher on one NLP batch", ["enricher"], buckets=_FAST
)
ENRICHER_ARTICLES = Counter("newsflow_enricher_articles_total", "Articles through each enricher", ["enricher"])
WEBHOOK_ATTEMPTS = Counter(
    "newsflow_webhook_attempts_total",
    "Webhook delivery attempts by result: 2xx, 3xx, 4xx, 5xx, timeout, error",
    ["status"],
)
# intake: ``source`` is a configured source id (bounded by the sources an operator adds)
INTAKE_POLLS = Counter(
    "newsflow_intake_polls_total", "Polls of a source by outcome (ok, not_modified, or an error code)",
    ["source", "outcome"],
)  # fmt: skip
INTAKE_HTTP = Counter("newsflow_intake_http_responses_total", "HTTP statuses seen per source", ["source", "status"])
INTAKE_ENTRIES = Counter(
    "newsflow_intake_entries_total", "Entries read per source: seen before, new, or changed (sent again)",
    ["source", "outcome"],
)  # fmt: skip
INTAKE_BYTES = Counter("newsflow_intake_bytes_total", "Bytes fetched per source (feeds, sitemaps, pages)", ["source"])
INTAKE_LAST_SUCCESS = Gauge("newsflow_intake_last_success_timestamp_seconds", "Last successful poll", ["source"])
INTAKE_LAST_ERROR = Gauge("newsflow_intake_last_error_timestamp_seconds", "Last failed poll", ["source"])
INTAKE_RAW_PUSHED = Counter("newsflow_intake_raw_pushed_total", "Raw records accepted by POST /v1/raw", ["key"])
WEBHOOK_SECONDS = Histogram("newsflow_webhook_seconds", "Webhook request time", ["status"], buckets=_FAST)

_CE_OUTCOME = {
    b"io.newsflow.article.enriched": "enriched",
    b"io.newsflow.article.published": "published",
}


def batch_started(service: str, records: list[InRecord]) -> None:
    """A batch was consumed."""
    BATCH_RECORDS.labels(service=service).observe(len(records))
    for topic, count in Tally(r.topic for r in records).items():
        RECORDS_IN.labels(service=service, topic=topic).inc(count)


@contextmanager
def handled(service: str) -> Iterator[None]:
    """Time the handler on one batch."""
    with HANDLE_SECONDS.labels(service=service).time():
        yield


def outcome(out: OutRecord) -> str:
    """What a produced record is, from its CloudEvents headers (and, for a duplicate, its kind)."""
    ce_type = out.headers.get("ce_type", b"")
    if "newsflow_error_code" in out.headers:
        return "dead_letter"
    if ce_type == b"io.newsflow.article.ingested":
        return "ingested" if out.headers.get("ce_id", b"").endswith(b":v1") else "version"
    if ce_type == b"io.newsflow.article.duplicate":
        try:
            kind = orjson.loads(out.value).get("kind")
        except (orjson.JSONDecodeError, AttributeError):
            kind = None
        return "duplicate_near" if kind == "near" else "duplicate_exact"
    return _CE_OUTCOME.get(ce_type, "other")


def produced(service: str, outs: list[OutRecord]) -> None:
    """``outs`` were acknowledged by the broker: count them and observe their end-to-end age."""
    now_ms = time.time() * 1000
    topics: Tally[str] = Tally()
    outcomes: Tally[str] = Tally()
    codes: Tally[str] = Tally()
    age = END_TO_END_SECONDS.labels(service=service)
    for out in outs:
        topics[out.topic] += 1
        kind = outcome(out)
        outcomes[kind] += 1
        if kind == "dead_letter":
            codes[out.headers["newsflow_error_code"].decode("utf-8", "replace")] += 1
        raw_ts = out.headers.get(RAW_TS_HEADER)
        if raw_ts:
            with suppress(ValueError):  # a foreign header value: no age
                age.observe(max(0.0, (now_ms - int(raw_ts)) / 1000))
    for topic, n in topics.items():  # one labels() lookup per topic, not per record
        RECORDS_OUT.labels(service=service, topic=topic).inc(n)
    for kind, n in outcomes.items():
        OUTCOMES.labels(service=service, outcome=kind).inc(n)
    for code, n in codes.items():
        DEAD_LETTERS.labels(service=service, code=code).inc(n)


@contextmanager
def redis_call(command: str) -> Iterator[None]:
    """Time one Redis call (``command``: its name, or ``PIPELINE``); count it as an error if it raises."""
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        REDIS_ERRORS.labels(command=command, error=type(exc).__name__).inc()
        raise
    finally:
        REDIS_SECONDS.labels(command=command).observe(time.perf_counter() - started)


@contextmanager
def enricher_timer(name: str, articles: int) -> Iterator[None]:
    """Time one enricher on one batch of ``articles``."""
    with ENRICHER_SECONDS.labels(enricher=name).time():
        yield
    ENRICHER_ARTICLES.labels(enricher=name).inc(articles)


def webhook_attempt(status: int | str, seconds: float | None = None) -> None:
    """One webhook attempt: an HTTP status code (counted by class, ``2xx``...), or ``timeout`` / ``error`` /
    ``refused`` (the target is not allowed: shared/egress.py)."""
    label = f"{status // 100}xx" if isinstance(status, int) else status
    WEBHOOK_ATTEMPTS.labels(status=label).inc()
    if seconds is not None:
        WEBHOOK_SECONDS.labels(status=label).observe(seconds)


class _ConsumerLag(Collector):
    """``newsflow_consumer_lag``, read at scrape time: per assigned partition, the fetch high-water
    mark minus the next offset this worker will read (right on Apache Kafka and on Tansu, where
    ``end_offsets`` are wrong: see BROKER-NOTES)."""

    def __init__(self, service: str, lags: Callable[[], Iterable[tuple[str, int, int]]]) -> None:
        self.service = service
        self.lags = lags

    def describe(self) -> list[Any]:
        return [self._family()]

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "newsflow_consumer_lag",
            "Records in the partition not yet read by this worker (high-water mark minus position)",
            labels=["service", "topic", "partition"],
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self._family()
        try:
            for topic, partition, lag in self.lags():
                family.add_metric([self.service, topic, str(partition)], max(0, lag))
        except Exception:  # not started yet, or rebalancing: no sample this scrape
            pass
        yield family


_lag_collectors: dict[str, _ConsumerLag] = {}


def register_consumer_lag(service: str, lags: Callable[[], Iterable[tuple[str, int, int]]]) -> None:
    """Serve ``newsflow_consumer_lag`` for ``service`` from ``lags()`` (topic, partition, lag) per scrape."""
    old = _lag_collectors.pop(service, None)
    if old is not None:
        REGISTRY.unregister(old)
    collector = _ConsumerLag(service, lags)
    REGISTRY.register(collector)
    _lag_collectors[service] = collector


# -- failures and budgets (shared/agent.py, services/enrich/pipeline.py, shared/state.py) --
BATCH_BLOCKED_SECONDS = Gauge(
    "newsflow_batch_blocked_seconds", "How long the current batch has been retrying a failed dependency", ["service"]
)
ENRICH_OVER_BUDGET = Counter(
    "newsflow_enrich_over_budget_total", "Enricher runs abandoned over their time budget or failed on one article",
    ["enricher", "outcome"],
)  # fmt: skip
SPACY_RELOADS = Counter(
    "newsflow_spacy_reloads_total",
    "spaCy pipelines loaded afresh because their vocabulary outgrew its bound",
    ["lang"],
)
STATE_LOST = Counter(
    "newsflow_state_lost_total", "Times this process found its Redis state marker gone (Redis lost its data)",
    ["service"],
)  # fmt: skip
STATE_REBUILDING = Gauge(
    "newsflow_state_rebuilding", "1 while this process waits for or runs a rebuild of a state from the log",
    ["service", "scope"],
)  # fmt: skip
STATE_REBUILD_SECONDS = Gauge(
    "newsflow_state_rebuild_seconds", "How long this process's last rebuild of a state from the log took",
    ["service", "scope"],
)  # fmt: skip
STATE_BEHIND = Counter(
    "newsflow_state_behind_total",
    "Times this process found its Redis state behind the log (writes lost: a failover to a replica that lagged)",
    ["service", "scope"],
)  # fmt: skip
STATE_REBUILD_RECORDS = Counter(
    "newsflow_state_rebuild_records_total", "Log records read by this process to rebuild a state", ["service", "scope"]
)

# -- the archive (services/archive) --
ARCHIVED = Counter("newsflow_archived_total", "Article versions written to the archive (upserts, replays included)")
ARCHIVE_ROWS = Gauge("newsflow_archive_rows", "Rows in the archive's articles table (PostgreSQL's estimate)")
ARCHIVE_BYTES = Gauge("newsflow_archive_bytes", "Size of the archive's articles table with its indexes")
