"""The one batch loop every service runs inside its Faust agent.

``stream.take_events`` buffers up to ``batch_size`` events (or ``batch_wait_s``
seconds); the handler turns the batch into output records; every output is
produced and acknowledged by the broker before the batch's events are acked,
so committed offsets never run ahead of produced outputs (at-least-once).

No record can stall its partition (:class:`BatchRunner`): every failure is
classified by :func:`shared.failures.classify`.

- A failure that can heal (Redis or the broker unreachable, a timeout) means
  back-off and retry of the work that failed, offsets uncommitted, counted in
  ``newsflow_retries_total``; once one batch has been blocked longer than
  ``retry_warn_after_s`` an error is logged (again at every such interval) and
  ``newsflow_batch_blocked_seconds`` shows for how long.
- A failure that cannot heal becomes a dead letter with its code, for the
  record(s) behind it only: a handler failing on a batch is re-run on each
  half until the failing record is alone (handlers are idempotent on replay);
  an output the broker refuses (too large, invalid) is replaced by the dead
  letter of the record it was made from (``OutRecord.source``), the batch's
  other outputs go out as they are.
- Cancellation is never caught, and a worker told to stop (SIGTERM) while a
  batch is blocked does not wait for that batch (``shared.kafka.run_worker``):
  it stops, the batch's offsets uncommitted, so the next owner redoes it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import faust

from . import bulk, logs, metrics, tracing
from .failures import Failure, classify, describe, is_fatal
from .metrics import BATCH_BLOCKED_SECONDS, BATCH_SECONDS, RETRIES
from .records import InRecord, OutRecord, dead_letter
from .settings import Settings

__all__ = [
    "BatchHandler",
    "BatchRunner",
    "Sender",
    "add_batch_agent",
    "blocked_batches",
    "faust_sender",
    "produce_all",
    "to_in_record",
]

log = logging.getLogger(__name__)

BatchHandler = Callable[[list[InRecord]], Awaitable[list[OutRecord]]]
# Sends records; one entry per record: None when the broker acknowledged it, else the exception.
Sender = Callable[[Sequence[OutRecord]], Awaitable[list[BaseException | None]]]
T = TypeVar("T")
_BLOCKED: set[int] = set()  # id() of the runners whose current batch is retrying a failed dependency


def blocked_batches() -> int:
    """How many batches of this process are retrying a failed dependency right now (see ``run_worker``:
    a worker stopping then does not wait for them; their offsets stay uncommitted)."""
    return len(_BLOCKED)


def to_in_record(event: faust.types.EventT[Any]) -> InRecord:
    return bulk.message_record(event.message)


def faust_sender(app: faust.App) -> Sender:
    """Send through the app's producer; a record the producer refuses at once (too large) fails alone."""

    async def send(outs: Sequence[OutRecord]) -> list[BaseException | None]:
        results: list[BaseException | None] = [None] * len(outs)
        pending: list[tuple[int, Awaitable[Any]]] = []
        for i, out in enumerate(outs):
            try:
                pending.append((i, await app.producer.send(out.topic, out.key, out.value, None, None, out.headers)))
            except Exception as exc:  # classified by the caller (MessageSizeTooLargeError, connection errors)
                results[i] = exc
        acked = await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
        for (i, _), res in zip(pending, acked, strict=True):
            if isinstance(res, BaseException):
                if is_fatal(res):
                    raise res
                results[i] = res
        return results

    return send


async def produce_all(app: faust.App, outs: list[OutRecord]) -> None:
    """Send every record and wait until the broker acknowledged all of them (raises the first failure)."""
    for res in await faust_sender(app)(outs):
        if res is not None:
            raise res


