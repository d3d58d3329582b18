"""Structured logs: one JSON object per line, with the record's context bound (shared/logs.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from shared import logs
from shared.records import InRecord
from shared.settings import Settings

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The root logger writing JSON to a buffer, as ``NEWSFLOW_LOG_FORMAT=json`` sets it up."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    logs.configure(Settings(log_format="json", log_level="DEBUG"))
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]  # a StreamHandler, typed as Handler
    try:
        yield buffer
    finally:
        logs.configure(Settings(log_format="text"))
        root.handlers[:], root.level = saved, level


def _events(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _rec(partition: int, offset: int, traceparent: str | None = TRACEPARENT) -> InRecord:
    headers = {"traceparent": traceparent} if traceparent else {}
    return InRecord(topic="news.raw", partition=partition, offset=offset, key=None, value=b"x", headers=headers)


def test_each_log_call_is_one_json_object_with_level_logger_time_and_message(json_lines: io.StringIO) -> None:
    logging.getLogger("newsflow.test").info("hello %s", "world")
    logging.getLogger("aiokafka").warning("a library's line is JSON too")
    first, second = _events(json_lines)
    assert first["event"] == "hello world" and first["level"] == "info" and first["logger"] == "newsflow.test"
    assert first["timestamp"].endswith("Z")
    assert second["logger"] == "aiokafka" and second["level"] == "warning"


def test_a_record_passed_as_extra_gives_topic_partition_offset_trace_and_article(json_lines: io.StringIO) -> None:
    log = logging.getLogger("newsflow.test")
    log.info("about one record", extra=logs.record_fields(_rec(3, 42), article_id="nf_abc"))
    (event,) = _events(json_lines)
    assert {k: event[k] for k in ("topic", "partition", "offset", "article_id", "trace_id")} == {
        "topic": "news.raw", "partition": 3, "offset": 42, "article_id": "nf_abc",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    }  # fmt: skip
    assert "traceparent" not in event


def test_a_batch_binds_its_context_to_every_line_inside_it_and_nothing_after(json_lines: io.StringIO) -> None:
    log = logging.getLogger("newsflow.test")
    with logs.batch("ingest", [_rec(1, 7)]):
        log.info("one record")
    with logs.batch("ingest", [_rec(0, 5), _rec(0, 9, None), _rec(2, 1)]):
        log.warning("three records")
    log.info("outside")
    one, three, outside = _events(json_lines)
    assert (one["service"], one["topic"], one["partition"], one["offset"]) == ("ingest", "news.raw", 1, 7)
    assert one["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert three["records"] == 3 and three["partitions"] == {"0": [5, 9], "2": [1, 1]}
    assert "partition" not in three
    assert not {"service", "topic", "records"} & set(outside)


def test_an_exception_is_in_the_same_line(json_lines: io.StringIO) -> None:
    try:
        raise ValueError("broken input")
    except ValueError:
        logging.getLogger("newsflow.test").exception("failed")
    (event,) = _events(json_lines)
    assert event["event"] == "failed" and "ValueError: broken input" in event["exception"]


def test_text_logs_bind_nothing_and_the_worker_keeps_its_own_format() -> None:
    logs.configure(Settings(log_format="text"))
    with logs.batch("ingest", [_rec(1, 7)]):
        assert structlog.contextvars.get_contextvars() == {}
    assert logs.worker_logging(Settings(log_format="text")) == {}
    config = logs.worker_logging(Settings(log_format="json"))["logging_config"]
    assert config["handlers"]["default"]["formatter"] == "json"
    logs.configure(Settings(log_format="text"))
