"""Chaos: 2 workers per service, a SIGKILL of a worker of each service and a Redis restart with its data
kept (AOF), while a mixed stream flows. The accounting must hold exactly:

- every raw record ends in exactly one of news.ingested / news.duplicates / news.dlq;
- every ingested article version is enriched;
- no routed topic gets an article version twice.

Redelivered records may be produced again (at-least-once) but always with the same result.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest

from devtools.embedded import free_port, start_redis, stop
from shared.kafka import ensure_topics

from ..conftest import Workers, make_settings
from ..kafkautil import Got, collect, produce

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_VOCAB = "market election storm vaccine league court climate budget rocket strike museum harvest".split()


def _article(i: int) -> dict[str, object]:
    rnd = random.Random(i)
    body = " ".join(rnd.choice(_VOCAB) + ("." if k % 12 == 11 else "") for k in range(150))
    return {"title": f"Chaos story {i} on {rnd.choice(_VOCAB)}", "body": f"Paragraph for story {i}. {body}",
            "url": f"https://chaos.example.org/story-{i}", "source": "Example"}  # fmt: skip


def _wave(start: int, n: int) -> list[bytes]:
    """``n`` articles, a copy of every 5th (tracking parameters differ) and a bad record every 10th."""
    values: list[bytes] = []
    for i in range(start, start + n):
        a = _article(i)
        values.append(orjson.dumps(a))
        if i % 5 == 0:
            values.append(orjson.dumps({**a, "url": f"{a['url']}?utm_source=x"}))
        if i % 10 == 0:
            values.append(b"[1, 2" if i % 20 else b"\xff\xfe")
    return values


def _origin(g: Got, dlq: str) -> tuple[int, int]:
    d = orjson.loads(g.value)
    if g.topic == dlq:
        return (d["source_partition"], d["source_offset"])
    return (d["origin"]["partition"], d["origin"]["offset"])


async def _until_all(settings, topic: str, want: set[tuple[str, int]], timeout_s: float) -> list[Got]:
    """Everything on ``topic`` once every (id, version) of ``want`` is there (or at the timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = await collect(settings, [topic], count=10**9, timeout_s=3)
        have = {(d["id"], d["version"]) for d in (orjson.loads(g.value) for g in got)}
        if want <= have or time.monotonic() > deadline:
            await asyncio.sleep(3)  # a repeat delivery would show up by now
            return await collect(settings, [topic], count=10**9, timeout_s=3)


async def _accounted(settings, raw: int, timeout_s: float) -> tuple[list[Got], dict[tuple[int, int], set[str]]]:
    """Every record on ingest's three outputs, and the outputs each raw record (by its origin) landed in, once
    ``raw`` raw records are accounted for (or at the timeout). Replays re-produce outputs after a kill, so a
    count of records reaches ``raw`` before every raw record is decided: wait for distinct origins."""
    t = settings.topics
    deadline = time.monotonic() + timeout_s
    want = raw
    while True:
        left = max(1.0, deadline - time.monotonic())
        got = await collect(settings, [t.ingested, t.duplicates, t.dlq], count=want, timeout_s=left, settle_s=3)
        landed: dict[tuple[int, int], set[str]] = {}
        for g in got:
            landed.setdefault(_origin(g, t.dlq), set()).add(g.topic)
        if len(landed) >= raw or time.monotonic() >= deadline:
            return got, landed
        want = len(got) + raw - len(landed)  # as many more records as raw records are still missing


async def _progress(settings, topic: str, at_least: int, timeout_s: float = 90) -> None:
    got = await collect(settings, [topic], count=at_least, timeout_s=timeout_s)
    assert len(got) >= at_least, f"only {len(got)} records on {topic}"


async def test_kills_and_a_redis_restart_keep_the_accounting_exact(broker: str, tmp_path: Path) -> None:
    redis_port = free_port()
    data = tmp_path / "redis-data"
    data.mkdir()
    redis = start_redis(redis_port, log=tmp_path / "redis.log", data_dir=data)
    settings = make_settings(broker, f"redis://127.0.0.1:{redis_port}/0", partitions=4)
    prefix = settings.topics.raw.split(".")[0]
    routing = tmp_path / "routing.yaml"
    routing.write_text(f"routes:\n  - name: all\n    topic: {prefix}.published\n")
    settings = settings.model_copy(update={"routing_file": routing})
    published_topic = f"{prefix}.published"
    await ensure_topics(settings, [*settings.topics.all(), published_topic])
    t = settings.topics
    workers = Workers(settings, tmp_path)
    started = time.monotonic()
    try:
        procs = {s: [workers.start(s), workers.start(s)] for s in ("ingest", "enrich", "publish")}
        values = _wave(0, 250)
        await produce(settings, values)
        await _progress(settings, t.ingested, 40)  # ingest is mid-stream (enrich may still load its models)
        workers.kill(procs["ingest"][0])  # SIGKILL
        new = _wave(250, 150)
        values += new
        await produce(settings, new)
        workers.start("ingest")

        await _progress(settings, t.enriched, 60, timeout_s=120)
        workers.kill(procs["enrich"][1])
        new = _wave(400, 150)
        values += new
        await produce(settings, new)
        workers.start("enrich")

        await _progress(settings, published_topic, 120, timeout_s=120)
        workers.kill(procs["publish"][0])
        stop(redis)  # SIGTERM: Redis writes its append-only file ...
        new = _wave(550, 150)
        values += new
        await produce(settings, new)  # ... records arrive while it is down: the batches wait and retry
        await asyncio.sleep(3)
        redis = start_redis(redis_port, log=tmp_path / "redis.log", data_dir=data)  # ... and loads it again
        workers.start("publish")

        got, landed = await _accounted(settings, len(values), timeout_s=180)
        assert len(landed) == len(values), f"{len(landed)} of {len(values)} raw records accounted for\n{workers.logs()}"
        assert all(len(v) == 1 for v in landed.values()), "a raw record landed in two outputs"
        ingested: dict[tuple[str, int], bytes] = {}
        for g in got:
            if g.topic == t.ingested:
                a = orjson.loads(g.value)
                assert ingested.setdefault((a["id"], a["version"]), g.value) == g.value, "a replay changed a result"
        expected = len({orjson.loads(v).get("title") for v in values if v.startswith(b"{")})
        by_title: dict[str, list[tuple[str, int, dict]]] = {}
        for (aid, version), raw in ingested.items():
            a = orjson.loads(raw)
            by_title.setdefault(a["title"], []).append((aid, version, a["origin"]))
        extra = {k: v for k, v in by_title.items() if len(v) > 1}
        assert len(ingested) == expected, f"{len(ingested)} articles ingested, {expected} expected: {extra}"

        enriched = await _until_all(settings, t.enriched, set(ingested), timeout_s=240)
        versions = {(d["id"], d["version"]) for d in (orjson.loads(g.value) for g in enriched)}
        assert set(ingested) <= versions, f"{len(set(ingested) - versions)} ingested versions never enriched"

        published = await _until_all(settings, published_topic, set(ingested), timeout_s=120)
        per_version = Counter((d["id"], d["version"]) for d in (orjson.loads(g.value) for g in published))
        assert set(per_version) == set(ingested), f"{len(set(ingested) - set(per_version))} never published"
        twice = [k for k, n in per_version.items() if n > 1]
        assert not twice, f"{len(twice)} article versions published twice: {twice[:3]}"
        repeats = len(got) - len(landed), len(enriched) - len(versions)
        print(
            f"chaos: {len(values)} raw records, 3 SIGKILLs and a Redis restart, all accounted for in "
            f"{time.monotonic() - started:.0f}s: "
            f"{len(ingested)} ingested, {sum(1 for v in landed.values() if t.duplicates in v)} duplicates, "
            f"{sum(1 for v in landed.values() if t.dlq in v)} dead letters; re-produced on redelivery: "
            f"{repeats[0]} ingest outputs, {repeats[1]} enriched; published once each: {len(per_version)}"
        )
    finally:
        workers.stop_all()
        stop(redis)
