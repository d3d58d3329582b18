"""Produce to and read from the real broker in tests (aiokafka, no newsflow code paths)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.clients import topic_partitions
from shared.settings import Settings


@dataclass(frozen=True)
class Got:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


async def produce(
    settings: Settings,
    values: list[bytes],
    topic: str | None = None,
    keys: list[bytes] | None = None,
    partition: int | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        futs = [
            await producer.send(topic or settings.topics.raw, v, key=keys[i] if keys else None, partition=partition)
            for i, v in enumerate(values)
        ]
        await asyncio.gather(*futs)
    finally:
        await producer.stop()


async def collect(
    settings: Settings, topics: list[str], *, count: int, timeout_s: float = 60.0, settle_s: float = 0.0
) -> list[Got]:
    """Read ``topics`` from the beginning until ``count`` records arrived (or timeout).

    ``settle_s`` keeps reading that long after ``count`` is reached, so extra
    (duplicated) records would be seen too.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False, group_id=None)
    await consumer.start()
    got: list[Got] = []
    try:
        tps: list[TopicPartition] = []
        for t in topics:
            tps += await topic_partitions(consumer, t, timeout_s=timeout_s)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        settle_until: float | None = None
        while time.monotonic() < deadline:
            if len(got) >= count:
                settle_until = settle_until or time.monotonic() + settle_s
                if time.monotonic() >= settle_until:
                    break
            batch = await consumer.getmany(timeout_ms=200)
            for tp, msgs in batch.items():
                got += [Got(tp.topic, tp.partition, m.offset, m.key, m.value, dict(m.headers or [])) for m in msgs]
    finally:
        await consumer.stop()
    return got
