"""Durable webhook deliveries in Redis: what is due, per endpoint, claimed with a lease.

Per endpoint (subscription id) a sorted set ``<ns>:due:<sub>`` scores each pending delivery by the time
(ms) it is due; ``<ns>:job:<id>`` holds the delivery (the enriched article bytes and where it was read).
:meth:`Outbox.claim` atomically takes the due ones and pushes their score a lease ahead, so a replica that
dies mid-attempt (SIGKILL) leaves them due again after the lease, for any replica; a restart picks them
up where they were. Enqueueing is idempotent: a replayed article does not add a second delivery.

The outbox is journaled on ``news.deliveries`` (:func:`outbox_record`): a delivery entering it
(``enqueued``, with the article, written before the Redis write) and one leaving it as a dead letter
(``dead_lettered``); its acknowledgement is the ledger's :class:`~shared.models.DeliveryRecord` under the
same key. When Redis loses the outbox, the deliveries whose latest record is ``enqueued`` are put back
(:func:`job_of`, by :mod:`services.publish.rebuild`), their retry schedule started again.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict
from redis.asyncio import Redis
from redis.typing import EncodableT

from shared.models import Origin, OutboxRecord
from shared.records import OutRecord, model_record
from shared.redis_replies import reply_bytes, reply_bytes_list, reply_int, reply_list, reply_scored
from shared.settings import Settings

__all__ = ["OUTBOX_EVENT", "Job", "JobOrigin", "Outbox", "OutboxJournal", "job_of", "outbox_record"]

OUTBOX_EVENT = "delivery.outbox"
"""The CloudEvents type (after ``io.newsflow.``) of an :class:`~shared.models.OutboxRecord`."""

OutboxJournal = Callable[[list[OutRecord]], Awaitable[None]]
"""Produces :func:`outbox_record` records (and waits for the broker's acknowledgement)."""

_ENQUEUE = """
local ns, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local jobs = cjson.decode(ARGV[4])
local added = 0
for i, j in ipairs(jobs) do
  local key = ns .. ':job:' .. j.id
  local due = ns .. ':due:' .. j.sub
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'sub', j.sub, 'article', j.article, 'version', j.version, 'value', ARGV[4 + i],
               'origin', j.origin, 'attempts', 0, 'created', now)
    redis.call('EXPIRE', key, ttl)
    redis.call('ZADD', due, 'NX', now, j.id)
    added = added + 1
  end
  redis.call('EXPIRE', due, ttl)
end
return added
"""

_CLAIM = """
local due, ns, now, lease, limit = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, id in ipairs(ids) do
  local job = redis.call('HGETALL', ns .. ':job:' .. id)
  if #job == 0 then
    redis.call('ZREM', due, id)  -- expired with the delivery window
  else
    redis.call('ZADD', due, 'XX', now + lease, id)
    table.insert(out, id)
    table.insert(out, job)
  end
end
return out
"""


class JobOrigin(BaseModel):
    """The ``news.enriched`` record a delivery came from, for its dead letter (and a re-drive)."""

    model_config = ConfigDict(frozen=True)

    topic: str
    partition: int
    offset: int
    key: str | None = None  # base64
    headers: dict[str, str] = {}


@dataclass(frozen=True)
class Job:
    """One webhook delivery: an article version to one endpoint."""

    id: str  # the webhook-id
    sub: str
    article: str
    version: int
    value: bytes  # the enriched article as read from news.enriched
    origin: JobOrigin
    attempts: int = 0
    last_status: int | None = None
    last_error: str = ""


def _job(job_id: str, flat: list[bytes]) -> Job:
    h = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
    status = h.get("last_status")
    return Job(
        id=job_id,
        sub=h["sub"].decode(),
        article=h["article"].decode(),
        version=int(h["version"]),
        value=h["value"],
        origin=JobOrigin.model_validate_json(h["origin"]),
        attempts=int(h.get("attempts", b"0")),
        last_status=int(status) if status else None,
        last_error=h.get("last_error", b"").decode(),
    )


def outbox_record(
    settings: Settings, delivery_id: str, job: Job, state: Literal["enqueued", "dead_lettered"]
) -> OutRecord:
    """The ``news.deliveries`` record of ``job`` (ledger id ``delivery_id``) entering the outbox or leaving it
    as a dead letter (key: the delivery id, as its acknowledgement's)."""
    now = datetime.now(UTC)
    o = job.origin
    fact = OutboxRecord(
        id=delivery_id, state=state, webhook_id=job.id, subscription=job.sub, article=job.article,
        version=job.version, origin=Origin(topic=o.topic, partition=o.partition, offset=o.offset),
        origin_key_b64=o.key, origin_headers=o.headers,
        value_b64=base64.b64encode(job.value).decode() if state == "enqueued" else None, at=now,
    )  # fmt: skip
    return model_record(settings.topics.deliveries, delivery_id, fact, event_type=OUTBOX_EVENT,
                        source=f"{settings.source_name}/publish", event_id=f"{delivery_id}:{state}:{_ms()}",
                        time=now)  # fmt: skip


def job_of(fact: OutboxRecord) -> Job | None:
    """The outbox job an ``enqueued`` record stands for (None for a dead letter's)."""
    if fact.state != "enqueued" or fact.value_b64 is None:
        return None
    o = fact.origin
    origin = JobOrigin(topic=o.topic, partition=o.partition, offset=o.offset, key=fact.origin_key_b64,
                       headers=fact.origin_headers)  # fmt: skip
    return Job(fact.webhook_id, fact.subscription, fact.article, fact.version, base64.b64decode(fact.value_b64),
               origin)  # fmt: skip


def _ms(t: float | None = None) -> int:
    return int((time.time() if t is None else t) * 1000)


class Outbox:
    def __init__(self, redis: Redis, *, namespace: str, ttl_s: int) -> None:
        self._redis = redis
        self._ns = namespace
        self._ttl = ttl_s
        self._enqueue = redis.register_script(_ENQUEUE)
        self._claim = redis.register_script(_CLAIM)

    def due_key(self, sub: str) -> str:
        return f"{self._ns}:due:{sub}"

    def job_key(self, job_id: str) -> str:
        return f"{self._ns}:job:{job_id}"

    async def enqueue(self, jobs: list[Job]) -> int:
        """Add deliveries not already pending; the number added."""
        if not jobs:
            return 0
        meta = [
            {
                "id": j.id,
                "sub": j.sub,
                "article": j.article,
                "version": j.version,
                "origin": j.origin.model_dump_json(),
            }
            for j in jobs
        ]
        args: list[EncodableT] = [self._ns, _ms(), self._ttl, orjson.dumps(meta), *(j.value for j in jobs)]
        return reply_int(await self._enqueue(keys=[], args=args))

    async def claim(self, sub: str, limit: int, lease_s: float) -> list[Job]:
        raw = await self._claim(keys=[self.due_key(sub)], args=[self._ns, _ms(), int(lease_s * 1000), limit])
        flat = reply_list(raw)  # id, its HGETALL (flat), id, ...
        return [_job(reply_bytes(flat[i]).decode(), reply_bytes_list(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def finish(self, job: Job) -> None:
        """The delivery is settled (acknowledged, or dead-lettered): forget it."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.due_key(job.sub), job.id)
            pipe.delete(self.job_key(job.id))
            await pipe.execute()

    async def reschedule(self, job: Job, *, delay_s: float, status: int | None, error: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self.job_key(job.id),
                mapping={"attempts": job.attempts + 1, "last_status": status or "", "last_error": error[:500]},
            )
            pipe.zadd(self.due_key(job.sub), {job.id: _ms(time.time() + delay_s)}, xx=True)
            await pipe.execute()

    async def pending(self, sub: str) -> int:
        return await self._redis.zcard(self.due_key(sub))

    async def next_due_s(self, sub: str) -> float | None:
        """Seconds until the endpoint's next due delivery (<= 0: due now), None when none is pending."""
        first = reply_scored(await self._redis.zrange(self.due_key(sub), 0, 0, withscores=True))
        return (first[0][1] / 1000 - time.time()) if first else None
