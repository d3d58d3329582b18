"""Prometheus metrics shared by the services (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = ["BATCH_SECONDS", "RECORDS_IN", "RECORDS_OUT", "RETRIES"]

RECORDS_IN = Counter("newsflow_records_in_total", "Records consumed", ["service"])
RECORDS_OUT = Counter("newsflow_records_out_total", "Records produced", ["service", "topic"])
RETRIES = Counter("newsflow_retries_total", "Retried operations (dependency failures)", ["service", "what"])
BATCH_SECONDS = Histogram(
    "newsflow_batch_seconds", "Time to handle and produce one batch", ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
