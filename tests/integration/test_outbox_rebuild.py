"""A webhook delivery pending when Redis lost the outbox is put back from the log and arrives exactly once.

Real broker (the journal on news.deliveries), real Redis, a real HTTP endpoint (signatures verified): the
endpoint fails the first attempt, so the delivery waits in the outbox for its retry; Redis then loses
everything (the namespace flushed), the ledger rebuild reads ``news.deliveries`` and puts the delivery
back, the endpoint has recovered and gets it once; a delivery acknowledged before the loss is not sent
again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.publish.bootstrap import bootstrap
from services.publish.ledger import delivery_record
from services.publish.rebuild import ledger_rebuild
from services.publish.subscriptions import new_secret
from shared import codec
from shared.kafka import ensure_topics, make_producer
from shared.rebuild import StateGate
from shared.records import InRecord, OutRecord
from shared.redis_client import delete_namespace
from shared.settings import Settings

from ..unit.publish_articles import enriched
from ..webhook_receiver import Receiver, Reply

pytestmark = pytest.mark.integration


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def _until(what: str, check: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_pending_delivery_lost_with_redis_is_put_back_and_arrives_once(
    settings_factory, receiver: Receiver, tmp_path: Path
) -> None:
    secret = new_secret()
    url = receiver.endpoint("desk", secret, Reply(200), Reply(500), Reply(200))
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        "routes: []\nsubscriptions:\n  - id: desk\n    name: desk\n    filter: {}\n"
        f"    target: {{kind: webhook, url: '{url}', secrets: ['{secret}']}}\n"
    )
    s: Settings = settings_factory(
        routing_file=routing, webhook_retry_schedule_s=[2.0], webhook_jitter=0.0, webhook_timeout_s=2.0,
        webhook_lease_s=3.0, webhook_poll_s=0.05, webhook_allow_insecure=True, webhook_allow_private_networks=True,
    )  # fmt: skip
    await ensure_topics(s)
    producer = make_producer(s)
    await producer.start()

    async def produce(outs: list[OutRecord]) -> None:
        futs = [await producer.send(o.topic, o.value, key=o.key, headers=list(o.headers.items())) for o in outs]
        await asyncio.gather(*futs)

    async def journal(ids: list[str]) -> None:
        await produce([delivery_record(s, i) for i in ids])

    redis = Redis.from_url(s.redis_url)
    publish = bootstrap(s, redis=redis, dead_letters=produce, journal=journal, journal_outbox=produce, gated=True,
                        ensure_topics=lambda names: asyncio.sleep(0))  # fmt: skip
    gate = StateGate(redis, s.redis_key("delivered"), ledger_rebuild(s, redis, lambda: []), service="publish",
                     scope="ledger", settle_s=0.2)  # fmt: skip
    await gate.ensure()  # a new namespace: built from the (empty) log
    tasks = [asyncio.create_task(publish.catalog.run()), asyncio.create_task(publish.dispatcher.run())]
    offset = 0

    async def publish_article(article_id: str) -> None:
        nonlocal offset
        offset += 1
        a = enriched(article_id)
        rec = InRecord(s.topics.enriched, 0, offset, a.id.encode(), codec.dumps(a), {})
        await gate.guard(publish.handler.handle, [rec])

    try:
        await publish.catalog.ensure_loaded()
        await publish_article("nf_before")  # acknowledged before the loss (the first reply: 200)
        await _until("the first delivery", lambda: _count(receiver, "desk", 1))
        await publish_article("nf_pending")  # its first attempt fails: it waits in the outbox for its retry
        await _until("the failed attempt", lambda: _count(receiver, "desk", 2))
        job_key = publish.outbox.job_key("msg_nf_pending_v1_desk")

        async def rescheduled() -> bool:
            return await redis.hget(job_key, "attempts") == b"1"

        await _until("the retry to be scheduled", rescheduled)
        assert receiver.got["desk"][1].status == 500

        await delete_namespace(redis, s.redis_namespace)  # Redis lost everything: outbox, ledger, ready key
        assert not await publish.outbox.pending("desk")
        await gate.ensure()  # what a worker does when it finds the ledger gone: rebuild it (and the outbox)
        assert await publish.outbox.pending("desk") == 1

        await _until("the delivery to arrive after the loss", lambda: _count(receiver, "desk", 3))
        await publish_article("nf_before")  # a replay after the loss: acknowledged before, not sent again
        await asyncio.sleep(2.5)  # a repeat (a retry, a second copy put back) would arrive by now
        got = receiver.got["desk"]
        assert [r.webhook_id for r in got] == ["msg_nf_before_v1_desk", "msg_nf_pending_v1_desk",
                                              "msg_nf_pending_v1_desk"]  # fmt: skip
        assert [r.status for r in got] == [200, 500, 200] and all(r.verified for r in got)
        assert got[1].body == got[2].body  # the same article bytes, put back from the journal
        assert await publish.outbox.pending("desk") == 0
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.wait(tasks, timeout=10)
        await producer.stop()
        await delete_namespace(redis, s.redis_namespace)
        await redis.aclose()


async def _count(receiver: Receiver, name: str, n: int) -> bool:
    return len(receiver.got.get(name, [])) >= n
