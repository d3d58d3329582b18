"""Logging: readable text by default, one JSON object per line with ``NEWSFLOW_LOG_FORMAT=json``.

Why structlog, as a formatter for the standard library's ``logging``: every library newsflow
runs on (Faust, aiokafka, redis-py) and newsflow's own modules log through ``logging``;
structlog's ``ProcessorFormatter`` renders all of those records the same way (timestamp, level,
logger, message, exception) as one JSON line, and its ``contextvars`` binding carries the
record's context (``topic``, ``partition``, ``offset``, ``trace_id``, ``article_id``) across
``await`` without changing a single ``log.info`` call. No second logging API in the code.

Context is bound by the agent loop per batch (:func:`batch`) and can be given per call with
``extra=record_fields(rec)``.
"""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import orjson
import structlog

if TYPE_CHECKING:
    from .records import InRecord
    from .settings import Settings

__all__ = ["batch", "configure", "json_formatter", "record_fields", "worker_logging"]

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_json = False  # set by configure() / worker_logging(): context is bound only when it is written out
_FIELDS = (
    "service", "article_id", "topic", "partition", "offset", "trace_id", "partitions", "records", "code", "audit",
)  # fmt: skip


def _serialize(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


def _trace_id_from_traceparent(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    tp = event.pop("traceparent", None)
    if tp and "trace_id" not in event and isinstance(tp, str) and len(tp) >= 35:
        event["trace_id"] = tp[3:35]
    return event


def json_formatter() -> logging.Formatter:
    """A ``logging.Formatter`` writing each record as one JSON object: ``timestamp`` (UTC ISO 8601),
    ``level``, ``logger``, ``event`` (the message), the bound context, ``extra`` fields, ``exception``."""
    pre_chain: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=(*_FIELDS, "traceparent")),
        _trace_id_from_traceparent,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_serialize),
        ],
    )


def configure(settings: Settings) -> None:
    """Root logging for a newsflow process, before the worker starts."""
    global _json
    _json = settings.log_format == "json"
    handler = logging.StreamHandler()
    handler.setFormatter(json_formatter() if settings.log_format == "json" else logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())


def worker_logging(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``faust.Worker``: Faust replaces the root handlers when the worker
    starts, so JSON output has to be its logging config too. Text: Faust's own (``{}``)."""
    global _json
    _json = settings.log_format == "json"
    if not _json:
        return {}
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": json_formatter}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": settings.log_level.upper(), "handlers": ["default"]},
    }
    return {"logging_config": config}


def record_fields(rec: InRecord, article_id: str | None = None) -> dict[str, Any]:
    """``extra=`` for a log call about one record: where it was read, its trace, its article."""
    fields: dict[str, Any] = {"topic": rec.topic, "partition": rec.partition, "offset": rec.offset}
    if tp := rec.headers.get("traceparent"):
        fields["traceparent"] = tp
    if article_id:
        fields["article_id"] = article_id
    return fields


@contextmanager
def batch(service: str, records: list[InRecord]) -> Iterator[None]:
    """Bind the batch's context to every log line written while it is handled: ``service``,
    ``topic``, ``records``, and ``partition``/``offset``/``trace_id`` for a batch of one record,
    ``partitions`` (partition -> [first, last] offset) otherwise. Nothing with text logs."""
    if not _json:
        yield
        return
    context: dict[str, Any] = {"service": service, "records": len(records)}
    if records:
        context["topic"] = records[0].topic
    if len(records) == 1:
        rec = records[0]
        context.update(partition=rec.partition, offset=rec.offset)
        tp = rec.headers.get("traceparent")
        if tp and len(tp) >= 35:
            context["trace_id"] = tp[3:35]
    elif records:
        spans: dict[int, list[int]] = {}
        for rec in records:
            span = spans.setdefault(rec.partition, [rec.offset, rec.offset])
            span[0], span[1] = min(span[0], rec.offset), max(span[1], rec.offset)
        context["partitions"] = {str(p): s for p, s in sorted(spans.items())}
    with structlog.contextvars.bound_contextvars(**context):
        yield
