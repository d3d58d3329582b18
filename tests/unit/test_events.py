"""CloudEvents headers and trace context."""

from __future__ import annotations

import re

from shared.events import cloudevent_headers, continue_trace, header_dict

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")


def test_cloudevent_headers_are_binary_mode_with_traceparent() -> None:
    h = cloudevent_headers(event_type="article.ingested", source="newsflow/ingest", event_id="nf_1:v1", subject="nf_1")
    assert h["ce_specversion"] == b"1.0"
    assert h["ce_id"] == b"nf_1:v1"
    assert h["ce_type"] == b"io.newsflow.article.ingested"
    assert h["ce_subject"] == b"nf_1"
    assert h["content-type"] == b"application/json"
    assert TRACEPARENT.match(h["traceparent"].decode())


def test_child_span_keeps_the_trace_id() -> None:
    parent = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    child = continue_trace(parent)
    assert child.split("-")[1] == "a" * 32 and child.split("-")[2] != "b" * 16
    assert TRACEPARENT.match(continue_trace("garbage"))


def test_header_dict_accepts_faust_and_aiokafka_shapes() -> None:
    assert header_dict([("a", b"1"), ("b", None)]) == {"a": "1"}  # type: ignore[list-item]  # a None value, as Kafka gives
    assert header_dict({"a": b"\xff"}) == {"a": "\ufffd"}
