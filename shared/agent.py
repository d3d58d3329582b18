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
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import faust

from . import bulk
from .metrics import BATCH_SECONDS, RECORDS_IN, RECORDS_OUT, RETRIES
from .records import InRecord, OutRecord

__all__ = ["BatchHandler", "add_batch_agent", "produce_all", "to_in_record"]

log = logging.getLogger(__name__)

BatchHandler = Callable[[list[InRecord]], Awaitable[list[OutRecord]]]


def to_in_record(event: faust.types.EventT) -> InRecord:
    return bulk.message_record(event.message)


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


async def _take(stream: faust.StreamT, size: int, within: float) -> AsyncIterator[list[InRecord]]:
    async for events in stream.take_events(size, within=within):
        yield [to_in_record(e) for e in events]


def add_batch_agent(
    app: faust.App,
    service: str,
    topic: faust.TopicT,
    handler: BatchHandler,
    *,
    batch_size: int,
    batch_wait_s: float,
    after_produce: Callable[[list[OutRecord]], Awaitable[None]] | None = None,
    lean: bool = True,
) -> None:
    """Register the agent that feeds ``topic`` to ``handler`` in batches.

    ``lean``: the records come in bulk from the fetch loop (:mod:`shared.bulk`), else through
    Faust's stream, one event at a time (``take_events``: up to ``batch_wait_s`` to fill a batch).
    """

    source_topic = topic

    async def agent(stream: faust.StreamT) -> None:
        source = bulk.batches(app, source_topic, batch_size) if lean else _take(stream, batch_size, batch_wait_s)
        async for records in source:
            RECORDS_IN.labels(service=service).inc(len(records))
            with BATCH_SECONDS.labels(service=service).time():
                outs = await _with_retry(service, "handle", lambda records=records: handler(records))
                await _with_retry(service, "produce", lambda outs=outs: produce_all(app, outs))
                if after_produce is not None:
                    await _with_retry(service, "after_produce", lambda outs=outs: after_produce(outs))
            for topic, count in Counter(out.topic for out in outs).items():  # one labels() lookup per topic
                RECORDS_OUT.labels(service=service, topic=topic).inc(count)

    app.agent(topic, name=f"{service}-agent")(agent)
