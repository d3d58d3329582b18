"""Redis restarted WITHOUT persistence mid-stream: the state is rebuilt from the log, nothing passes twice.

2 ingest, 1 enrich and 2 publish workers, a routed topic and a webhook endpoint (a subscription of the
routing file). A first wave is processed completely; then, while a second wave flows (copies of the
first wave's articles, near copies, corrections, new articles, bad records), Redis is killed and started
again EMPTY (no persistence). The workers find the dedup state and the delivery ledger gone, pause,
rebuild them from the log (one rebuild per state for all replicas) and resume. The accounting must hold
exactly:

- every raw record ends in exactly one of news.ingested / news.duplicates / news.dlq;
- no article version passes ingest twice (a copy of an article seen before the loss is a duplicate);
- a correction after the loss is the next version (2, then 3), not a new version 1;
- the routed topic and the webhook endpoint get every article version exactly once;
- a report after the loss of an event reported before it joins that story (enrich's story index).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import pytest
from redis.asyncio import Redis

from devtools.embedded import free_port, start_redis
from services.publish.subscriptions import new_secret
from shared.kafka import ensure_topics

from ..conftest import Workers, make_settings
from ..integration.test_story_index_contract import REWRITE  # another outlet's report of the AFP story's event
from ..kafkautil import Got, collect, produce
from ..unit.test_enrichers import sample_article
from ..webhook_receiver import Receiver, Reply
from .test_chaos import _article  # the chaos test's synthetic articles

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _near(a: dict[str, object], n: int) -> dict[str, object]:
    """A syndicated copy on another site: a few words changed."""
    words = str(a["body"]).split()
    for k in range(3, len(words), 40):
        words[k] = "changed"
    return {**a, "body": " ".join(words), "url": f"https://copy.example.net/{n}", "source": "Copy"}


def _correction(a: dict[str, object], n: int) -> dict[str, object]:
    return {**a, "body": f"{a['body']} Correction {n}: the figure was revised."}


def _first_wave(n: int) -> list[bytes]:
    out: list[bytes] = []
    for i in range(n):
        out.append(orjson.dumps(_article(i)))
        if i % 5 == 0:
            out.append(orjson.dumps({**_article(i), "url": f"{_article(i)['url']}?utm_source=x"}))
        if i % 10 == 0:
            out.append(b"[1, 2" if i % 20 else b"\xff\xfe")
    return out


def _second_wave(first: int, start: int, n: int) -> list[bytes]:
    """New articles mixed with copies, near copies and corrections of the first wave's."""
    out: list[bytes] = []
    for k, i in enumerate(range(start, start + n)):
        out.append(orjson.dumps(_article(i)))
        old = _article((i * 7) % first)
        step = k % 4
        if step == 0:
            out.append(orjson.dumps({**old, "url": f"{old['url']}?ref=feed{i}"}))  # exact copy
        elif step == 1:
            out.append(orjson.dumps(_near(old, i)))
        elif step == 2:
            out.append(orjson.dumps(_correction(old, 1)))
        if k % 10 == 0:
            out.append(b"\xff\xfe")
    return out


def _corrected(first: int) -> int:
    """The first-wave article the second wave corrects first (k = 2 in :func:`_second_wave`)."""
    return (1002 * 7) % first


def _origin(g: Got, dlq: str) -> tuple[int, int]:
    d = orjson.loads(g.value)
    if g.topic == dlq:
        return (d["source_partition"], d["source_offset"])
    return (d["origin"]["partition"], d["origin"]["offset"])


async def _wait(what: str, check: Callable[[], Awaitable[bool]], timeout_s: float, why: dict[str, object]) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {why}"
        await asyncio.sleep(1)


