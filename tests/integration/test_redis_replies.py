"""The replies redis-py gives on the real Redis have the shapes shared/redis_replies.py reads, and publish's
Redis adapters refuse a decoding client's replies with RedisReplyError rather than passing str on as bytes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from services.publish.outbox import Job, JobOrigin, Outbox
from services.publish.recent import RecentStore
from services.publish.stream import StreamHub
from services.publish.subscription_store import RedisSubscriptionStore
from shared import redis_replies as rr
from shared.redis_client import delete_namespace

pytestmark = pytest.mark.integration


@pytest.fixture
async def ns(redis_url: str) -> AsyncIterator[str]:
    namespace = f"nftest:replies:{uuid.uuid4().hex[:12]}"
    yield namespace
    client = Redis.from_url(redis_url)
    await delete_namespace(client, namespace)
    await client.aclose()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    c = Redis.from_url(redis_url)  # bytes over RESP2, as make_redis builds it
    yield c
    await c.aclose()


@pytest.fixture
async def decoding(redis_url: str) -> AsyncIterator[Redis]:
    c = Redis.from_url(redis_url, decode_responses=True)
    yield c
    await c.aclose()


async def test_each_command_the_adapters_send_replies_in_the_shape_its_reader_expects(client: Redis, ns: str) -> None:
    await client.set(f"{ns}:a", b"1")
    assert rr.reply_optional_bytes(await client.get(f"{ns}:a")) == b"1"
    assert rr.reply_optional_bytes(await client.get(f"{ns}:none")) is None
    assert rr.reply_optional_bytes_list(await client.mget([f"{ns}:a", f"{ns}:none"])) == [b"1", None]

    await client.hset(f"{ns}:h", mapping={"k": b"v", "n": 2})
    assert rr.reply_bytes_map(await client.hgetall(f"{ns}:h")) == {b"k": b"v", b"n": b"2"}
    assert rr.reply_bytes_map(await client.hgetall(f"{ns}:none")) == {}

    await client.zadd(f"{ns}:z", {"x": 1.5, "y": 3})
    assert rr.reply_scored(await client.zrange(f"{ns}:z", 0, -1, withscores=True)) == [(b"x", 1.5), (b"y", 3.0)]
    assert rr.reply_scored(await client.zrevrange(f"{ns}:z", 0, 0, withscores=True)) == [(b"y", 3.0)]
    assert rr.reply_scored(await client.zrange(f"{ns}:none", 0, 0, withscores=True)) == []
    assert rr.reply_bytes_list(await client.zrevrange(f"{ns}:z", 0, -1)) == [b"y", b"x"]

    first = rr.reply_optional_bytes(await client.xadd(f"{ns}:s", {b"d": b"one"}))
    await client.xadd(f"{ns}:s", {b"d": b"two", b"f": b"{}"})
    entries = rr.reply_stream(await client.xrange(f"{ns}:s", min="-", max="+"))
    assert [f for _, f in entries] == [{b"d": b"one"}, {b"d": b"two", b"f": b"{}"}] and entries[0][0] == first
    assert rr.reply_stream(await client.xrevrange(f"{ns}:s", count=1)) == entries[1:]
    assert rr.reply_stream(await client.xrange(f"{ns}:none", min="-", max="+")) == []
    assert first is not None
    read = rr.reply_xread(await client.xread({f"{ns}:s": first}, count=10))
    assert read == [(f"{ns}:s".encode(), entries[1:])]
    assert rr.reply_xread(await client.xread({f"{ns}:s": entries[1][0]}, block=10)) == []  # a timeout: none

    script = client.register_script("return {ARGV[1], redis.call('HGETALL', KEYS[1]), 7}")
    flat = rr.reply_list(await script(keys=[f"{ns}:h"], args=["id"]))
    assert (
        flat[0] == b"id"
        and sorted(rr.reply_bytes_list(flat[1])) == [b"2", b"k", b"n", b"v"]
        and rr.reply_int(flat[2]) == 7
    )


async def test_the_adapters_refuse_a_decoding_clients_replies(client: Redis, decoding: Redis, ns: str) -> None:
    await client.set(f"{ns}:article:nf_1", b'{"id": "nf_1"}')
    with pytest.raises(rr.RedisReplyError, match="str where bytes"):
        await RecentStore(decoding, namespace=ns, ttl_s=60, keep_stories=10).article("nf_1")

    await client.hset(f"{ns}:subs:disabled", "sub", "410")
    with pytest.raises(rr.RedisReplyError, match="str where bytes"):
        await RedisSubscriptionStore(decoding, namespace=ns).disabled()

    await client.xadd(f"{ns}:stream", {b"d": b"{}"})
    with pytest.raises(rr.RedisReplyError, match="str where bytes"):
        await StreamHub(decoding, namespace=ns, history=10).since(None)

    job = Job(
        id="msg_1",
        sub="sub",
        article="nf_1",
        version=1,
        value=b"{}",
        origin=JobOrigin(topic="t", partition=0, offset=0),
    )
    assert await Outbox(client, namespace=ns, ttl_s=60).enqueue([job]) == 1
    with pytest.raises(rr.RedisReplyError, match="str where bytes"):
        await Outbox(decoding, namespace=ns, ttl_s=60).claim("sub", limit=10, lease_s=30)
    # the refused claim still took its lease: the delivery is pending, due again after it (as after a crash)
    outbox = Outbox(client, namespace=ns, ttl_s=60)
    assert await outbox.pending("sub") == 1 and await outbox.claim("sub", limit=10, lease_s=30) == []
    due_in = await outbox.next_due_s("sub")
    assert due_in is not None and 25 < due_in <= 30
