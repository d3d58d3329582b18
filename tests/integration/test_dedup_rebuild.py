"""Ingest's dedup state rebuilt from its own outputs decides as the state that was never lost.

Two handlers on the real Redis, each on its own namespace, decide the same raw records. Then one
namespace is wiped (Redis restarted empty) and rebuilt from that handler's outputs alone (what
``news.ingested`` / ``news.duplicates`` hold); the next raw records (redeliveries of the first ones,
copies of the articles seen before the loss, near copies, corrections) must get the same outputs from
both handlers.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import orjson
import pytest
from redis.asyncio import Redis

from evaluation.neardup import load_cases
from services.ingest.bootstrap import build_handler
from services.ingest.handler import IngestHandler
from services.ingest.rebuild import DedupRebuilder
from shared.events import header_dict
from shared.rebuild import StateNotReady, ready_key
from shared.records import InRecord, OutRecord
from shared.redis_client import delete_namespace
from shared.settings import Settings

from ..conftest import make_settings

pytestmark = pytest.mark.integration

RAW = "news.raw"
T0_MS = int(time.time() * 1000) - 3_600_000  # an hour ago: inside the window


def _raw(offset: int, value: dict[str, object], partition: int = 0) -> InRecord:
    return InRecord(RAW, partition, offset, None, orjson.dumps(value), {}, T0_MS + offset)


def _first_wave() -> list[InRecord]:
    cases = load_cases()
    bases = [c for c in cases if c.label == "base"][:12]
    recs = [
        _raw(i, {"title": c.title, "body": c.body, "url": f"https://news.example.org/{c.id}", "source": "Ex"})
        for i, c in enumerate(bases)
    ]  # fmt: skip
    # a near copy of the first base on another site, and a correction of the second one
    near = next(c for c in cases if c.base == bases[0].id and c.label == "positive")
    recs.append(
        _raw(100, {"title": near.title, "body": near.body, "url": "https://other.example.com/a", "source": "O"})
    )
    b = bases[1]
    recs.append(
        _raw(101, {"title": b.title, "body": b.body + " Corrected.", "url": f"https://news.example.org/{b.id}"})
    )
    return recs


def _second_wave(first: list[InRecord]) -> list[InRecord]:
    cases = load_cases()
    bases = [c for c in cases if c.label == "base"][:12]
    again = first[:5] + first[-2:]  # redeliveries (the same raw records)
    copies = [
        _raw(200 + i, {"title": c.title, "body": c.body, "url": f"https://news.example.org/{c.id}?utm_source=x"}, 1)
        for i, c in enumerate(bases[:4])
    ]  # fmt: skip
    others = [c for c in cases if c.label == "positive" and c.base in {b.id for b in bases[2:6]}][:4]
    near = [_raw(300 + i, {"title": c.title, "body": c.body, "url": f"https://copy.example.net/{i}"}, 1)
            for i, c in enumerate(others)]  # fmt: skip
    b = bases[1]
    fix = _raw(400, {"title": b.title, "body": b.body + " Corrected again.", "url": f"https://news.example.org/{b.id}"})
    fresh = [c for c in cases if c.label == "base"][12:14]
    new = [_raw(500 + i, {"title": c.title, "body": c.body, "url": f"https://news.example.org/{c.id}"}, 2)
           for i, c in enumerate(fresh)]  # fmt: skip
    return again + copies + near + [fix] + new


def _as_log(outs: list[OutRecord], at_ms: int, *, headers: bool = True) -> list[InRecord]:
    """The outputs as a consumer of their topics reads them (``headers=False``: as older versions wrote
    them, without the signature header)."""
    return [InRecord(o.topic, 0, i, o.key, o.value, header_dict(o.headers) if headers else {}, at_ms)
            for i, o in enumerate(outs)]  # fmt: skip


def _shape(outs: list[OutRecord]) -> list[tuple[str, bytes]]:
    return [(o.topic.rsplit(".", 1)[-1], o.value) for o in outs]


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    c = Redis.from_url(redis_url)
    yield c
    await c.aclose()


async def _handler(client: Redis, redis_url: str, made: list[Settings]) -> IngestHandler:
    s = make_settings("127.0.0.1:9", redis_url)  # no broker: outputs are returned, not produced
    made.append(s)
    await client.set(ready_key(s.redis_key("dedup")), b"1")
    return build_handler(s, redis=client, gated=True)


@pytest.mark.parametrize("carried", [True, False], ids=["signatures-from-headers", "signatures-computed-again"])
async def test_a_rebuilt_dedup_state_decides_as_the_state_never_lost(
    client: Redis, redis_url: str, carried: bool
) -> None:
    made: list[Settings] = []
    try:
        kept, lost = await _handler(client, redis_url, made), await _handler(client, redis_url, made)
        first = _first_wave()
        outs_kept, outs_lost = await kept.handle(first), await lost.handle(first)
        assert _shape(outs_kept) == _shape(outs_lost)
        kinds = [o.topic.rsplit(".", 1)[-1] for o in outs_lost]
        assert kinds.count("duplicates") == 1 and kinds.count("ingested") == len(first) - 1

        s = made[1]
        await delete_namespace(client, s.redis_namespace)  # Redis restarted empty
        with pytest.raises(StateNotReady):
            await lost.handle(first[:1])
        builder = DedupRebuilder(
            client, s.redis_key("dedup"), s.dedup_window_s, s.topics.ingested, s.topics.duplicates, lost.signer
        )
        read = await builder.run(_aiter([_as_log(outs_lost, T0_MS + 10_000, headers=carried)]))
        assert read == len(outs_lost) and builder.skipped == 0
        assert (builder.computed == 0) == carried  # the header spares computing the signatures again
        await client.set(ready_key(s.redis_key("dedup")), b"1")

        second = _second_wave(first)
        after_kept, after_lost = await kept.handle(second), await lost.handle(second)
        assert _shape(after_lost) == _shape(after_kept)
        decided = [orjson.loads(o.value) for o in after_lost]
        assert sum(1 for o in after_lost if o.topic.endswith("duplicates")) >= 8  # copies and near copies
        assert max(d.get("version", 0) for d in decided) == 3  # the second correction counts on
    finally:
        for s in made:
            await delete_namespace(client, s.redis_namespace)


async def test_a_rebuild_skips_records_out_of_the_window_and_foreign_ones(client: Redis, redis_url: str) -> None:
    made: list[Settings] = []
    try:
        h = await _handler(client, redis_url, made)
        s = made[0]
        outs = await h.handle(_first_wave()[:3])
        await delete_namespace(client, s.redis_namespace)
        old = int((time.time() - s.dedup_window_s - 60) * 1000)
        log = _as_log(outs[:1], old) + _as_log(outs[1:], T0_MS) + [InRecord(s.topics.ingested, 0, 9, None, b"{x", {})]
        builder = DedupRebuilder(client, s.redis_key("dedup"), s.dedup_window_s, s.topics.ingested,
                                 s.topics.duplicates, h.signer)  # fmt: skip
        await builder.run(_aiter([log]))
        assert builder.skipped == 1
        keys = {k.decode() async for k in client.scan_iter(match=f"{s.redis_key('dedup')}:c:*")}
        assert len(keys) == 2  # the article out of the window is forgotten, as its key would have expired
        ttls = [await client.ttl(k) for k in keys]
        assert all(0 < t <= s.dedup_window_s - 3500 for t in ttls)  # expiring when the original would have
    finally:
        for s in made:
            await delete_namespace(client, s.redis_namespace)


async def _aiter(batches: list[list[InRecord]]) -> AsyncIterator[list[InRecord]]:
    for b in batches:
        yield b
