"""CloudEvents binary-mode headers and W3C trace context for produced records."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

__all__ = [
    "MAX_HEADERS_BYTES",
    "MAX_HEADER_BYTES",
    "cloudevent_headers",
    "continue_trace",
    "header_dict",
    "new_traceparent",
    "valid_traceparent",
]

_TYPE_PREFIX = "io.newsflow."
MAX_HEADER_BYTES = 1024
"""Longest header value kept from a consumed record (longer ones are cut, see :func:`header_dict`)."""
MAX_HEADERS_BYTES = 16 * 1024
"""Most header bytes kept from one consumed record; headers past it are dropped."""
# W3C Trace Context level 1: version-traceid-parentid-flags, lower-case hex; version ff is invalid.
_TRACEPARENT_RE = re.compile(r"(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")


def valid_traceparent(value: str | None) -> str | None:
    """``value`` when it is a valid W3C ``traceparent`` (version 00: exactly 55 characters), else ``None``."""
    if not value or len(value) > 128:
        return None
    match = _TRACEPARENT_RE.match(value)
    if match is None or (value[:2] == "00" and len(value) != 55) or (len(value) > 55 and value[55] != "-"):
        return None
    return value


def new_traceparent() -> str:
    return f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def continue_trace(parent: str | None) -> str:
    """A child span of a valid ``parent`` (same trace id, new span id), else a new trace."""
    if parent is not None and valid_traceparent(parent):
        return f"00-{parent[3:35]}-{os.urandom(8).hex()}-{parent[53:55]}"
    return new_traceparent()


def header_dict(headers: Mapping[str, bytes] | list[tuple[str, bytes]] | None) -> dict[str, str]:
    """Kafka headers (Faust dict or aiokafka list) as a str->str dict, bounded in size.

    A value longer than :data:`MAX_HEADER_BYTES` is cut to that length (a cut ``traceparent`` is then
    invalid and replaced downstream); headers past :data:`MAX_HEADERS_BYTES` in all are dropped, so a
    hostile header cannot grow every output and dead letter built from the record.
    """
    if not headers:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    budget = MAX_HEADERS_BYTES
    for k, v in items:
        if v is None:
            continue
        raw = bytes(v) if isinstance(v, bytes | bytearray) else str(v).encode()
        key = str(k)[:MAX_HEADER_BYTES]
        cost = len(key) + min(len(raw), MAX_HEADER_BYTES)
        if cost > budget:
            break
        budget -= cost
        out[key] = raw[:MAX_HEADER_BYTES].decode("utf-8", "replace")
    return out


def cloudevent_headers(
    *,
    event_type: str,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    traceparent: str | None = None,
    time: datetime | None = None,
) -> dict[str, bytes]:
    """CloudEvents 1.0 Kafka binary-mode headers plus ``traceparent``.

    ``event_id`` should be deterministic for idempotent outputs (the same
    input produces the same ``ce_id``), so consumers can deduplicate on it.
    """
    headers = {
        "ce_specversion": b"1.0",
        "ce_id": (event_id or str(uuid.uuid4())).encode(),
        "ce_source": source.encode(),
        "ce_type": (_TYPE_PREFIX + event_type).encode(),
        "ce_time": (time or datetime.now(UTC)).isoformat().encode(),
        "content-type": b"application/json",
        "traceparent": (valid_traceparent(traceparent) or new_traceparent()).encode(),
    }
    if subject:
        headers["ce_subject"] = subject.encode()
    return headers
