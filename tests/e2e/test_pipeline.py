"""End to end: real broker, real Redis, the three services as real processes."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from shared.settings import Settings

from ..kafkautil import Got, collect, produce

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = (DATA / "sample-article-afp-2024-04-14.txt").read_bytes()


def _routing(tmp_path: Path, settings: Settings) -> Path:
    path = tmp_path / "routing.yaml"
    prefix = settings.topics.raw.split(".")[0]
    path.write_text(f"routes:\n  - name: by-language\n    topic: {prefix}.lang.{{language}}\n")
    return path


def _article(i: int, words: int = 120) -> dict[str, object]:
    rnd = random.Random(i)
    vocab = [
        "market",
        "election",
        "storm",
        "vaccine",
        "league",
        "court",
        "climate",
        "budget",
        "rocket",
        "strike",
        "museum",
        "harvest",
    ]
    body = " ".join(rnd.choice(vocab) + ("." if k % 12 == 11 else "") for k in range(words))
    return {
        "title": f"Story number {i} about {rnd.choice(vocab)}",
        "body": f"Paragraph for story {i}. {body}",
        "url": f"https://news.example.org/2024/story-{i}?utm_source=feed",
        "source": "Example",
    }


def _landed(got: list[Got], settings: Settings) -> dict[tuple[int, int], set[str]]:
    """Raw record (partition, offset) -> the output topics it landed in."""
    out: dict[tuple[int, int], set[str]] = {}
    for g in got:
        d = orjson.loads(g.value)
        if g.topic == settings.topics.dlq:
            key = (d["source_partition"], d["source_offset"])
        else:
            key = (d["origin"]["partition"], d["origin"]["offset"])
        out.setdefault(key, set()).add(g.topic)
    return out


def _by_topic(got: list[Got]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for g in got:
        out.setdefault(g.topic, []).append(orjson.loads(g.value))
    return out


async def test_sample_article_flows_through_all_three_services(settings, workers, tmp_path) -> None:
    """The real wire story comes out enriched, routed by language, with CloudEvents headers."""
    routing = _routing(tmp_path, settings)
    workers.settings = settings.model_copy(update={"routing_file": routing})
    for service in ("ingest", "enrich", "publish"):
        workers.start(service)
    await produce(settings, [SAMPLE])
    lang_topic = f"{settings.topics.raw.split('.')[0]}.lang.en"
    got = await collect(settings, [settings.topics.enriched], count=1, timeout_s=90)
    assert got, workers.logs()
    enriched = orjson.loads(got[0].value)
    assert enriched["title"].startswith("US says doesn't want escalation")
    assert enriched["dateline"]["agency"] == "AFP"
    assert enriched["dateline"]["date"] == "2024-04-14"
    assert "Short link" not in enriched["body"]
    assert "Situation Room" not in enriched["body"]  # the photo caption is gone
    e = enriched["enrichment"]
    assert e["language"]["code"] == "en" and e["language"]["method"] == "py3langid"
    assert e["dateline"]["agency"] == "AFP" and e["dateline"]["date"] == "2024-04-14"
    assert 400 < e["word_count"]["value"] < 500  # the body, without the caption
    assert e["reading_time"]["minutes"] >= 2
    people = {p["name"] for p in e["entities"]["people"]}
    assert {"Joe Biden", "John Kirby", "Benjamin Netanyahu"} <= people
    assert {c["code"] for c in e["countries"]["value"][:3]} == {"IL", "IR", "US"}
    assert any(q["speaker"] == "John Kirby" for q in e["quotes"]["value"])
    assert e["category"]["value"][0]["code"] == "medtop:16000000"
    assert enriched["story_id"]
    headers = got[0].headers
    for h in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type", "traceparent"):
        assert h in headers, h
    assert headers["ce_type"] == b"io.newsflow.article.enriched"
    assert got[0].key == enriched["id"].encode()
    published = await collect(settings, [lang_topic], count=1, timeout_s=60)
    assert [orjson.loads(p.value)["id"] for p in published] == [enriched["id"]]


async def test_accounting_every_raw_record_lands_in_exactly_one_output(settings, workers) -> None:
    """Several hundred mixed records: each ends in exactly one of ingested / duplicates / dlq."""
    values: list[bytes] = []
    expect = {"ingested": 0, "duplicates": 0, "dlq": 0}
    for i in range(240):
        values.append(orjson.dumps(_article(i)))
        expect["ingested"] += 1
    for i in range(0, 240, 4):  # exact copies: same content, tracking params differ
        a = _article(i)
        a["url"] = f"{a['url']}&utm_medium=social#top"
        values.append(orjson.dumps(a))
        expect["duplicates"] += 1
    bad = [b"\xff\xfe\x00bad", b"[]", b"42", b"{}", b'{"text": ""}', b'{"body": 42}']
    for i in range(60):
        values.append(bad[i % len(bad)])
        expect["dlq"] += 1
    values.append(SAMPLE)
    expect["ingested"] += 1
    random.Random(7).shuffle(values)
    workers.start("ingest")
    await produce(settings, values)
    t = settings.topics
    got = await collect(settings, [t.ingested, t.duplicates, t.dlq], count=len(values), timeout_s=120, settle_s=2)
    landed = _landed(got, settings)
    assert len(landed) == len(values), f"{len(landed)} raw records accounted for, of {len(values)}\n{workers.logs()}"
    assert all(len(topics) == 1 for topics in landed.values()), "a raw record landed in more than one output"
    by = _by_topic(got)
    assert {k: len(by.get(getattr(t, k), [])) for k in expect} == expect


async def test_sigkilled_ingest_worker_loses_nothing_and_makes_no_self_duplicates(settings, workers) -> None:
    """Kill -9 mid-run, restart: every record accounted for, none a duplicate of itself."""
    n = 600
    values = [orjson.dumps(_article(10_000 + i)) for i in range(n)]
    first = workers.start("ingest")
    await produce(settings, values[: n // 2])
    t = settings.topics
    # wait until the worker is mid-way, then kill it without warning
    await collect(settings, [t.ingested], count=50, timeout_s=60)
    workers.kill(first)
    await produce(settings, values[n // 2 :])
    workers.start("ingest")
    got = await collect(settings, [t.ingested, t.duplicates, t.dlq], count=n, timeout_s=120, settle_s=3)
    by = _by_topic(got)
    assert not by.get(t.dlq), by.get(t.dlq)
    assert not by.get(t.duplicates), f"self-duplicates after a crash: {by.get(t.duplicates, [])[:3]}"
    ids = {a["id"] for a in by[t.ingested]}
    assert len(ids) == n, f"{len(ids)} distinct articles of {n}\n{workers.logs()}"
    # redelivered records may be produced again, but always with the same result
    seen: dict[str, bytes] = {}
    for g in got:
        if g.topic == t.ingested:
            assert g.key is not None
            assert seen.setdefault(g.key.decode(), g.value) == g.value


async def test_two_ingest_workers_never_both_pass_the_same_article(settings, workers) -> None:
    """Copies of each article spread over partitions, two workers: exactly one copy passes."""
    workers.start("ingest")
    workers.start("ingest")
    originals = [_article(20_000 + i) for i in range(100)]
    values, keys = [], []
    for i, a in enumerate(originals):
        for copy in range(3):  # three exact copies, keyed so they land on different partitions
            b = dict(a)
            b["url"] = f"{a['url']}&utm_campaign=c{copy}"
            values.append(json.dumps(b).encode())
            keys.append(f"{i}-{copy}".encode())
    await produce(settings, values, keys=keys)
    t = settings.topics
    got = await collect(settings, [t.ingested, t.duplicates], count=len(values), timeout_s=120, settle_s=2)
    by = _by_topic(got)
    origins_per_id: dict[str, set[tuple[int, int]]] = {}
    for art in by.get(t.ingested, []):
        origins_per_id.setdefault(art["id"], set()).add((art["origin"]["partition"], art["origin"]["offset"]))
    assert len(origins_per_id) == len(originals), workers.logs()
    assert all(len(o) == 1 for o in origins_per_id.values()), "two copies of one article both passed"
    landed = _landed(got, settings)
    assert len(landed) == len(values) and all(len(x) == 1 for x in landed.values())


async def test_syndicated_copy_is_a_near_duplicate_and_other_stories_on_the_event_pass(settings, workers) -> None:
    """Through the running service: a syndicated copy -> news.duplicates (near, the original's id)."""
    from evaluation.neardup import load_cases

    cases = [c for c in load_cases() if c.base == "hokkaido-quake"]
    base = next(c for c in cases if c.label == "base")
    copies = [c for c in cases if c.label == "positive"]
    negatives = [c for c in cases if c.label == "negative"]
    assert copies and negatives
    workers.start("ingest")
    # the original first (its own batch), then the copies and the other stories on the same event
    await produce(settings, [orjson.dumps({"title": base.title, "body": base.body, "source": "Wire"})])
    t = settings.topics
    (original,) = await collect(settings, [t.ingested], count=1, timeout_s=60)
    original_id = orjson.loads(original.value)["id"]
    later = copies + negatives
    await produce(
        settings, [orjson.dumps({"title": c.title, "body": c.body, "source": f"Outlet {c.how}"}) for c in later]
    )
    got = await collect(settings, [t.ingested, t.duplicates, t.dlq], count=1 + len(later), timeout_s=60, settle_s=1)
    by = _by_topic(got)
    dups = by.get(t.duplicates, [])
    assert len(dups) == len(copies), workers.logs()
    assert {d["kind"] for d in dups} <= {"near", "exact"} and any(d["kind"] == "near" for d in dups)
    assert all(d["duplicate_of"] == original_id for d in dups)
    assert all(0.45 <= d["similarity"] <= 1.0 for d in dups)
    passed_titles = {a["title"] for a in by.get(t.ingested, [])}
    assert {n.title for n in negatives} <= passed_titles
