"""CloudEvents headers and trace context."""

from __future__ import annotations

import re

from shared.events import (
    MAX_HEADER_BYTES,
    MAX_HEADERS_BYTES,
    cloudevent_headers,
    continue_trace,
    header_dict,
    valid_traceparent,
)

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


def test_an_invalid_traceparent_is_replaced_not_copied() -> None:
    for bad in ("00-" + "a" * 1_000_000, "garbage", "ff-" + "a" * 32 + "-" + "b" * 16 + "-01",
                "00-" + "0" * 32 + "-" + "b" * 16 + "-01", "00-" + "A" * 32 + "-" + "b" * 16 + "-01"):  # fmt: skip
        assert valid_traceparent(bad) is None
        tp = cloudevent_headers(event_type="x", source="s", traceparent=bad)["traceparent"].decode()
        assert TRACEPARENT.match(tp) and tp != bad
    good = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    assert cloudevent_headers(event_type="x", source="s", traceparent=good)["traceparent"].decode() == good


def test_header_values_and_their_total_are_capped() -> None:
    headers = header_dict([("traceparent", b"x" * 1_000_000), *((f"h{i}", b"y" * 900) for i in range(100))])
    assert len(headers["traceparent"]) == MAX_HEADER_BYTES
    assert sum(len(k) + len(v) for k, v in headers.items()) <= MAX_HEADERS_BYTES