class _Permanent(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass
class BatchRunner:
    """Handle and produce one batch, retrying what can heal and dead-lettering what cannot (module doc)."""

    service: str
    handler: BatchHandler
    send: Sender
    dlq_topic: str
    source_name: str
    max_article_bytes: int | None = None
    after_produce: Callable[[list[OutRecord]], Awaitable[None]] | None = None
    warn_after_s: float = 60.0
    max_backoff_s: float = 30.0
    first_backoff_s: float = 0.2

    async def run(self, records: list[InRecord]) -> list[OutRecord]:
        """Every record's outputs (or its dead letter), produced; the outputs the broker acknowledged."""
        started = time.monotonic()
        try:
            outs = await self._handle(records, started)
            delivered = await self._produce(outs, started)
            if self.after_produce is not None:
                after = self.after_produce
                await self._retrying("after_produce", lambda: after(delivered), started, permanent_ok=False)
            return delivered
        finally:
            _BLOCKED.discard(id(self))
            BATCH_BLOCKED_SECONDS.labels(service=self.service).set(0)

    # -- handling -----------------------------------------------------------

    async def _handle(self, records: list[InRecord], started: float) -> list[OutRecord]:
        try:
            return await self._retrying("handle", lambda: self.handler(records), started)
        except _Permanent as perm:
            if len(records) == 1:
                log.error(
                    "%s: record %s/%s/%s is a dead letter (%s): %s", self.service, records[0].topic,
                    records[0].partition, records[0].offset, perm.failure.code, perm.failure.message,
                    exc_info=perm.__cause__,
                )  # fmt: skip
                return [self._dead_letter(records[0], perm.failure)]
            log.warning(
                "%s: a batch of %d failed (%s); isolating the failing record", self.service, len(records),
                perm.failure.message,
            )  # fmt: skip
            mid = len(records) // 2
            return await self._handle(records[:mid], started) + await self._handle(records[mid:], started)

    # -- producing ----------------------------------------------------------

    async def _produce(self, outs: list[OutRecord], started: float) -> list[OutRecord]:
        """Send ``outs``; retry those that failed and can heal, replace those that cannot by dead letters."""
        delivered: list[OutRecord] = []
        todo = outs
        delay = self.first_backoff_s
        while todo:
            results = await self.send(todo)
            retry: list[OutRecord] = []
            last: BaseException | None = None
            letters: dict[tuple[str, int, int], OutRecord] = {}
            for out, exc in zip(todo, results, strict=True):
                if exc is None:
                    delivered.append(out)
                    continue
                failure = classify(exc)
                if failure is None or (out.topic == self.dlq_topic and _is_bare(out)):
                    retry.append(out)  # a bare dead letter refused too: only the broker can fix that
                    last = exc
                elif out.topic == self.dlq_topic:  # a dead letter refused: keep its reason, drop the original
                    letters.setdefault(_token(out), self._bare_dead_letter(out, failure))
                else:
                    source = out.source or _unknown_source(out)
                    log.error(
                        "%s: output to %s for %s/%s/%s refused (%s): %s; dead-lettering its record", self.service,
                        out.topic, source.topic, source.partition, source.offset, failure.code, failure.message,
                    )  # fmt: skip
                    letters.setdefault(_token(out), self._dead_letter(source, failure))
            if retry:
                self._note_retry("produce", last or RuntimeError("send failed"), delay, started)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self.max_backoff_s)
            todo = retry + list(letters.values())
        return delivered

    def _dead_letter(self, rec: InRecord, failure: Failure) -> OutRecord:
        # counted with every other dead letter once produced (metrics.produced, by its error code header)
        return dead_letter(
            rec, topic=self.dlq_topic, stage=self.service, code=failure.code, message=failure.message,
            source=self.source_name, max_article_bytes=self.max_article_bytes,
        )  # fmt: skip

    def _bare_dead_letter(self, letter: OutRecord, failure: Failure) -> OutRecord:
        """A dead letter the broker refused, again without the original bytes (only their size and hash)."""
        rec = letter.source or _unknown_source(letter)
        bare = InRecord(rec.topic, rec.partition, rec.offset, None, b"", {}, rec.timestamp_ms)
        note = f"original dropped ({len(rec.value or b''):,} bytes): its dead letter was refused: {failure.message}"
        return self._dead_letter(bare, Failure(failure.code, note))

    # -- retrying -----------------------------------------------------------

    async def _retrying(
        self, what: str, fn: Callable[[], Awaitable[T]], started: float, *, permanent_ok: bool = True
    ) -> T:
        """``fn()`` until it succeeds; a failure that cannot heal raises :class:`_Permanent` (or is retried
        too, when ``permanent_ok`` is False: there is no record left to dead-letter)."""
        delay = self.first_backoff_s
        while True:
            try:
                return await fn()
            except BaseException as exc:
                if is_fatal(exc):
                    raise
                failure = classify(exc)
                if failure is not None and permanent_ok:
                    raise _Permanent(failure) from exc
                self._note_retry(what, exc, delay, started)
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, self.max_backoff_s)

    def _note_retry(self, what: str, exc: BaseException, delay: float, started: float) -> None:
        RETRIES.labels(service=self.service, what=what).inc()
        _BLOCKED.add(id(self))
        blocked = time.monotonic() - started
        BATCH_BLOCKED_SECONDS.labels(service=self.service).set(blocked)
        log.warning("%s: %s failed (%s); retrying in %.1fs", self.service, what, describe(exc), delay)
        if blocked >= self.warn_after_s and (blocked - delay) // self.warn_after_s < blocked // self.warn_after_s:
            log.error(
                "%s: one batch has been blocked for %.0fs by %s (%s); its partitions wait, nothing is lost",
                self.service, blocked, what, describe(exc),
            )  # fmt: skip


