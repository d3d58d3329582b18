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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

__all__ = ["DeliveryLedger", "MemoryLedger", "RedisLedger"]


class DeliveryLedger(Protocol):
    async def delivered(self, ids: Sequence[str]) -> list[bool]:
        """For each id, in order: was it acknowledged (within the window)?"""
        ...

    async def record(self, ids: Sequence[str]) -> None:
        """Remember ``ids`` as acknowledged (idempotent)."""
        ...


class RedisLedger:
    """One key per delivery, ``<namespace>:<id>``, expiring after ``ttl_s``."""

    def __init__(self, redis: Redis, *, namespace: str, ttl_s: int) -> None:
        self._redis = redis
        self._ns = namespace
        self._ttl = ttl_s

    def key(self, delivery_id: str) -> str:
        return f"{self._ns}:{delivery_id}"

    async def delivered(self, ids: Sequence[str]) -> list[bool]:
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.exists(self.key(i))
            return [bool(x) for x in await pipe.execute()]

    async def record(self, ids: Sequence[str]) -> None:
        if not ids:
            return
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
