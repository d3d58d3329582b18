"""The rebuild machinery on the real broker and Redis: the log reader, the shared lease, restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Literal

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from services.publish.ledger import delivery_record
from services.publish.outbox import Job, JobOrigin, Outbox, outbox_record
from services.publish.rebuild import LedgerRebuilder
from shared.rebuild import Progress, StateGate, StateNotReady, read_log, ready_key
from shared.records import InRecord
from shared.settings import Settings

from ..kafkautil import produce

pytestmark = pytest.mark.integration


async def test_the_log_reader_reads_every_partition_to_its_high_water_mark(settings: Settings) -> None:
    topic = settings.topics.ingested
    await produce(settings, [f"r{i}".encode() for i in range(300)], topic, keys=[f"k{i}".encode() for i in range(300)])
    progress = Progress()
    got = [r async for batch in read_log(settings, [topic, "no.such.topic"], 0, progress) for r in batch]
    assert sorted(r.value or b"" for r in got) == sorted(f"r{i}".encode() for i in range(300))
    assert len({r.partition for r in got}) > 1 and progress.done == 300 and progress.total == 300
    later = int(time.time() * 1000) + 60_000  # nothing stamped this late: every record is before the window
    assert [r async for batch in read_log(settings, [topic], later) for r in batch] == []


async def test_one_rebuild_for_every_waiting_process(settings: Settings, redis: Redis) -> None:
    ns = settings.redis_key("gate")
    calls: list[int] = []

    async def rebuild(progress: Progress) -> int:
        calls.append(1)
        await asyncio.sleep(0.5)
        await redis.set(f"{ns}:fact", b"1")
        return 7

    gates = [StateGate(Redis.from_url(settings.redis_url), ns, rebuild, service=f"s{i}", scope="t", poll_s=0.05)
             for i in range(3)]  # fmt: skip
    await asyncio.gather(*(g.ensure() for g in gates))
    assert len(calls) == 1 and await redis.exists(ready_key(ns)) and await redis.get(f"{ns}:fact") == b"1"
    assert sum(g.rebuilds for g in gates) == 1 and all(g.status() == "ok" for g in gates)


async def test_an_interrupted_rebuild_is_done_again_and_a_loss_during_it_starts_it_over(
    settings: Settings, redis: Redis
) -> None:
    ns = settings.redis_key("gate")
    attempts: list[str] = []

    async def rebuild(progress: Progress) -> int:
        attempts.append("x")
        if len(attempts) == 1:
            raise ConnectionError("crashed halfway")
        if len(attempts) == 2:
            await redis.delete(f"{ns}:rebuild:epoch")  # Redis lost everything again meanwhile
        return 0

    gate = StateGate(redis, ns, rebuild, service="s", scope="t", poll_s=0.05)
    with pytest.raises(ConnectionError):
        await gate.ensure()
    assert not await redis.exists(f"{ns}:rebuild:lease")  # released: the next one need not wait for it
    await gate.ensure()
    assert len(attempts) == 3 and await redis.exists(ready_key(ns))

    async def decide(n: int) -> int:
        if not await redis.exists(ready_key(ns)):
            raise StateNotReady(ns)
        return n

    await redis.delete(ready_key(ns))
    assert await gate.guard(decide, 5) == 5 and len(attempts) == 4


async def test_the_ledger_is_rebuilt_from_ce_ids_and_the_deliveries_journal(settings: Settings, redis: Redis) -> None:
    ns = settings.redis_key("delivered")
    now_ms = int(time.time() * 1000)
    pub = {"ce_type": "io.newsflow.article.published", "ce_id": "by-language:a1:v2"}
    log = [
        InRecord("news.published.lang.en", 0, 0, b"a1", b"{}", pub, now_ms),
        InRecord("news.published.lang.en", 0, 1, b"a2", b"{}", {"ce_id": "not-ours"}, now_ms),
        InRecord(settings.topics.deliveries, 0, 0, b"webhook/desk:a1:v2", b"{}", {}, now_ms),
        InRecord(settings.topics.deliveries, 0, 1, b"stream:a9:v1", b"{}", {}, now_ms - 10**12),  # out of window
    ]
    builder = LedgerRebuilder(redis, ns, settings.delivery_window_s, settings.topics.deliveries)

    async def batches() -> AsyncIterator[list[InRecord]]:
        yield log

    assert await builder.run(batches()) == 4 and builder.written == 2
    assert await redis.exists(f"{ns}:by-language:a1:v2", f"{ns}:webhook/desk:a1:v2") == 2


async def test_the_outbox_gets_back_the_deliveries_whose_latest_journal_record_is_enqueued(
    settings: Settings, redis: Redis
) -> None:
    """Per delivery id, the latest record decides: enqueued (put back), acknowledged or dead-lettered (not);
    enqueued again after a dead letter (a re-drive): put back."""
    outbox = Outbox(redis, namespace=settings.redis_key("webhooks"), ttl_s=3600)
    now_ms = int(time.time() * 1000)

    def job(article: str) -> Job:
        return Job(f"msg_{article}_v1_desk", "desk", article, 1, b'{"id": "%s"}' % article.encode(),
                   JobOrigin(topic=settings.topics.enriched, partition=0, offset=7))  # fmt: skip

    def entry(offset: int, article: str, state: Literal["enqueued", "dead_lettered"]) -> InRecord:
        out = outbox_record(settings, f"webhook/desk:{article}:v1", job(article), state)
        headers = {k: v.decode() for k, v in out.headers.items()}
        return InRecord(settings.topics.deliveries, 0, offset, out.key, out.value, headers, now_ms)

    def ack(offset: int, article: str) -> InRecord:
        out = delivery_record(settings, f"webhook/desk:{article}:v1")
        headers = {k: v.decode() for k, v in out.headers.items()}
        return InRecord(settings.topics.deliveries, 0, offset, out.key, out.value, headers, now_ms)

    log = [entry(0, "pending", "enqueued"), entry(1, "acked", "enqueued"), ack(2, "acked"),
           entry(3, "dead", "enqueued"), entry(4, "dead", "dead_lettered"), entry(5, "redriven", "enqueued"),
           entry(6, "redriven", "dead_lettered"), entry(7, "redriven", "enqueued")]  # fmt: skip
    builder = LedgerRebuilder(redis, settings.redis_key("delivered"), 3600, settings.topics.deliveries, outbox)

    async def batches() -> AsyncIterator[list[InRecord]]:
        yield log

    await builder.run(batches())
    assert builder.written == 1  # the acknowledgement only
    claimed = await outbox.claim("desk", 10, 5.0)
    assert sorted(j.article for j in claimed) == ["pending", "redriven"]
    assert next(j for j in claimed if j.article == "pending") == job("pending")  # the article bytes and origin


async def test_a_gate_says_it_is_rebuilding_while_it_works(settings: Settings, redis: Redis) -> None:
    ns = settings.redis_key("gate")
    started, release = asyncio.Event(), asyncio.Event()

    async def rebuild(progress: Progress) -> int:
        progress.total, progress.done = 10, 4
        started.set()
        await release.wait()
        return 10

    gate = StateGate(redis, ns, rebuild, service="probe", scope="dedup", settle_s=0)
    work = asyncio.ensure_future(gate.ensure())
    await started.wait()
    assert gate.rebuilding and gate.status().startswith("rebuilding: 4 of 10 records (40%)")  # /readyz: 503
    assert REGISTRY.get_sample_value("newsflow_state_rebuilding", {"service": "probe", "scope": "dedup"}) == 1
    release.set()
    await work
    assert not gate.rebuilding and gate.status() == "ok"
    assert REGISTRY.get_sample_value("newsflow_state_rebuilding", {"service": "probe", "scope": "dedup"}) == 0
