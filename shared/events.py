"""CloudEvents binary-mode headers and W3C trace context for produced records."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

__all__ = ["cloudevent_headers", "continue_trace", "header_dict", "new_traceparent"]

_TYPE_PREFIX = "io.newsflow."


def new_traceparent() -> str:
    return f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def continue_trace(parent: str | None) -> str:
    """A child span of ``parent`` (same trace id, new span id), else a new trace."""
    if parent:
        parts = parent.split("-")
        if len(parts) == 4 and len(parts[1]) == 32 and len(parts[2]) == 16:
            return f"{parts[0]}-{parts[1]}-{os.urandom(8).hex()}-{parts[3]}"
    return new_traceparent()


def header_dict(headers: Mapping[str, bytes] | list[tuple[str, bytes]] | None) -> dict[str, str]:
    """Kafka headers (Faust dict or aiokafka list) as a str->str dict."""
    if not headers:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for k, v in items:
        if v is None:
            continue
        out[k] = v.decode("utf-8", "replace") if isinstance(v, bytes | bytearray) else str(v)
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
        "traceparent": (traceparent or new_traceparent()).encode(),
    }
    if subject:
        headers["ce_subject"] = subject.encode()
    return headers
