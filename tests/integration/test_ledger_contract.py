"""One delivery-ledger contract, two ledgers: ``MemoryLedger`` and ``RedisLedger`` on the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from services.publish.ledger import DeliveryLedger, MemoryLedger, RedisLedger
from shared.redis_client import delete_namespace

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def make_ledger(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Callable[..., DeliveryLedger]]:
    ns = f"nftest:ledger:{uuid.uuid4().hex[:12]}"
    clients: list[Redis] = []
    memory: dict[float, MemoryLedger] = {}

    def make(ttl_s: int = 3600, clock: Clock | None = None) -> DeliveryLedger:
        if request.param == "memory":
            if ttl_s not in memory:
                memory[ttl_s] = MemoryLedger(ttl_s, clock=clock or Clock())
            return memory[ttl_s]
        client = Redis.from_url(redis_url)  # each call: another replica's connection, same state
        clients.append(client)
        return RedisLedger(client, namespace=ns, ttl_s=ttl_s)

    yield make
    if clients:
        await delete_namespace(clients[0], ns)
    for c in clients:
        await c.aclose()


async def test_nothing_is_delivered_until_recorded(make_ledger) -> None:
    ledger = make_ledger()
    ids = ["by-language/news.lang.en:nf_1:v1", "webhook/jp:nf_1:v1"]
    assert await ledger.delivered(ids) == [False, False]
    await ledger.record(ids[:1])
    assert await ledger.delivered(ids) == [True, False]


async def test_recording_is_idempotent_and_versions_are_separate(make_ledger) -> None:
    ledger = make_ledger()
    await ledger.record(["s:nf_1:v1"])
    await ledger.record(["s:nf_1:v1"])
    assert await ledger.delivered(["s:nf_1:v1", "s:nf_1:v2"]) == [True, False]


async def test_every_replica_sees_a_delivery(make_ledger) -> None:
    a, b = make_ledger(), make_ledger()
    await a.record(["s:nf_9:v1"])
    assert await b.delivered(["s:nf_9:v1"]) == [True]


async def test_empty_calls(make_ledger) -> None:
    ledger = make_ledger()
    assert await ledger.delivered([]) == []
    await ledger.record([])


async def test_entries_expire_after_the_window(make_ledger, request) -> None:
    if "redis" in request.node.callspec.id:
        ledger = make_ledger(ttl_s=1)
        await ledger.record(["s:nf_t:v1"])
        ttl = await ledger._redis.pttl(ledger.key("s:nf_t:v1"))
        assert 0 < ttl <= 1000
        return
    clock = Clock()
    ledger = make_ledger(ttl_s=10, clock=clock)
    await ledger.record(["s:nf_t:v1"])
    clock.now += 9
    assert await ledger.delivered(["s:nf_t:v1"]) == [True]
    clock.now += 2
    assert await ledger.delivered(["s:nf_t:v1"]) == [False]
