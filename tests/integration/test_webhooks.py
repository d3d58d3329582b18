"""Webhook delivery against real aiohttp receivers, every signature verified with ``standardwebhooks``.

The publish handler enqueues into the real Redis outbox and the dispatcher delivers; dead letters are
collected from the dispatcher's sink (the worker produces them to news.dlq: see tests/e2e).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from services.publish.api import make_app
from services.publish.bootstrap import Publish, bootstrap
from services.publish.subscriptions import Subscription, new_secret
from shared import codec
from shared.records import InRecord, OutRecord
from shared.redis_client import delete_namespace
from shared.settings import Settings

from ..apikey_util import bearer, make_key
from ..unit.publish_articles import enriched
from ..webhook_receiver import Receiver, Reply


async def _settle(tasks: list[asyncio.Task[Any]]) -> None:
    """Wait for cancelled background tasks, at most 10 s: a task still finishing its cancellation then (an HTTP
    session closing after a refused connection) must not hang the test's teardown until the test timeout."""
    await asyncio.wait(tasks, timeout=10)


pytestmark = pytest.mark.integration

TRACEPARENT = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"


@dataclass
class Rig:
    settings: Settings
    publish: Publish
    receiver: Receiver
    letters: list[OutRecord]
    offset: int = 0

    async def subscribe(self, name: str, *script: Reply, **filter_fields: object) -> str:
        secret = new_secret()
        url = self.receiver.endpoint(name, secret, *script)
        sub = Subscription.model_validate(
            {"id": name, "filter": filter_fields, "target": {"kind": "webhook", "url": url, "secrets": [secret]}}
        )
        await self.publish.store.put(sub)
        await self.publish.catalog.refresh()
        return url

    async def publish_article(self, article_id: str = "nf_1", **kw: object) -> None:
        a = enriched(article_id, **kw)  # type: ignore[arg-type]  # field values of mixed types
        self.offset += 1
        rec = InRecord(
            topic=self.settings.topics.enriched, partition=0, offset=self.offset, key=a.id.encode(),
            value=codec.dumps(a), headers={"traceparent": TRACEPARENT},
        )  # fmt: skip
        outs = await self.publish.handler.handle([rec])
        await self.publish.handler.mark_delivered(outs)


@pytest.fixture
async def rig(settings_factory) -> AsyncIterator[Rig]:
    s = settings_factory(
        webhook_retry_schedule_s=[0.2, 0.2, 0.2], webhook_jitter=0.0, webhook_timeout_s=0.5, webhook_lease_s=2.0,
        webhook_poll_s=0.05, subscription_poll_s=0.1,
        webhook_allow_insecure=True, webhook_allow_private_networks=True,  # the receivers are on 127.0.0.1
    )  # fmt: skip
    letters: list[OutRecord] = []

    async def sink(outs: list[OutRecord]) -> None:
        letters.extend(outs)

    redis = Redis.from_url(s.redis_url)
    publish = bootstrap(s, redis=redis, dead_letters=sink, ensure_topics=lambda names: asyncio.sleep(0))
    receiver = Receiver()
    await receiver.start()
    tasks = [asyncio.create_task(publish.catalog.run()), asyncio.create_task(publish.dispatcher.run())]
    try:
        yield Rig(s, publish, receiver, letters)
    finally:
        for t in tasks:
            t.cancel()
        await _settle(tasks)
        await receiver.stop()
        await delete_namespace(redis, s.redis_namespace)
        await redis.aclose()


