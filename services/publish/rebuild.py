"""Rebuild publish's delivery ledger from the log, after Redis lost it.

A delivery to a Kafka sink is on that sink's topic: its ``ce_id`` header is the delivery id
(``<sink>:<article id>:v<version>``, ``ce_type`` ``article.published``). A delivery to a webhook
endpoint or to the live stream leaves no record of its own, so publish journals it on the compacted
``news.deliveries`` (key: the delivery id) before its ledger entry is written
(:class:`~services.publish.ledger.RedisLedger`'s ``journal``). From both, for the delivery window, this
writes the ledger's keys again, each expiring when the original would have (the record's timestamp plus
the window). The routed topics are the routing file's (a ``{language}``-style template matches every
topic it can expand to) and the Kafka subscriptions' topics.

The webhook outbox is journaled on ``news.deliveries`` too (:func:`~services.publish.outbox.outbox_record`):
a delivery whose latest record there is ``enqueued`` (neither acknowledged nor dead-lettered since) was
pending when the outbox was lost, and is put back into it, due at once (its retry schedule starts again).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass, field

import orjson
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError
from redis.asyncio import Redis

from shared.models import OutboxRecord
from shared.rebuild import Progress, Rebuild, apply_all, read_log, remaining_s
from shared.records import InRecord
from shared.settings import Settings

from .outbox import OUTBOX_EVENT, Job, Outbox, job_of
from .routing import topic_matches

__all__ = ["LedgerRebuilder", "ledger_rebuild", "routed_topics"]

_PUBLISHED = "io.newsflow.article.published"
_OUTBOX = f"io.newsflow.{OUTBOX_EVENT}"
_WRITE = """
for _, e in ipairs(cjson.decode(ARGV[2])) do redis.call('SET', ARGV[1] .. ':' .. e[1], '1', 'EX', e[2]) end
return 1
"""


def routed_topics(existing: Iterable[str], templates: Iterable[str]) -> list[str]:
    """The ``existing`` topics a route template (``news.published.lang.{language}``) or a plain topic names."""
    patterns = list(templates)
    return sorted(t for t in existing if any(topic_matches(p, t) for p in patterns))


@dataclass
class LedgerRebuilder:
    """Writes the ledger's keys for batches of routed-topic and ``news.deliveries`` records."""

    redis: Redis
    namespace: str
    ttl_s: int
    deliveries_topic: str
    outbox: Outbox | None = None  # None: the outbox is not put back
    now_s: float = field(default_factory=time.time)
    written: int = 0
    pending: dict[str, Job] = field(default_factory=dict)  # delivery id -> its job, while its latest record is enqueued

    def delivery_id(self, rec: InRecord) -> str | None:
        if rec.topic == self.deliveries_topic:
            did = rec.key.decode(errors="replace") if rec.key else None
            if did is not None and rec.headers.get("ce_type") == _OUTBOX:
                self._outbox_entry(did, rec)
                return None  # enqueued or dead-lettered: not acknowledged
            if did is not None:
                self.pending.pop(did, None)  # acknowledged
            return did
        if rec.headers.get("ce_type") != _PUBLISHED:
            return None
        return rec.headers.get("ce_id") or None

    def _outbox_entry(self, did: str, rec: InRecord) -> None:
        try:
            job = job_of(OutboxRecord.model_validate_json(rec.value or b""))
        except ValidationError:
            return
        if job is None:
            self.pending.pop(did, None)  # dead-lettered
        else:
            self.pending[did] = job

    def __post_init__(self) -> None:
        self._script = self.redis.register_script(_WRITE)

    async def apply(self, records: list[InRecord]) -> None:
        """One script call per batch (a redis-py pipeline parses replies at about 5,000/s)."""
        entries: list[tuple[str, int]] = []
        for rec in records:
            did = self.delivery_id(rec)
            ttl = remaining_s(rec, self.ttl_s, self.now_s)
            if did is not None and ttl > 0:
                entries.append((did, ttl))
        for i in range(0, len(entries), 1000):
            chunk = entries[i : i + 1000]
            await self._script(keys=[], args=[self.namespace, orjson.dumps(chunk)])
            self.written += len(chunk)

    async def run(self, batches: AsyncIterable[list[InRecord]]) -> int:
        read = await apply_all(batches, self.apply)
        if self.outbox is not None and self.pending:  # once every acknowledgement in the window is read
            jobs = list(self.pending.values())
            for i in range(0, len(jobs), 500):
                await self.outbox.enqueue(jobs[i : i + 500])  # idempotent: a job still in the outbox stays as it is
        return read


async def _existing_topics(settings: Settings) -> list[str]:
    from shared.kafka import aiokafka_kwargs

    admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=15000)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


def ledger_rebuild(settings: Settings, redis: Redis, sink_topics: Callable[[], list[str]]) -> Rebuild:
    """The rebuild of ``settings``' delivery ledger; ``sink_topics()``: the routes' topic templates and the
    Kafka subscriptions' topics, asked when the rebuild starts."""

    async def rebuild(progress: Progress) -> int:
        outbox = Outbox(redis, namespace=settings.redis_key("webhooks"), ttl_s=settings.delivery_window_s)
        builder = LedgerRebuilder(
            redis, settings.redis_key("delivered"), settings.delivery_window_s, settings.topics.deliveries, outbox
        )
        topics = [settings.topics.deliveries, *routed_topics(await _existing_topics(settings), sink_topics())]
        since_ms = int((builder.now_s - settings.delivery_window_s) * 1000)
        return await builder.run(read_log(settings, topics, since_ms, progress))

    return rebuild