def _is_bare(letter: OutRecord) -> bool:
    return letter.source is not None and not letter.source.value and not letter.source.headers


def _token(out: OutRecord) -> tuple[str, int, int]:
    s = out.source or _unknown_source(out)
    return (s.topic, s.partition, s.offset)


def _unknown_source(out: OutRecord) -> InRecord:
    """A stand-in for an output whose handler did not say which record it was made from."""
    return InRecord(topic=out.topic, partition=-1, offset=-1, key=out.key, value=out.value)


async def _take(stream: faust.StreamT[Any], size: int, within: float) -> AsyncIterator[list[InRecord]]:
    # app.agent hands the agent a faust.Stream; take_events is on the class, not on the StreamT interface
    async for events in cast("faust.Stream[Any]", stream).take_events(size, within=within):
        yield [to_in_record(e) for e in events]


def add_batch_agent(
    app: faust.App,
    service: str,
    topic: faust.TopicT,
    handler: BatchHandler,
    *,
    batch_size: int,
    batch_wait_s: float,
    settings: Settings,
    after_produce: Callable[[list[OutRecord]], Awaitable[None]] | None = None,
    lean: bool = True,
) -> None:
    """Register the agent that feeds ``topic`` to ``handler`` in batches.

    ``lean``: the records come in bulk from the fetch loop (:mod:`shared.bulk`), else through
    Faust's stream, one event at a time (``take_events``: up to ``batch_wait_s`` to fill a batch).
    """
    from .kafka import partition_lags  # shared.kafka imports this module (blocked_batches)

    async def timed_handler(records: list[InRecord]) -> list[OutRecord]:
        with metrics.handled(service):
            return await handler(records)

    runner = BatchRunner(
        service=service,
        handler=timed_handler,
        send=faust_sender(app),
        dlq_topic=settings.topics.dlq,
        source_name=settings.source_name,
        max_article_bytes=settings.max_article_bytes,
        after_produce=after_produce,
        warn_after_s=settings.retry_warn_after_s,
    )

    source_topic = topic

    async def agent(stream: faust.StreamT[Any]) -> None:
        source = bulk.batches(app, source_topic, batch_size) if lean else _take(stream, batch_size, batch_wait_s)
        async for records in source:
            metrics.batch_started(service, records)
            timer = BATCH_SECONDS.labels(service=service).time()
            with timer, tracing.batch(service, records), logs.batch(service, records):
                outs = await runner.run(records)
            metrics.produced(service, outs)  # records out, outcomes, dead letters, end-to-end age

    app.agent(topic, name=f"{service}-agent")(agent)
    metrics.register_consumer_lag(service, lambda: partition_lags(app))