async def _settled(rig: Rig, sub: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while await rig.publish.outbox.pending(sub) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await rig.publish.outbox.pending(sub) == 0


async def test_fails_three_times_then_succeeds_same_id_every_signature_valid(rig: Rig) -> None:
    await rig.subscribe("flaky", Reply(500), Reply(502), Reply(500), Reply(200), countries=["JP"])
    await rig.publish_article()
    got = await rig.receiver.wait_for("flaky", 4)
    await _settled(rig, "flaky")
    assert len(got) == 4 and all(r.verified for r in got), [r.error for r in got]
    assert {r.webhook_id for r in got} == {"msg_nf_1_v1_flaky"}
    gaps = [b.at - a.at for a, b in itertools.pairwise(got)]
    assert all(g >= 0.18 for g in gaps), gaps  # the schedule's 0.2 s, no jitter
    body = orjson.loads(got[-1].body)
    assert body["type"] == "article.published" and body["subscription"] == "flaky"
    assert body["data"]["id"] == "nf_1" and body["data"]["enrichment"]["countries"]["value"][0]["code"] == "JP"
    # acknowledged: the same article version again (a replay, a rebalance) is not sent again
    await rig.publish_article()
    await asyncio.sleep(0.5)
    assert len(rig.receiver.got["flaky"]) == 4
    await rig.publish_article(version=2)  # a correction is a new delivery
    got = await rig.receiver.wait_for("flaky", 5)
    assert got[-1].webhook_id == "msg_nf_1_v2_flaky" and got[-1].verified
    assert rig.letters == []


async def test_429_with_retry_after_is_honoured(rig: Rig) -> None:
    await rig.subscribe("busy", Reply(429, {"Retry-After": "1"}), Reply(200))
    await rig.publish_article()
    got = await rig.receiver.wait_for("busy", 2)
    assert len(got) == 2 and all(r.verified for r in got)
    assert got[1].at - got[0].at >= 0.95  # Retry-After 1 s, over the schedule's 0.2 s
    assert got[1].headers["webhook-timestamp"] >= got[0].headers["webhook-timestamp"]


async def test_a_receiver_that_times_out_is_retried(rig: Rig) -> None:
    await rig.subscribe("slow", Reply(200, delay_s=1.5), Reply(200))
    await rig.publish_article()
    got = await rig.receiver.wait_for("slow", 2)
    await _settled(rig, "slow")
    assert len(got) == 2 and all(r.verified for r in got)
    assert got[1].at - got[0].at >= 0.5 + 0.2 - 0.05  # the 0.5 s timeout, then the 0.2 s retry delay


async def test_410_disables_the_endpoint_and_dead_letters_the_delivery(rig: Rig) -> None:
    url = await rig.subscribe("gone", Reply(410))
    await rig.publish_article()
    await rig.receiver.wait_for("gone", 1)
    await _settled(rig, "gone")
    await rig.publish.catalog.refresh()
    sub = rig.publish.catalog.get("gone")
    assert sub is not None and sub.disabled and "410" in sub.disabled
    (letter,) = rig.letters
    d = orjson.loads(letter.value)
    assert d["error"]["code"] == "webhook_disabled" and url in d["error"]["message"]
    await rig.publish_article("nf_2")  # no more deliveries to a disabled endpoint
    await asyncio.sleep(0.5)
    assert len(rig.receiver.got["gone"]) == 1


async def test_a_disabled_endpoint_is_enabled_over_the_api_and_gets_what_it_missed(rig: Rig) -> None:
    await rig.subscribe("gone", Reply(410), Reply(200))
    await rig.publish_article()
    await rig.receiver.wait_for("gone", 1)
    await _settled(rig, "gone")
    await rig.publish.catalog.refresh()  # what every replica sees within subscription_poll_s
    await rig.publish_article("nf_2")  # while disabled: not queued for it at all
    await _settled(rig, "gone")
    assert len(rig.receiver.got["gone"]) == 1 and len(rig.letters) == 1
    server = TestServer(make_app(rig.publish.api))
    await server.start_server()
    admin = await make_key(rig.settings, "admin", "admin")
    try:
        async with ClientSession(headers=bearer(admin)) as http:
            async with http.post(server.make_url("/v1/subscriptions/gone/enable")) as r:
                assert r.status == 200, await r.text()
                assert (await r.json())["disabled"] is None
            async with http.post(server.make_url("/v1/subscriptions/nobody/enable")) as r:
                assert r.status == 404
    finally:
        await server.close()
    (letter,) = rig.letters  # the delivery the 410 refused; `newsflow dlq redrive --code webhook_disabled`
    d = orjson.loads(letter.value)
    assert d["error"]["code"] == "webhook_disabled"
    redriven = InRecord(
        topic=d["source_topic"], partition=0, offset=99, key=letter.key,
        value=base64.b64decode(d["original_value_b64"]), headers=d["original_headers"],
    )  # fmt: skip
    assert await rig.publish.handler.handle([redriven]) == []
    await rig.publish_article("nf_3")
    got = await rig.receiver.wait_for("gone", 3)
    assert all(r.verified and r.status == 200 for r in got[1:])
    assert sorted(r.webhook_id for r in got[1:]) == ["msg_nf_1_v1_gone", "msg_nf_3_v1_gone"]


async def test_exhausted_retries_become_a_dead_letter_that_redrives_to_that_endpoint(rig: Rig) -> None:
    url = await rig.subscribe("dead", Reply(503))
    await rig.subscribe("ok", Reply(200))
    await rig.publish_article()
    got = await rig.receiver.wait_for("dead", 4)
    await _settled(rig, "dead")
    assert len(got) == 4  # the first attempt and the schedule's three retries
    (letter,) = rig.letters
    d = orjson.loads(letter.value)
    assert letter.topic == rig.settings.topics.dlq and d["stage"] == "publish"
    assert d["error"]["code"] == "webhook_exhausted" and d["attempts"] == 4
    assert url in d["error"]["message"] and "last status 503" in d["error"]["message"]
    assert d["source_topic"] == rig.settings.topics.enriched
    assert d["original_headers"]["newsflow_webhook_subscription"] == "dead"
    assert len(rig.receiver.got["ok"]) == 1
    # the endpoint is fixed; re-drive the letter (what `newsflow dlq redrive` produces): that endpoint only
    rig.receiver.scripts["dead"] = [Reply(200)]
    redriven = InRecord(
        topic=d["source_topic"], partition=0, offset=99, key=b"nf_1",
        value=base64.b64decode(d["original_value_b64"]), headers=d["original_headers"],
    )  # fmt: skip
    outs = await rig.publish.handler.handle([redriven])
    assert outs == []  # no Kafka route sees it again
    got = await rig.receiver.wait_for("dead", 5)
    assert len(got) == 5 and got[-1].verified and got[-1].webhook_id == "msg_nf_1_v1_dead"
    await asyncio.sleep(0.3)
    assert len(rig.receiver.got["ok"]) == 1


async def test_a_slow_endpoint_does_not_delay_a_healthy_one(rig: Rig) -> None:
    await rig.subscribe("stuck", Reply(200, delay_s=3))
    await rig.subscribe("fast", Reply(200))
    started = time.monotonic()
    for i in range(10):
        await rig.publish_article(f"nf_{i}")
    got = await rig.receiver.wait_for("fast", 10, timeout_s=5)
    assert len(got) == 10 and all(r.verified for r in got)
    # both endpoints are on one host and port: "fast" must not wait for a connection "stuck" holds, so all
    # of it arrives before the first "stuck" attempt times out (webhook_timeout_s)
    assert got[-1].at - started < rig.settings.webhook_timeout_s, got[-1].at - started
    first_round = [r for r in rig.receiver.got["stuck"] if r.at - started < rig.settings.webhook_timeout_s]
    assert 0 < len(first_round) <= rig.settings.webhook_concurrency  # in flight per endpoint, bounded
