"""A lean event path inside the Faust worker: a topic's fetched records go to its agent in bulk.

Faust delivers every record on its own: the fetch loop awaits ``wait_first`` (four tasks) per
message, the conductor decodes it into an ``Event`` and queues it to the stream, the stream hands it
to ``take_events``, and each event is acked on its own: about 250 µs of CPU per record on these
machines, more than ingest's own work. For a topic read through :func:`batches`, the worker's fetch
loop (Faust's own consumer, its group, assignment and commit loop) hands each fetched run of a
partition's records to the agent as one list instead; other topics keep Faust's path.

What stays as Faust does it, so the guarantees do not change:

- every record is tracked as unacknowledged (``track_message``) when fetched, so a rebalance or a
  shutdown waits for the batch in flight (``wait_empty``) as it waits for a stream's events;
- a batch's records are acknowledged only when the agent asks for the next batch, that is after the
  loop body produced its outputs and the broker acknowledged them; Faust's commit loop commits the
  acknowledged offsets (contiguous per partition), so a committed offset never runs ahead of an
  output;
- a batch fetched before a rebalance (an older consumer generation) is never acknowledged: its
  partitions may be someone else's now, or were sought back to the committed offset. Its records are
  redelivered (at-least-once; the handlers are idempotent on replay). Batches still queued when a
  rebalance starts (Faust stops the flow) are dropped unhandled, as Faust clears its streams' buffers,
  so the rebalance waits only for the batch in flight;
- reading resumes where Faust's bookkeeping says (``_read_offset``, gaps, ``flow_active``,
  ``perform_seek`` after a rebalance), as in Faust's ``Consumer._drain_messages``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import MethodType
from typing import Any, cast

import faust
from faust.transport.consumer import Consumer
from faust.types import TP, Message

from .events import header_dict
from .records import InRecord

__all__ = ["Batch", "batches", "message_record"]

log = logging.getLogger(__name__)

_QUEUE_BATCHES = 4  # fetched runs waiting per topic: bounds memory, and is the fetch loop's backpressure
# Faust hard-codes aiokafka's fetch_max_wait_ms=1500. Tansu (the embedded broker) holds a fetch for a good
# part of that even when records arrive meanwhile: a record waited 338 ms (p50) per hop at 1500, 3 ms at
# 100 (measured on Tansu 0.6.0). Apache Kafka answers as soon as a record arrives either way; an idle
# consumer then asks ten times a second instead of once in 1.5 s.
FETCH_MAX_WAIT_MS = 100


@dataclass(frozen=True)
class Batch:
    """One fetched run of records of one partition, in offset order."""

    generation: int
    messages: list[Message]


def message_record(msg: Message) -> InRecord:
    """The transport-neutral record of a consumed Faust message."""
    return InRecord(
        topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        key=msg.key,
        value=msg.value,
        headers=header_dict(msg.headers),
        timestamp_ms=int(msg.timestamp * 1000) if msg.timestamp else None,
    )


class _Sinks:
    """The bulk topics of one app: topic name -> queue of fetched batches."""

    def __init__(self) -> None:
        self.queues: dict[str, asyncio.Queue[Batch]] = {}

    def queue(self, topic: str) -> asyncio.Queue[Batch]:
        return self.queues.setdefault(topic, asyncio.Queue(maxsize=_QUEUE_BATCHES))


def _sinks(app: faust.App) -> _Sinks:
    sinks = app.__dict__.get("_newsflow_bulk")
    if sinks is None:
        sinks = app.__dict__["_newsflow_bulk"] = _Sinks()
    return cast(_Sinks, sinks)


async def _drain(self: Consumer, fetcher: Any) -> None:
    """Faust's ``Consumer._drain_messages`` with one queue put per fetched run for bulk topics."""
    app = self.app
    queues = _sinks(cast(faust.App, app)).queues
    callback = self.callback
    read_offset = self._read_offset
    consumer_stopped = self._stopped.is_set
    fetcher_stopped = fetcher._stopped.is_set
    acks_enabled_for = app.topics.acks_enabled_for
    to_message = self._to_message
    track = self.track_message
    _shorten_fetch_wait(self)
    try:
        while not (consumer_stopped() or fetcher_stopped()):
            await asyncio.sleep(0)
            records, active = await self._wait_next_records(1.0)
            if not records or self.should_stop:
                continue
            if not self.flow_active:  # a rebalance started after the fetch: Faust seeks back, so do we
                await self.perform_seek()
                continue
            generation = app.consumer_generation_id
            for tp, recs in records.items():
                if active is not None and tp not in active and tp not in self._buffered_partitions:
                    continue
                if app.consumer_generation_id != generation:
                    break
                queue = queues.get(tp.topic)
                if queue is None:  # not a bulk topic: Faust's own path, one message at a time
                    await _deliver_each(self, tp, recs, callback)
                    continue
                start = read_offset[tp]
                msgs: list[Message] = []
                for rec in recs:
                    if start is not None and rec.offset < start:
                        continue  # already read (Faust drops these too)
                    last = msgs[-1].offset if msgs else start
                    if last and rec.offset - last > 1 and acks_enabled_for(tp.topic):
                        await self._add_gap(tp, last + 1, rec.offset)  # compacted away or a control record
                    msg = to_message(tp, rec)
                    track(msg)
                    msgs.append(msg)
                if not msgs:
                    continue
                read_offset[tp] = msgs[-1].offset
                app.monitor.track_tp_end_offset(tp, self.highwater(tp))
                await queue.put(Batch(generation, msgs))
            commit_every = self._commit_every
            if commit_every is not None and self._n_acked >= commit_every:
                self._n_acked = 0
                await self.commit()
    except self.consumer_stopped_errors:
        if app.should_stop:
            return
        raise
    except asyncio.CancelledError:
        if app.should_stop:
            return
        raise


