"""A partial loss: Redis fails over to a replica that lagged (the ready key is there, the last writes are
not). Ingest notices it at the next batch, rebuilds, and a copy of an article decided in the lost writes
is still a duplicate.

Real broker and Redis: the raw records and ingest's outputs are on the topics; the "failover" restores a
snapshot of the namespace (``DUMP`` / ``RESTORE``) taken before the second batch was decided.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import orjson
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from services.ingest.bootstrap import build_handler, minhash_params
from services.ingest.rebuild import dedup_rebuild
from shared.kafka import make_producer
from shared.rebuild import StateGate, applied_key
from shared.records import InRecord, OutRecord
from shared.redis_replies import reply_bytes
from shared.settings import Settings

pytestmark = pytest.mark.integration


def _article(i: int) -> bytes:
    rnd = random.Random(i)
    words = " ".join("".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(3, 9)))
                     for _ in range(120))  # fmt: skip
    return orjson.dumps({"title": f"Report {i}", "body": f"Report number {i}. {words}.",
                         "url": f"https://news.example.org/{i}", "source": "Ex"})  # fmt: skip


async def _produce(settings: Settings, outs: Iterable[OutRecord | tuple[str, int, bytes]]) -> list[InRecord]:
    """Produce ``outs`` (records, or (topic, partition, value)); the records as a consumer reads them."""
    producer = make_producer(settings)
    await producer.start()
    try:
        got: list[InRecord] = []
        for o in outs:
            if isinstance(o, OutRecord):
                meta = await (await producer.send(o.topic, o.value, key=o.key, headers=list(o.headers.items())))
                continue
            topic, partition, value = o
            meta = await (await producer.send(topic, value, partition=partition))
            got.append(InRecord(topic, partition, meta.offset, None, value, {}, meta.timestamp))
        return got
    finally:
        await producer.stop()


async def test_a_failover_to_a_replica_that_lagged_is_noticed_and_rebuilt(settings: Settings, redis: Redis) -> None:
    ns = settings.redis_key("dedup")
    raw = settings.topics.raw
    handler = build_handler(settings, redis=redis, gated=True)
    gate = StateGate(redis, ns, dedup_rebuild(settings, redis, handler.signer, minhash_params(settings)),
                     service="ingest", scope="dedup", settle_s=0, settings=settings)  # fmt: skip
    await gate.ensure()  # a new namespace: built from the (empty) log

    first = await _produce(settings, [(raw, 0, _article(i)) for i in range(5)])
    await _produce(settings, await gate.guard(handler.handle, first))
    snapshot: dict[bytes, tuple[bytes, int]] = {}  # the replica, lagging from here
    async for k in redis.scan_iter(match=f"{settings.redis_namespace}:*"):
        snapshot[k] = (reply_bytes(await redis.dump(k)), max(0, await redis.pttl(k)))
    second = await _produce(settings, [(raw, 0, _article(i)) for i in range(5, 10)])
    passed = await gate.guard(handler.handle, second)
    assert {o.topic for o in passed} == {settings.topics.ingested}
    await _produce(settings, passed)
    assert await redis.hget(applied_key(ns), f"{raw}/0") == b"9"

    for k in [k async for k in redis.scan_iter(match=f"{settings.redis_namespace}:*")]:
        await redis.delete(k)
    for k, (dumped, ttl) in snapshot.items():  # the failover: the ready key is there, the second batch is not
        await redis.restore(k, ttl, dumped)
    assert await redis.hget(applied_key(ns), f"{raw}/0") == b"4"

    before = REGISTRY.get_sample_value("newsflow_state_behind_total", {"service": "ingest", "scope": "dedup"}) or 0
    copies = [orjson.dumps({**orjson.loads(_article(i)), "url": f"https://copy.example.net/{i}"}) for i in (5, 6)]
    third = await _produce(settings, [(raw, 0, v) for v in [*copies, _article(20)]])
    outs = await gate.guard(handler.handle, third)
    t = settings.topics
    assert [o.topic for o in outs] == [t.duplicates, t.duplicates, t.ingested], [o.value[:200] for o in outs]
    after = REGISTRY.get_sample_value("newsflow_state_behind_total", {"service": "ingest", "scope": "dedup"})
    assert after == before + 1 and gate.rebuilds == 2
    assert await redis.hget(applied_key(ns), f"{raw}/0") == str(third[-1].offset).encode()

    # a gap that holds no record (partition 1 is empty: transaction markers, retention, offsets moved by hand)
    # is accepted, not rebuilt
    await redis.hset(applied_key(ns), f"{raw}/1", 3)
    late = InRecord(raw, 1, 10, None, _article(30), {}, third[-1].timestamp_ms)
    assert [o.topic for o in await gate.guard(handler.handle, [late])] == [t.ingested]
    assert gate.rebuilds == 2 and await redis.hget(applied_key(ns), f"{raw}/1") == b"10"
