"""Transport-neutral records: what a handler reads and what it asks to produce.

Handlers are plain functions from :class:`InRecord` batches to
:class:`OutRecord` lists; the Faust agents and the tests move them to and
from Kafka.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel

from . import codec, tracing
from .events import cloudevent_headers
from .limits import DLQ_TRUNCATED_BYTES, dlq_keep_bytes
from .logs import record_fields
from .metrics import RAW_TS_HEADER
from .models import DeadLetter, ErrorInfo, Origin
from .settings import Settings

__all__ = ["InRecord", "OutRecord", "dead_letter", "lineage", "model_record"]

log = logging.getLogger(__name__)

_DEFAULT_MAX_ARTICLE_BYTES = int(Settings.model_fields["max_article_bytes"].default)


@dataclass(frozen=True)
class InRecord:
    """One consumed Kafka record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str] = field(default_factory=dict)
    timestamp_ms: int | None = None

    @property
    def origin(self) -> Origin:
        return Origin(topic=self.topic, partition=self.partition, offset=self.offset)

    @property
    def time(self) -> datetime:
        """The broker timestamp (deterministic on redelivery), else now."""
        if self.timestamp_ms:
            return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)
        return datetime.now(UTC)


def lineage(parent: InRecord, span: str, **attributes: str | int) -> dict[str, bytes]:
    """The headers an output of ``parent`` inherits: ``traceparent`` (the context of this stage's
    span for it, see ``shared/tracing.py``) and ``newsflow_raw_ts`` (the ``news.raw`` record's
    timestamp in ms, for the end-to-end age: copied when ``parent`` has it, else ``parent``'s own)."""
    headers: dict[str, bytes] = {}
    raw_ts = parent.headers.get(RAW_TS_HEADER) or (str(parent.timestamp_ms) if parent.timestamp_ms else None)
    if raw_ts:
        headers[RAW_TS_HEADER] = raw_ts.encode()
    traceparent = tracing.child_traceparent(parent, span, **attributes)
    if traceparent:
        headers["traceparent"] = traceparent.encode()
    return headers


@dataclass(frozen=True)
class OutRecord:
    """One record to produce; ``source`` is the consumed record it was made from (for its dead letter
    when this output cannot be produced, see :mod:`shared.agent`)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]
    source: InRecord | None = field(default=None, compare=False, repr=False)


def model_record(
    topic: str,
    key: str | bytes | None,
    model: BaseModel,
    *,
    event_type: str,
    source: str,
    event_id: str,
    time: datetime,
    traceparent: str | None = None,
    parent: InRecord | None = None,
) -> OutRecord:
    """A JSON record with CloudEvents binary headers; with ``parent`` (the record it comes from),
    also the :func:`lineage` headers (``traceparent`` then comes from there)."""
    k = key.encode() if isinstance(key, str) else key
    subject = key if isinstance(key, str) else None
    inherited = lineage(parent, event_type, **({"newsflow.article_id": subject} if subject else {})) if parent else {}
    if "traceparent" in inherited:
        traceparent = inherited.pop("traceparent").decode()
    headers = cloudevent_headers(
        event_type=event_type, source=source, subject=subject, event_id=event_id, traceparent=traceparent, time=time
    )
    headers.update(inherited)
    return OutRecord(topic=topic, key=k, value=codec.dumps(model), headers=headers, source=parent)


def dead_letter(
    rec: InRecord,
    *,
    topic: str,
    stage: str,
    code: str,
    message: str,
    source: str,
    attempts: int = 1,
    max_article_bytes: int | None = None,
) -> OutRecord:
    """The DLQ record for ``rec``: the reason, the stage and the original bytes.

    The original value is kept whole up to :func:`shared.limits.dlq_keep_bytes` of ``max_article_bytes``
    (default: the setting's default); a longer one is cut to :data:`shared.limits.DLQ_TRUNCATED_BYTES`
    (or the keep size, if smaller) with ``original_truncated`` set. Its full size and SHA-256 are always
    recorded, so the dead letter always fits the record limit (:func:`shared.limits.max_record_bytes`).
    """
    value = rec.value or b""
    key = rec.key[:DLQ_TRUNCATED_BYTES] if rec.key is not None else None
    keep = dlq_keep_bytes(max_article_bytes or _DEFAULT_MAX_ARTICLE_BYTES)
    truncated = len(value) > keep
    kept = value[: min(keep, DLQ_TRUNCATED_BYTES)] if truncated else value
    dl = DeadLetter(
        error=ErrorInfo(code=code, message=message),
        stage=stage,  # type: ignore[arg-type]  # a service name; DeadLetter validates it
        original_key_b64=base64.b64encode(key).decode() if key is not None else None,
        original_value_b64=base64.b64encode(kept).decode(),
        original_size=len(value),
        original_sha256=hashlib.sha256(value).hexdigest(),
        original_truncated=truncated or (rec.key is not None and len(rec.key) > len(key or b"")),
        original_headers=rec.headers,
        source_topic=rec.topic,
        source_partition=rec.partition,
        source_offset=rec.offset,
        failed_at=datetime.now(UTC),
        attempts=attempts,
    )
    inherited = lineage(rec, f"{stage}.dead_letter", **{"newsflow.error_code": code})
    traceparent = inherited.pop("traceparent", None)
    headers = cloudevent_headers(
        event_type=f"{stage}.dead_letter",
        source=f"{source}/{stage}",
        event_id=f"dlq:{rec.topic}/{rec.partition}/{rec.offset}",
        traceparent=traceparent.decode() if traceparent else None,
    )
    headers.update(inherited)
    headers["newsflow_error_code"] = code.encode()
    log.info("dead letter (%s, %s): %s", stage, code, message, extra={**record_fields(rec), "code": code})
    return OutRecord(topic=topic, key=key, value=codec.dumps(dl), headers=headers, source=rec)
