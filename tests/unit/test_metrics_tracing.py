"""Metrics classification and end-to-end age (shared/metrics.py); tracing off costs nothing (shared/tracing.py)."""

from __future__ import annotations

import subprocess
import sys
import time

from prometheus_client import REGISTRY

from shared import metrics, tracing
from shared.models import DuplicateRecord, Origin
from shared.records import InRecord, OutRecord, dead_letter, lineage, model_record
from shared.settings import Settings

from ..conftest import ROOT


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _raw(offset: int = 0, ts_ms: int | None = None, **headers: str) -> InRecord:
    return InRecord("t.raw", 0, offset, None, b"{}", dict(headers), ts_ms)


def _duplicate(kind: str, parent: InRecord) -> OutRecord:
    dup = DuplicateRecord(
        id="nf_2", duplicate_of="nf_1", kind=kind, reason="minhash", similarity=0.9,  # type: ignore[arg-type]  # kind comes from the parametrised Literal values
        origin=Origin(topic="t.raw", partition=0, offset=1), detected_at=parent.time,
    )  # fmt: skip
    return model_record(
        "t.dup", "nf_2", dup, event_type="article.duplicate", source="s", event_id="dup:1", time=parent.time,
        parent=parent,
    )  # fmt: skip


def _with_ce(ce_type: bytes, ce_id: bytes = b"x") -> OutRecord:
    return OutRecord("t.x", b"k", b"{}", {"ce_type": ce_type, "ce_id": ce_id})


def test_outcomes_tell_ingested_versions_duplicates_and_dead_letters_apart() -> None:
    raw = _raw(ts_ms=1_700_000_000_000)
    assert metrics.outcome(_with_ce(b"io.newsflow.article.ingested", b"nf_1:v1")) == "ingested"
    assert metrics.outcome(_with_ce(b"io.newsflow.article.ingested", b"nf_1:v3")) == "version"
    assert metrics.outcome(_duplicate("near", raw)) == "duplicate_near"
    assert metrics.outcome(_duplicate("exact", raw)) == "duplicate_exact"
    assert metrics.outcome(_with_ce(b"io.newsflow.article.enriched")) == "enriched"
    assert metrics.outcome(_with_ce(b"io.newsflow.article.published")) == "published"
    letter = dead_letter(raw, topic="t.dlq", stage="ingest", code="empty", message="no bytes", source="s")
    assert metrics.outcome(letter) == "dead_letter"


def test_produced_counts_topics_outcomes_codes_and_the_age_since_the_raw_record() -> None:
    before = {
        "out": _sample("newsflow_records_out_total", service="unit", topic="t.dlq"),
        "code": _sample("newsflow_dead_letters_total", service="unit", code="too_large"),
        "ages": _sample("newsflow_end_to_end_seconds_count", service="unit"),
        "sum": _sample("newsflow_end_to_end_seconds_sum", service="unit"),
    }
    ten_s_ago = int(time.time() * 1000) - 10_000
    raw = _raw(ts_ms=ten_s_ago)
    letter = dead_letter(raw, topic="t.dlq", stage="ingest", code="too_large", message="big", source="s")
    metrics.produced("unit", [letter, _duplicate("near", raw)])
    assert _sample("newsflow_records_out_total", service="unit", topic="t.dlq") == before["out"] + 1
    assert _sample("newsflow_dead_letters_total", service="unit", code="too_large") == before["code"] + 1
    assert _sample("newsflow_outcomes_total", service="unit", outcome="duplicate_near") >= 1
    assert _sample("newsflow_end_to_end_seconds_count", service="unit") == before["ages"] + 2
    added = _sample("newsflow_end_to_end_seconds_sum", service="unit") - before["sum"]
    assert 20 <= added < 30  # two outputs, each ~10 s after the raw record


def test_the_raw_timestamp_is_set_from_the_raw_record_then_carried_unchanged() -> None:
    raw = _raw(ts_ms=1_700_000_000_000)
    first = lineage(raw, "article.ingested")
    assert first[metrics.RAW_TS_HEADER] == b"1700000000000"
    downstream = InRecord("t.ingested", 1, 5, b"k", b"{}", {metrics.RAW_TS_HEADER: "1700000000000"}, 1_800_000_000_000)
    assert lineage(downstream, "article.enriched")[metrics.RAW_TS_HEADER] == b"1700000000000"


def test_webhook_attempts_are_counted_by_status_class() -> None:
    before = _sample("newsflow_webhook_attempts_total", status="5xx")
    metrics.webhook_attempt(503, 0.2)
    metrics.webhook_attempt("timeout")
    assert _sample("newsflow_webhook_attempts_total", status="5xx") == before + 1
    assert _sample("newsflow_webhook_attempts_total", status="timeout") >= 1


def test_consumer_lag_is_read_at_scrape_time_and_a_failing_source_gives_no_sample() -> None:
    lags = [("t.raw", 0, 5), ("t.raw", 1, -2)]
    metrics.register_consumer_lag("unit", lambda: lags)
    assert _sample("newsflow_consumer_lag", service="unit", topic="t.raw", partition="0") == 5
    assert _sample("newsflow_consumer_lag", service="unit", topic="t.raw", partition="1") == 0  # never negative
    lags[0] = ("t.raw", 0, 1)
    assert _sample("newsflow_consumer_lag", service="unit", topic="t.raw", partition="0") == 1

    def broken() -> list[tuple[str, int, int]]:
        raise RuntimeError("not assigned yet")

    metrics.register_consumer_lag("unit", broken)  # replaces the first one
    assert (
        REGISTRY.get_sample_value("newsflow_consumer_lag", {"service": "unit", "topic": "t.raw", "partition": "0"})
        is None
    )


def test_tracing_off_passes_the_traceparent_through() -> None:
    assert not tracing.enabled()
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    raw = _raw(traceparent=tp)
    with tracing.batch("unit", [raw]), tracing.span("enrich.x"):
        assert tracing.child_traceparent(raw, "article.ingested") == tp
    assert tracing.setup("unit", Settings(otel_endpoint=None)) is False
    assert tracing.traces_url("http://c:4318/") == "http://c:4318/v1/traces"
    assert tracing.traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


def test_tracing_off_never_loads_the_trace_sdk_or_the_exporter() -> None:
    """(redis-py imports parts of the OpenTelemetry API and metrics SDK by itself when installed.)"""
    code = (
        "import sys; from services.ingest.app import build_app; from services.publish import handler; "
        "import shared.agent, shared.tracing; "
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk.trace', 'opentelemetry.exporter'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