async def test_redis_restarted_empty_mid_stream_nothing_passes_or_arrives_twice(broker: str, tmp_path: Path) -> None:
    redis_port = free_port()
    redis_log = tmp_path / "redis.log"
    redis = start_redis(redis_port, log=redis_log)  # no data_dir: no persistence at all
    receiver = Receiver()
    await receiver.start()
    secret = new_secret()
    hook = receiver.endpoint("all", secret, Reply(200))
    settings = make_settings(
        broker, f"redis://127.0.0.1:{redis_port}/0", partitions=4, state_rebuild_lease_s=6.0,
        webhook_allow_insecure=True, webhook_allow_private_networks=True,  # the receiver is on 127.0.0.1 over http
    )  # fmt: skip
    prefix = settings.topics.raw.split(".")[0]
    published_topic = f"{prefix}.published"
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        f"routes:\n  - name: all\n    topic: {published_topic}\n"
        f"subscriptions:\n  - id: all-hook\n    name: everything\n    filter: {{}}\n"
        f"    target: {{kind: webhook, url: '{hook}', secrets: ['{secret}']}}\n"
    )
    settings = settings.model_copy(update={"routing_file": routing})
    t = settings.topics
    await ensure_topics(settings, [*t.all(), published_topic])
    workers = Workers(settings, tmp_path)
    started = time.monotonic()
    try:
        for service, n in (("ingest", 2), ("enrich", 1), ("publish", 2)):
            for _ in range(n):
                workers.start(service)
        first_n = 60
        afp = sample_article()
        report = {"title": afp.title, "body": afp.body, "url": "https://afp.example.com/iran", "source": "AFP"}
        values = [*_first_wave(first_n), orjson.dumps(report)]
        await produce(settings, values)

        async def first_delivered() -> bool:
            got = await collect(settings, [published_topic], count=first_n + 1, timeout_s=2)
            return len(got) >= first_n + 1 and len(receiver.acknowledged("all")) >= first_n + 1

        await _wait("the first wave to be published", first_delivered, 240, {})

        second = _second_wave(first_n, 1000, 60)
        half = len(second) // 2
        await produce(settings, second[:half])
        await asyncio.sleep(0.5)  # mid-stream
        redis.kill()  # SIGKILL: no chance to save anything (and it keeps nothing on disk anyway)
        redis.wait()
        redis = start_redis(redis_port, log=redis_log)  # EMPTY
        rewrite = {"title": "US does not want wider war with Iran", "body": REWRITE,
                   "url": "https://wire.example.net/us-iran", "source": "Wire"}  # fmt: skip
        second.append(orjson.dumps(rewrite))  # the same event, reported after the loss
        await produce(settings, second[half:])
        values += second
        # a second correction of an article corrected above, after the rebuild: version 3
        twice = _article(_corrected(first_n))
        late = [orjson.dumps(_correction(twice, 2))]
        await asyncio.sleep(3)
        await produce(settings, late)
        values += late

        got = await collect(settings, [t.ingested, t.duplicates, t.dlq], count=len(values), timeout_s=240, settle_s=3)
        landed: dict[tuple[int, int], set[str]] = {}
        for g in got:
            landed.setdefault(_origin(g, t.dlq), set()).add(g.topic)
        assert len(landed) == len(values), f"{len(landed)} of {len(values)} raw records accounted for\n{workers.logs()}"
        assert all(len(v) == 1 for v in landed.values()), "a raw record landed in two outputs"

        passed: dict[tuple[str, int], set[tuple[int, int]]] = {}
        articles: dict[tuple[str, int], dict] = {}
        for g in got:
            if g.topic == t.ingested:
                a = orjson.loads(g.value)
                passed.setdefault((a["id"], a["version"]), set()).add(_origin(g, t.dlq))
                articles[(a["id"], a["version"])] = a
        again = {k: v for k, v in passed.items() if len(v) > 1}
        assert not again, f"{len(again)} article versions passed ingest twice: {list(again.items())[:3]}"
        corrections = {(i * 7) % first_n for k, i in enumerate(range(1000, 1060)) if k % 4 == 2}
        # articles, the AFP report and its rewrite, the corrections (v2), the late one (v3)
        expected = first_n + 2 + 60 + len(corrections) + 1
        assert len(articles) == expected, f"{len(articles)} article versions passed, {expected} expected"
        assert len({(a["title"], a["body"]) for a in articles.values()}) == expected, "one text passed twice"
        corrected = _article(_corrected(first_n))["title"]
        assert sorted(v for (_, v), a in articles.items() if a["title"] == corrected) == [1, 2, 3]
        versions_2 = sum(1 for (_, v) in articles if v == 2)
        assert versions_2 >= 10, f"only {versions_2} corrections counted as version 2"

        want = set(articles)

        async def all_delivered() -> bool:
            got_pub = await collect(settings, [published_topic], count=len(want), timeout_s=2)
            have = {(d["id"], d["version"]) for d in (orjson.loads(g.value) for g in got_pub)}
            hooked = {(d["data"]["id"], d["data"]["version"]) for d in
                      (orjson.loads(r.body) for r in receiver.acknowledged("all"))}  # fmt: skip
            missing.update(published=sorted(want - have)[:5], hooked=sorted(want - hooked)[:5])
            return want <= have and want <= hooked

        missing: dict[str, object] = {}
        await _wait("every version to be published and sent to the webhook", all_delivered, 240, missing)
        await asyncio.sleep(4)  # a repeat would show up by now
        published = await collect(settings, [published_topic], count=10**9, timeout_s=3)
        per_version = Counter((d["id"], d["version"]) for d in (orjson.loads(g.value) for g in published))
        assert set(per_version) == want
        repeats = [k for k, n in per_version.items() if n > 1]
        assert not repeats, f"{len(repeats)} article versions published twice: {repeats[:3]}"
        hooked = Counter(r.webhook_id for r in receiver.acknowledged("all"))
        hook_repeats = [k for k, n in hooked.items() if n > 1]
        assert len(hooked) == len(want) and not hook_repeats, f"webhook repeats: {hook_repeats[:3]}"

        enriched = await collect(settings, [t.enriched], count=10**9, timeout_s=3)
        story = {d["source"]: d["story_id"] for d in map(orjson.loads, (g.value for g in enriched))}
        assert story["Wire"] == story["AFP"], f"the report after the loss started a story of its own: {story}"

        client = Redis.from_url(settings.redis_url)
        try:
            for scope in ("dedup", "delivered", "story"):
                assert await client.exists(f"{settings.redis_key(scope)}:ready"), f"{scope} not rebuilt"
        finally:
            await client.aclose()
        logs = workers.logs()
        assert "state rebuilt from" in logs, logs
        print(
            f"state loss: {len(values)} raw records, Redis restarted empty mid-stream, all accounted for in "
            f"{time.monotonic() - started:.0f}s: {len(articles)} article versions passed once each "
            f"({versions_2} corrections as v2), {sum(1 for v in landed.values() if t.duplicates in v)} duplicates, "
            f"{len(per_version)} published once each, {len(hooked)} webhook deliveries once each; the report "
            f"after the loss joined story {story['AFP']}"
        )
    finally:
        workers.stop_all()
        await receiver.stop()
        if redis.poll() is None:
            redis.kill()
            redis.wait()
