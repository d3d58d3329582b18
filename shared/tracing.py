"""OpenTelemetry traces: one trace follows an article from ``news.raw`` to every sink.

Off unless ``NEWSFLOW_OTEL_ENDPOINT`` (or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``) is set:
then :func:`setup` is a no-op, the OpenTelemetry SDK is never imported, and every function here
returns at once (``traceparent`` headers are passed through unchanged, as before).

When on, each service exports its spans over OTLP/HTTP (protobuf) to ``<endpoint>/v1/traces``:

- ``<service> batch``: one per consumed batch, linked to the records' contexts (a batch mixes traces);
  the per-enricher spans (``enrich.<name>``) are its children;
- one span per output record, the child of the input record's ``traceparent`` (``ingest
  article.ingested`` / ``article.duplicate`` / ``dead_letter``, ``enrich article.enriched``,
  ``publish article.published`` per sink), linked to its batch span and started with the batch;
  its context is the output record's ``traceparent``, so the next service continues the trace.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .records import InRecord
    from .settings import Settings

__all__ = ["batch", "child_traceparent", "enabled", "setup", "shutdown", "span"]

_tracer: Any = None  # an opentelemetry Tracer once setup() found an endpoint
_provider: Any = None
_NULL: AbstractContextManager[None] = contextlib.nullcontext()
_MAX_LINKS = 128
# (start time in ns, the batch span's context) of the batch being handled
_batch: contextvars.ContextVar[tuple[int, Any] | None] = contextvars.ContextVar("newsflow_batch", default=None)


def enabled() -> bool:
    return _tracer is not None


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector base URL (``.../v1/traces`` is kept as given)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def setup(service: str, settings: Settings) -> bool:
    """Export this process's spans over OTLP when an endpoint is configured; return whether it is on."""
    global _tracer, _provider
    if not settings.otel_endpoint or _tracer is not None:
        return _tracer is not None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": f"newsflow-{service}", "service.namespace": "newsflow"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(settings.otel_endpoint))))
    trace.set_tracer_provider(provider)
    _provider = provider
    _tracer = provider.get_tracer("newsflow")
    return True


def shutdown() -> None:
    """Flush and stop the exporter (the SDK also does this at interpreter exit)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


def _context(traceparent: str | None) -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent} if traceparent else {})


def _traceparent(span: Any) -> str:
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


@contextmanager
def batch(service: str, records: list[InRecord]) -> Iterator[None]:
    """The span of one consumed batch, current while the batch is handled and produced."""
    if _tracer is None:
        yield
        return
    from opentelemetry import trace

    links = []
    for rec in records[:_MAX_LINKS]:
        ctx = trace.get_current_span(_context(rec.headers.get("traceparent"))).get_span_context()
        if ctx.is_valid:
            links.append(trace.Link(ctx))
    attributes = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.batch.message_count": len(records),
        "messaging.destination.name": records[0].topic if records else "",
    }
    started = time.time_ns()
    # a root span of its own: a batch holds records of many traces, joined by the links
    with _tracer.start_as_current_span(
        f"{service} batch", context=_context(None), links=links, attributes=attributes, start_time=started
    ) as span:
        token = _batch.set((started, span.get_span_context()))
        try:
            yield
        finally:
            _batch.reset(token)


def span(name: str, **attributes: Any) -> AbstractContextManager[Any]:
    """A child span of the current one (the batch's); nothing at all when tracing is off."""
    if _tracer is None:
        return _NULL
    cm: AbstractContextManager[Any] = _tracer.start_as_current_span(name, attributes=attributes)
    return cm


def child_traceparent(parent: InRecord, name: str, **attributes: Any) -> str | None:
    """The ``traceparent`` for an output of ``parent``: a span of this stage that is the child of
    ``parent``'s, linked to the batch span and timed from the batch's start. Off: ``parent``'s own."""
    incoming = parent.headers.get("traceparent")
    if _tracer is None:
        return incoming
    from opentelemetry import trace

    current = _batch.get()
    start, links = (current[0], [trace.Link(current[1])]) if current else (time.time_ns(), [])
    attributes.update(
        {
            "messaging.system": "kafka",
            "messaging.source.name": parent.topic,
            "messaging.kafka.source.partition": parent.partition,
            "messaging.kafka.offset": parent.offset,
        }
    )
    out = _tracer.start_span(
        name, context=_context(incoming), links=links, attributes=attributes, start_time=start,
        kind=trace.SpanKind.CONSUMER,
    )  # fmt: skip
    out.end()
    return _traceparent(out)
