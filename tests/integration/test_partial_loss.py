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
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from services.ingest.bootstrap import build_handler, minhash_params
from services.ingest.dedup import past_dead_letters
from services.ingest.handler import IngestHandler
from services.ingest.rebuild import dedup_rebuild
from shared.kafka import aiokafka_kwargs, make_producer
from shared.rebuild import StateGate, applied_key, committed_offsets, ready_key
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


def _gate(settings: Settings, redis: Redis, handler: IngestHandler) -> StateGate:
    return StateGate(
        redis, settings.redis_key("dedup"), dedup_rebuild(settings, redis, handler.signer, minhash_params(settings)),
        service="ingest", scope="dedup", settle_s=0, settings=settings,
        committed=lambda: committed_offsets(settings, settings.group_id("ingest"), [settings.topics.raw]),
        companions=[ready_key(settings.redis_key("delivered")), ready_key(settings.redis_key("story"))],
    )  # fmt: skip


def _behind() -> float:
    return REGISTRY.get_sample_value("newsflow_state_behind_total", {"service": "ingest", "scope": "dedup"}) or 0.0


async def _failover(settings: Settings, redis: Redis, gate: StateGate, handler: IngestHandler) -> list[InRecord]:
    """Two batches of five articles on raw partition 0 decided and their outputs produced; then Redis is the
    replica that has the first batch's writes only. The second batch's raw records."""
    ns = settings.redis_key("dedup")
    raw = settings.topics.raw
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
    return second


async def test_a_batch_after_the_lost_writes_notices_them_and_waits_for_the_rebuild(
    settings: Settings, redis: Redis
) -> None:
    ns = settings.redis_key("dedup")
    raw = settings.topics.raw
    handler = build_handler(settings, redis=redis, gated=True)
    gate = _gate(settings, redis, handler)
    await _failover(settings, redis, gate, handler)
    before = _behind()
    others = [ready_key(settings.redis_key("delivered")), ready_key(settings.redis_key("story"))]
    for key in others:  # publish's and enrich's states in the same Redis, ready after the failover
        await redis.set(key, b"1")
    copies = [orjson.dumps({**orjson.loads(_article(i)), "url": f"https://copy.example.net/{i}"}) for i in (5, 6)]
    third = await _produce(settings, [(raw, 0, v) for v in [*copies, _article(20)]])
    outs = await gate.guard(handler.handle, third)
    t = settings.topics
    assert [o.topic for o in outs] == [t.duplicates, t.duplicates, t.ingested], [o.value[:200] for o in outs]
    assert _behind() == before + 1 and gate.rebuilds == 2
    assert not await redis.exists(*others)  # they lost their last writes too: their workers rebuild them
    assert await redis.hget(applied_key(ns), f"{raw}/0") == str(third[-1].offset).encode()

    # a gap that holds no record (partition 1 is empty: transaction markers, retention, offsets moved by hand)
    # is accepted, not rebuilt
    await redis.hset(applied_key(ns), f"{raw}/1", 3)
    late = InRecord(raw, 1, 10, None, _article(30), {}, third[-1].timestamp_ms)
    assert [o.topic for o in await gate.guard(handler.handle, [late])] == [t.ingested]
    assert gate.rebuilds == 2 and await redis.hget(applied_key(ns), f"{raw}/1") == b"10"


async def test_the_timer_notices_lost_writes_before_a_copy_on_another_partition_is_decided(
    settings: Settings, redis: Redis
) -> None:
    """The lost writes are on partition 0; a copy of one of their articles arrives on partition 1, whose own
    offsets show no gap. The state check compares every partition with the group's committed offsets."""
    handler = build_handler(settings, redis=redis, gated=True)
    gate = _gate(settings, redis, handler)
    second = await _failover(settings, redis, gate, handler)
    consumer = AIOKafkaConsumer(**aiokafka_kwargs(settings), group_id=settings.group_id("ingest"),
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        tp = TopicPartition(settings.topics.raw, 0)
        consumer.assign([tp])
        await consumer.commit({tp: second[-1].offset + 1})  # the group committed the second batch
    finally:
        await consumer.stop()
    before = _behind()
    await gate.check_behind()
    assert _behind() == before + 1 and not await gate.is_ready()
    copy = orjson.dumps({**orjson.loads(_article(7)), "url": "https://copy.example.net/7"})
    [rec] = await _produce(settings, [(settings.topics.raw, 1, copy)])
    [out] = await gate.guard(handler.handle, [rec])
    assert out.topic == settings.topics.duplicates and gate.rebuilds == 2
    await gate.check_behind()  # rebuilt: nothing behind any more
    assert _behind() == before + 1 and await gate.is_ready()


async def test_a_record_dead_lettered_for_a_handler_failure_leaves_no_gap(settings: Settings, redis: Redis) -> None:
    """The batch loop dead-letters a record the handler failed on alone for good: its offset is recorded
    all the same, so the next batch on that partition is not taken for lost writes (no rebuild)."""
    handler = build_handler(settings, redis=redis, gated=True)
    gate = _gate(settings, redis, handler)
    await gate.ensure()
    raw = settings.topics.raw
    recs = await _produce(settings, [(raw, 0, _article(40 + i)) for i in range(3)])
    await gate.guard(handler.handle, recs[:1])

    async def broken(records: list[InRecord]) -> list[OutRecord]:
        raise ValueError("a bug on this record")

    with pytest.raises(ValueError):
        await past_dead_letters(broken, handler.store)(recs[1:2])  # the loop then dead-letters it
    assert await redis.hget(applied_key(settings.redis_key("dedup")), f"{raw}/0") == str(recs[1].offset).encode()
    before = _behind()
    [out] = await gate.guard(handler.handle, recs[2:])
    assert out.topic == settings.topics.ingested and gate.rebuilds == 1 and _behind() == before
