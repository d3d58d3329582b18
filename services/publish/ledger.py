"""The delivery ledger: which deliveries a receiver (a broker, a webhook endpoint) has acknowledged.

A delivery id names one article version at one sink (``<sink>:<article id>:v<version>``). Publish checks
the ledger before it sends and records a delivery only after the receiver acknowledged it, so a
redelivered article (a rebalance, a restart, a re-driven dead letter) is not sent to that sink again.

One contract, two ledgers: :class:`RedisLedger` (shared by every publish replica, entries expiring after
``NEWSFLOW_DELIVERY_WINDOW_S``) and :class:`MemoryLedger` (one process: unit tests, tools);
``tests/integration/test_ledger_contract.py`` runs the same suite against both.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from redis.asyncio import Redis

from shared.models import DeliveryRecord
from shared.rebuild import StateNotReady, ready_key
from shared.records import OutRecord, model_record
from shared.settings import Settings

__all__ = ["DeliveryLedger", "Journal", "MemoryLedger", "RedisLedger", "delivery_record", "journaled"]


class DeliveryLedger(Protocol):
    async def delivered(self, ids: Sequence[str]) -> list[bool]:
        """For each id, in order: was it acknowledged (within the window)?"""
        ...

    async def record(self, ids: Sequence[str]) -> None:
        """Remember ``ids`` as acknowledged (idempotent)."""
        ...


Journal = Callable[[list[str]], Awaitable[None]]
"""Writes delivery ids to the log (``news.deliveries``) before the ledger remembers them."""


def journaled(delivery_id: str) -> bool:
    """True for the deliveries whose only trace is the ledger (a webhook endpoint, the live stream): they
    are journaled on ``news.deliveries``. A delivery to a Kafka topic is on that topic (its ``ce_id``)."""
    return delivery_id.startswith(("webhook/", "stream:"))


def delivery_record(settings: Settings, delivery_id: str) -> OutRecord:
    """The ``news.deliveries`` record of an acknowledged delivery (key: its id; CloudEvents headers)."""
    now = datetime.now(UTC)
    fact = DeliveryRecord(id=delivery_id, delivered_at=now)
    return model_record(settings.topics.deliveries, delivery_id, fact, event_type="delivery.acknowledged",
                        source=f"{settings.source_name}/publish", event_id=delivery_id, time=now)  # fmt: skip


class RedisLedger:
    """One key per delivery, ``<namespace>:<id>``, expiring after ``ttl_s``.

    ``gated``: :meth:`delivered` raises :class:`~shared.rebuild.StateNotReady` while ``<namespace>:ready``
    is missing (Redis lost the ledger, :mod:`services.publish.rebuild` has not rebuilt it yet): "not
    delivered" is never answered from a forgotten ledger. ``journal``: called with the :func:`journaled`
    ids before :meth:`record` stores them, so a rebuild finds them on the log.
    """

    def __init__(
        self, redis: Redis, *, namespace: str, ttl_s: int, gated: bool = False, journal: Journal | None = None
    ) -> None:
        self._redis = redis
        self._ns = namespace
        self._ttl = ttl_s
        self._gated = gated
        self._journal = journal

    def key(self, delivery_id: str) -> str:
        return f"{self._ns}:{delivery_id}"

    async def delivered(self, ids: Sequence[str]) -> list[bool]:
        if not ids:
            return []
        async with self._redis.pipeline(transaction=self._gated) as pipe:
            if self._gated:
                pipe.exists(ready_key(self._ns))
            for i in ids:
                pipe.exists(self.key(i))
            found = [bool(x) for x in await pipe.execute()]
        if self._gated and not found.pop(0):
            raise StateNotReady(f"{self._ns}: the delivery ledger is not in Redis (rebuild it)")
        return found

    async def record(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        if self._journal is not None:
            logged = [i for i in ids if journaled(i)]
            if logged:
                await self._journal(logged)
        async with self._redis.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.set(self.key(i), b"1", ex=self._ttl)
            await pipe.execute()


@dataclass
class MemoryLedger:
    """The same contract in one process; entries expire after ``ttl_s`` on a monotonic clock."""

    ttl_s: float
    clock: Callable[[], float] = time.monotonic
    entries: dict[str, float] = field(default_factory=dict)

    def _now(self) -> float:
        return self.clock()

    async def delivered(self, ids: Sequence[str]) -> list[bool]:
        now = self._now()
        return [self.entries.get(i, -1.0) > now for i in ids]

    async def record(self, ids: Sequence[str]) -> None:
        until = self._now() + self.ttl_s
        for i in ids:
            self.entries[i] = until
