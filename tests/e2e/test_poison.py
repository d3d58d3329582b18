"""Poison records: each hostile case between two normal articles, through the three services.

The normal articles around each poison record come out promptly; the poison record is a dead
letter with a clear code, or is enriched (within its budget) and published; nothing is an
``internal_error``. A stuck worker still honours SIGTERM.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
import zlib
from pathlib import Path

import orjson
import pytest

from shared.events import valid_traceparent
from shared.kafka import make_producer
from shared.settings import Settings

from ..kafkautil import Got, collect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_WORDS = (
    "the minister said talks with the union would resume on monday after a week of strikes across the "
    "country while officials in the capital warned that the budget could not stretch much further"
).split()


_OTHER_WORDS = (
    "a storm closed schools and roads in the north as rivers rose and farmers moved cattle to higher ground "
    "before forecasters expected more rain through the weekend"
).split()


def _prose(n_bytes: int, seed: int, words: list[str] = _WORDS) -> str:
    """Valid English prose of about ``n_bytes`` bytes, in sentences and paragraphs (two with the same
    ``words`` are near duplicates of each other when long: MinHash sees the same word sequences)."""
    rnd = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < n_bytes:
        sentence = " ".join(rnd.choice(words) for _ in range(rnd.randint(8, 20))).capitalize() + "."
        out.append(sentence + ("\n\n" if rnd.random() < 0.2 else " "))
        size += len(sentence) + 1
    return "".join(out)


def _normal(tag: str) -> bytes:
    return orjson.dumps(
        {"title": f"Normal article {tag}", "body": f"Ordinary story {tag}. " + _prose(1500, zlib.crc32(tag.encode())),
         "url": f"https://news.example.org/normal/{tag}", "source": "Example"}
    )  # fmt: skip


def _poison_cases(settings: Settings) -> dict[str, tuple[bytes, list[tuple[str, bytes]]]]:
    """name -> (value, headers)."""
    one_sentence = " ".join(random.Random(5).choice(_WORDS) for _ in range(60_000))  # ~360 KB, no full stop
    over = settings.max_article_bytes + 1
    year_1, year_9999 = "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"
    ampersands = "<p>" + "&amp;" * 20_000 + "</p>"
    bad_chars = "<p>Zero &#0; surrogate &#xD800; control &#1; in a paragraph of the article body.</p>"
    cases = {
        "valid_1_05mb": {"title": "Big", "body": _prose(1_050_000, 1)},
        "valid_1_9mb": {"title": "Bigger", "body": _prose(1_900_000, 2, _OTHER_WORDS)},
        "yake_panic_sentence": {"title": "One long sentence", "body": one_sentence},
        "ampersands_20000": {"headline": "Ampersands", "body_html": ampersands},
        "date_year_1": {"title": "t", "body": _prose(400, 3), "published_at": year_1},
        "date_year_9999": {"title": "t", "body": _prose(400, 4), "published_at": year_9999},
        "ninjs_versioncreated_year_1": {"headline": "t", "body_text": _prose(400, 5), "versioncreated": year_1},
        "xml_bad_chars": {"headline": "Bad characters", "body_html": bad_chars},
    }
    out: dict[str, tuple[bytes, list[tuple[str, bytes]]]] = {k: (orjson.dumps(v), []) for k, v in cases.items()}
    out["over_limit"] = (b'{"text": "' + b"x" * (over - 12) + b'"}', [])
    out["invalid_utf8_750kb"] = (b"\xff\xfe" + b"\xc3\x28" * 375_000, [])
    out["traceparent_1mb"] = (_normal("with-huge-traceparent"), [("traceparent", b"00-" + b"a" * 1_000_000)])
    return out


async def _send(settings: Settings, items: list[tuple[bytes, list[tuple[str, bytes]]]]) -> None:
    producer = make_producer(settings)
    await producer.start()
    try:
        for value, headers in items:  # all on partition 0: a poison record must not hold up the ones behind it
            await (await producer.send(settings.topics.raw, value, partition=0, headers=headers or None))
    finally:
        await producer.stop()


def _origin(g: Got, dlq: str) -> int:
    d = orjson.loads(g.value)
    return d["source_offset"] if g.topic == dlq else d["origin"]["offset"]


async def test_each_poison_record_between_two_normal_ones(settings, workers, tmp_path: Path) -> None:
    routing = tmp_path / "routing.yaml"
    prefix = settings.topics.raw.split(".")[0]
    routing.write_text(f"routes:\n  - name: all\n    topic: {prefix}.published\n")
    workers.settings = settings.model_copy(update={"routing_file": routing})
    for service in ("ingest", "enrich", "publish"):
        workers.start(service)
    t = settings.topics
    # warm-up: the services are up and enrich has its models loaded before the clock starts
    await _send(settings, [(_normal("warm-up"), [])])
    assert await collect(settings, [t.enriched], count=1, timeout_s=120), workers.logs()

    cases = _poison_cases(settings)
    items: list[tuple[bytes, list[tuple[str, bytes]]]] = []
    for name, poison in cases.items():
        items += [(_normal(f"{name}-before"), []), poison, (_normal(f"{name}-after"), [])]
    sent_at = time.monotonic()
    await _send(settings, items)
    offsets = {name: 1 + 3 * i + 1 for i, name in enumerate(cases)}  # offset 0 is the warm-up article

    normal_offsets = {o for o in range(1, 1 + len(items)) if o not in offsets.values()}
    enriched: dict[int, Got] = {}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not normal_offsets <= set(enriched):
        for g in await collect(settings, [t.enriched], count=len(items), timeout_s=3):
            enriched.setdefault(orjson.loads(g.value)["origin"]["offset"], g)
    took = time.monotonic() - sent_at
    missing = sorted(normal_offsets - set(enriched))
    assert not missing, f"normal articles at offsets {missing} never came out\n{workers.logs()}"
    print(f"all {len(normal_offsets)} normal articles around {len(cases)} poison records enriched in {took:.1f}s")
    assert took < 120, f"the normal articles took {took:.0f}s"
    must_enrich = {offsets[n] for n in ("valid_1_05mb", "valid_1_9mb", "traceparent_1mb", "yake_panic_sentence",
                                        "xml_bad_chars")}  # fmt: skip
    while time.monotonic() < deadline and not must_enrich <= set(enriched):
        for g in await collect(settings, [t.enriched], count=len(items), timeout_s=3):
            enriched.setdefault(orjson.loads(g.value)["origin"]["offset"], g)
    print(f"and the poison records that are valid articles in {time.monotonic() - sent_at:.1f}s")

    got = await collect(settings, [t.ingested, t.duplicates, t.dlq], count=len(items) + 1, timeout_s=30, settle_s=2)
    letters = {_origin(g, t.dlq): orjson.loads(g.value) for g in got if g.topic == t.dlq}
    landed: dict[int, set[str]] = {}
    for g in got:
        landed.setdefault(_origin(g, t.dlq), set()).add(g.topic)
    assert all(len(v) == 1 for v in landed.values()), "a raw record landed in two outputs"
    assert len(landed) == len(items) + 1, f"{len(landed)} raw records accounted for of {len(items) + 1}"
    all_letters = [orjson.loads(g.value) for g in await collect(settings, [t.dlq], count=len(letters), timeout_s=5)]
    assert not [d for d in all_letters if d["error"]["code"] == "internal_error"], all_letters

    expect_dlq = {
        "over_limit": "too_large",
        "invalid_utf8_750kb": "invalid_utf8",
        "date_year_1": "invalid_field",
        "date_year_9999": "invalid_field",
        "ninjs_versioncreated_year_1": "invalid_field",
    }
    for name, code in expect_dlq.items():
        assert letters[offsets[name]]["error"]["code"] == code, (name, letters.get(offsets[name]))
    over = letters[offsets["over_limit"]]
    assert over["original_size"] == settings.max_article_bytes + 1 and len(over["original_sha256"]) == 64
    for name in ("valid_1_05mb", "valid_1_9mb", "traceparent_1mb", "yake_panic_sentence", "xml_bad_chars"):
        assert offsets[name] in enriched, f"{name} was not enriched: {letters.get(offsets[name])}"
    if offsets["ampersands_20000"] not in enriched:  # may be refused for having no words; never lost
        assert letters[offsets["ampersands_20000"]]["error"]["code"] in ("no_text", "too_short", "enrich_timeout")

    big = orjson.loads(enriched[offsets["valid_1_9mb"]].value)
    assert len(big["body"]) > 1_800_000 and big["enrichment"]["entities"] is not None
    panic = orjson.loads(enriched[offsets["yake_panic_sentence"]].value)["enrichment"]["keywords"]
    assert panic.get("value") or panic.get("reason"), panic
    trace = enriched[offsets["traceparent_1mb"]].headers["traceparent"].decode()
    assert valid_traceparent(trace) and len(trace) == 55

    published = await collect(settings, [f"{prefix}.published"], count=len(enriched), timeout_s=60, settle_s=1)
    published_ids = [orjson.loads(p.value)["origin"]["offset"] for p in published]
    assert offsets["valid_1_9mb"] in published_ids, "the 1.9 MB article was not published"
    assert len(published_ids) == len(set(published_ids)), "an article was published twice"


async def test_a_worker_blocked_on_a_dead_redis_still_stops_on_sigterm(settings_factory, workers) -> None:
    """Redis unreachable: the batch retries (offsets uncommitted), and SIGTERM still stops the worker."""
    dead = settings_factory(redis_url="redis://127.0.0.1:1/0")
    from shared.kafka import ensure_topics

    await ensure_topics(dead)
    workers.settings = dead
    proc = workers.start("ingest", NEWSFLOW_RETRY_WARN_AFTER_S="2")
    await _send(dead, [(_normal("blocked"), [])])
    log = Path(workers.log_dir / "ingest-0.log")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and b"has been blocked for" not in log.read_bytes():
        await asyncio.sleep(0.5)
    assert b"has been blocked for" in log.read_bytes(), workers.logs()
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    assert time.monotonic() - started < 20, "a blocked worker ignored SIGTERM"
    assert not await collect(dead, [dead.topics.ingested, dead.topics.dlq], count=1, timeout_s=2)
