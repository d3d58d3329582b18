"""Scale-out: 1, 2, 3 workers of each service in one group; workers added and killed mid-run lose nothing."""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.request
from datetime import UTC, datetime

import orjson
import pytest

from devtools.embedded import free_port
from shared import codec
from shared.models import Article, EnrichedArticle, Enrichment, Origin

from ..kafkautil import Got, collect, produce

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _partitions(port: int) -> int:
    """Partitions a worker holds, from its /readyz (0 when not ready yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return int(json.loads(r.read())["checks"]["partitions"])
    except Exception:
        return 0


async def _wait_balanced(ports: list[int], total: int, timeout_s: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout_s
    counts: list[int] = []
    while time.monotonic() < deadline:
        counts = [_partitions(p) for p in ports]
        if sum(counts) == total and all(counts):
            return counts
        await asyncio.sleep(0.5)
    raise AssertionError(f"partitions never shared among {len(ports)} workers: {counts}")


def _raw(i: int) -> bytes:
    rnd = random.Random(i)  # distinct stories: random words, far from near-duplicates of each other
    return orjson.dumps(
        {
            "title": f"Scaling story {i}",
            "body": f"Story {i}. " + " ".join(f"w{rnd.randrange(50_000)}" for _ in range(80)),
            "url": f"https://scale.example/{i}",
        }
    )


def _article(i: int) -> Article:
    return Article(
        id=f"nf_scale{i:06d}", content_hash=f"h{i}", title=f"Scaling story {i}",
        body=f"Story {i} is about the harbour and the ferry that crosses it every morning. " * 3,
        raw_format="fields", ingested_at=datetime.now(UTC), origin=Origin(topic="raw", partition=0, offset=i),
    )  # fmt: skip


def _ids(got: list[Got]) -> list[str]:
    return [orjson.loads(g.value)["id"] for g in got]


@pytest.mark.parametrize("service", ["ingest", "enrich", "publish"])
async def test_workers_added_and_killed_mid_run_lose_nothing(service, settings, workers, tmp_path) -> None:
    """Start one worker, add a second and a third mid-run, kill one: every record comes out."""
    t = settings.topics
    n = 90 if service == "enrich" else 600
    if service == "ingest":
        inputs, source, outputs = [_raw(i) for i in range(n)], t.raw, [t.ingested, t.duplicates, t.dlq]
    elif service == "enrich":
        inputs, source, outputs = [codec.dumps(_article(i)) for i in range(n)], t.ingested, [t.enriched]
    else:
        routing = tmp_path / "routing.yaml"
        out_topic = f"{t.raw.split('.')[0]}.published"
        routing.write_text(f"routes:\n  - name: all\n    topic: {out_topic}\n")
        workers.settings = settings.model_copy(update={"routing_file": routing})
        enriched = [
            EnrichedArticle(**_article(i).model_dump(), enrichment=Enrichment(enriched_at=datetime.now(UTC)))
            for i in range(n)
        ]
        inputs, source, outputs = [codec.dumps(a) for a in enriched], t.enriched, [out_topic]

    ports = [free_port() for _ in range(3)]
    first = workers.start(service, NEWSFLOW_WEB_PORT=str(ports[0]))
    third = n // 3
    await produce(settings, inputs[:third], topic=source)
    await collect(settings, outputs, count=min(20, third), timeout_s=90)
    workers.start(service, NEWSFLOW_WEB_PORT=str(ports[1]))
    await produce(settings, inputs[third : 2 * third], topic=source)
    workers.start(service, NEWSFLOW_WEB_PORT=str(ports[2]))
    counts = await _wait_balanced(ports, settings.partitions)
    assert sorted(counts) == [1, 1, 2]  # 4 partitions over 3 workers
    workers.kill(first)  # SIGKILL: no goodbye, the group notices after the session timeout
    await produce(settings, inputs[2 * third :], topic=source)
    got = await collect(settings, outputs, count=n, timeout_s=180, settle_s=3)

    ids = _ids(got)
    if service == "ingest":
        by_origin: dict[tuple[int, int], set[str]] = {}
        for g in got:
            d = orjson.loads(g.value)
            by_origin.setdefault((d["origin"]["partition"], d["origin"]["offset"]), set()).add(g.topic)
        assert len(by_origin) == n, workers.logs()
        assert all(len(v) == 1 for v in by_origin.values())
        assert {g.topic for g in got} == {t.ingested}  # distinct stories: no duplicates, no dead letters
    expected = {orjson.loads(v)["id"] for v in inputs} if service != "ingest" else set(ids)
    assert set(ids) == expected, f"missing: {sorted(expected - set(ids))[:5]}\n{workers.logs()}"
    # at-least-once: a replay after a rebalance repeats a record with the same content, never a different one
    values: dict[str, bytes] = {}
    for g in got:
        body = orjson.loads(g.value)
        body.get("enrichment", {}).pop("enriched_at", None)
        assert values.setdefault(body["id"], orjson.dumps(body, option=orjson.OPT_SORT_KEYS)) == orjson.dumps(
            body, option=orjson.OPT_SORT_KEYS
        )


async def test_two_enrich_workers_agree_on_the_story_of_one_event(settings, workers) -> None:
    """Reports of one event from two outlets, on partitions held by different workers, share a story_id."""
    from evaluation.enrich_eval import load_eval_set
    from tests.integration.test_story_index_contract import REWRITE
    from tests.unit.test_enrichers import sample_article

    ports = [free_port(), free_port()]
    for p in ports:
        workers.start("enrich", NEWSFLOW_WEB_PORT=str(p))
    await _wait_balanced(ports, settings.partitions)
    held = [
        json.loads(urllib.request.urlopen(f"http://127.0.0.1:{p}/readyz", timeout=2).read())["assignment"]
        for p in ports
    ]
    first, second = (int(h[0].rsplit("/", 1)[1]) for h in held)  # a partition of each worker
    afp = sample_article()
    rewrite = afp.model_copy(
        update={
            "id": "nf_rewrite",
            "content_hash": "r",
            "title": "US does not want wider war with Iran",
            "body": REWRITE,
        }
    )
    quake = next(i.article for i in load_eval_set() if i.id == "en-disaster-japan-quake")
    articles = [afp, rewrite, quake]
    for a, partition in zip(articles, (first, second, first), strict=True):  # the two reports on different workers
        await produce(settings, [codec.dumps(a)], topic=settings.topics.ingested, partition=partition)
    got = await collect(settings, [settings.topics.enriched], count=3, timeout_s=120)
    story = {orjson.loads(g.value)["id"]: orjson.loads(g.value)["story_id"] for g in got}
    assert story[afp.id] == story[rewrite.id] != story[quake.id], workers.logs()