async def _deliver_each(self: Consumer, tp: TP, recs: Sequence[Any], callback: Callable[[Message], Any]) -> None:
    """The records of a topic that is not read in bulk, through Faust's conductor as usual."""
    read_offset = self._read_offset
    for rec in recs:
        r_offset = read_offset[tp]
        if r_offset is not None and rec.offset < r_offset:
            continue
        if r_offset and rec.offset - r_offset > 1 and self.app.topics.acks_enabled_for(tp.topic):
            await self._add_gap(tp, r_offset + 1, rec.offset)
        await self.wait_first(callback(self._to_message(tp, rec)), self.suspend_flow.wait())
        read_offset[tp] = rec.offset


def _shorten_fetch_wait(consumer: Consumer) -> None:
    """Faust's aiokafka consumer, fetching with :data:`FETCH_MAX_WAIT_MS` (no Faust setting for it)."""
    fetcher = getattr(getattr(getattr(consumer, "_thread", None), "_consumer", None), "_fetcher", None)
    if fetcher is not None and hasattr(fetcher, "_fetch_max_wait_ms"):
        fetcher._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
    else:
        log.warning("bulk: Faust's aiokafka fetcher not found; fetches wait up to Faust's 1.5 s")


def _install(app: faust.App) -> None:
    """Make the worker's fetch loop the bulk one (idempotent; before the first assignment starts it)."""
    consumer = cast(Consumer, app.consumer)
    if getattr(consumer._drain_messages, "__func__", None) is not _drain:
        consumer._drain_messages = MethodType(_drain, consumer)  # type: ignore[method-assign]  # Faust has no hook for its fetch loop


async def batches(app: faust.App, topic: faust.TopicT, max_records: int) -> AsyncIterator[list[InRecord]]:
    """Batches of up to ``max_records`` records of ``topic``: what is fetched, without waiting to fill one.

    The records of a batch are acknowledged when the next batch is asked for, as Faust's
    ``take_events`` acks a batch's events: after the loop body handled it and produced its outputs.
    A batch of an older consumer generation is never acknowledged (see the module's docstring).
    """
    (name,) = topic.topics
    queue = _sinks(app).queue(name)
    _install(app)
    consumer = cast(Consumer, app.consumer)
    held: Batch | None = None
    while True:
        first, held = held or await queue.get(), None
        generation, messages = first.generation, list(first.messages)
        while len(messages) < max_records and not queue.empty():  # coalesce runs already fetched
            nxt = queue.get_nowait()
            if nxt.generation != generation:
                held = nxt
                break
            messages += nxt.messages
        for i in range(0, len(messages), max_records):
            chunk = messages[i : i + max_records]
            if generation == app.consumer_generation_id and consumer.flow_active:
                yield [message_record(m) for m in chunk]
                if generation == app.consumer_generation_id:
                    for m in chunk:
                        consumer.ack(m)
                    continue
            # a rebalance (or a shutdown) is under way or happened since the fetch: not handled, or not
            # acked if it was, and no longer waited for; the partition's next owner gets these records again
            for m in chunk:
                consumer._unacked_messages.discard(m)
