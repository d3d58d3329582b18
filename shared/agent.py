"""The one batch loop every service runs inside its Faust agent.

``stream.take_events`` buffers up to ``batch_size`` events (or ``batch_wait_s``
seconds); the handler turns the batch into output records; every output is
produced and acknowledged by the broker before the batch's events are acked,
so committed offsets never run ahead of produced outputs (at-least-once).
A failing dependency (Redis, broker) means back-off and retry of the whole
batch, never a dropped record: handlers are idempotent on replay.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust

from . import logs, metrics, tracing
from .events import header_dict
from .kafka import partition_lags
from .metrics import BATCH_SECONDS, RETRIES
from .records import InRecord, OutRecord

__all__ = ["BatchHandler", "add_batch_agent", "produce_all", "to_in_record"]

log = logging.getLogger(__name__)

BatchHandler = Callable[[list[InRecord]], Awaitable[list[OutRecord]]]


def to_in_record(event: faust.types.EventT[Any]) -> InRecord:
    msg = event.message
    return InRecord(
        topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        key=msg.key,
        value=msg.value,
        headers=header_dict(msg.headers),
        timestamp_ms=int(msg.timestamp * 1000) if msg.timestamp else None,
    )


async def produce_all(app: faust.App, outs: list[OutRecord]) -> None:
    """Send every record and wait until the broker acknowledged all of them."""
    futures: list[Awaitable[Any]] = []
    for out in outs:
        futures.append(await app.producer.send(out.topic, out.key, out.value, None, None, out.headers))
    await asyncio.gather(*futures)


async def _with_retry(service: str, what: str, fn: Callable[[], Awaitable[Any]], max_backoff_s: float = 30.0) -> Any:
    delay = 0.2
    while True:
        try:
            return await fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # dependency down: back off and retry, offsets stay uncommitted
            RETRIES.labels(service=service, what=what).inc()
            log.warning("%s: %s failed (%s: %s); retrying in %.1fs", service, what, type(exc).__name__, exc, delay)
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, max_backoff_s)


def add_batch_agent(
    app: faust.App,
    service: str,
    topic: faust.TopicT,
    handler: BatchHandler,
    *,
    batch_size: int,
    batch_wait_s: float,
    after_produce: Callable[[list[OutRecord]], Awaitable[None]] | None = None,
) -> None:
    """Register the agent that feeds ``topic`` to ``handler`` in batches."""

    async def agent(stream: faust.StreamT[Any]) -> None:
        # app.agent hands the agent a faust.Stream; take_events is on the class, not on the StreamT interface
        async for events in cast("faust.Stream[Any]", stream).take_events(batch_size, within=batch_wait_s):
            records = [to_in_record(e) for e in events]
            metrics.batch_started(service, records)
            timer = BATCH_SECONDS.labels(service=service).time()
            with timer, tracing.batch(service, records), logs.batch(service, records):
                with metrics.handled(service):
                    outs = await _with_retry(service, "handle", functools.partial(handler, records))
                await _with_retry(service, "produce", functools.partial(produce_all, app, outs))
                if after_produce is not None:
                    await _with_retry(service, "after_produce", functools.partial(after_produce, outs))
            metrics.produced(service, outs)  # records out, outcomes, dead letters, end-to-end age

    app.agent(topic, name=f"{service}-agent")(agent)
    metrics.register_consumer_lag(service, lambda: partition_lags(app))
