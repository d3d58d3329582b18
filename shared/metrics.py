"""Prometheus metrics shared by the services (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "BATCH_BLOCKED_SECONDS",
    "BATCH_SECONDS",
    "DEAD_LETTERS",
    "ENRICH_OVER_BUDGET",
    "RECORDS_IN",
    "RECORDS_OUT",
    "RETRIES",
    "STATE_LOST",
]

RECORDS_IN = Counter("newsflow_records_in_total", "Records consumed", ["service"])
RECORDS_OUT = Counter("newsflow_records_out_total", "Records produced", ["service", "topic"])
RETRIES = Counter("newsflow_retries_total", "Retried operations (dependency failures)", ["service", "what"])
BATCH_SECONDS = Histogram(
    "newsflow_batch_seconds", "Time to handle and produce one batch", ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
BATCH_BLOCKED_SECONDS = Gauge(
    "newsflow_batch_blocked_seconds", "How long the current batch has been retrying a failed dependency", ["service"]
)
DEAD_LETTERS = Counter(
    "newsflow_dead_letters_total", "Records dead-lettered by the batch loop (failures retrying cannot fix)",
    ["service", "code"],
)  # fmt: skip
ENRICH_OVER_BUDGET = Counter(
    "newsflow_enrich_over_budget_total", "Enricher runs abandoned over their time budget or failed on one article",
    ["enricher", "outcome"],
)  # fmt: skip
STATE_LOST = Counter(
    "newsflow_state_lost_total", "Times this process found its Redis state marker gone (Redis lost its data)",
    ["service"],
)  # fmt: skip
