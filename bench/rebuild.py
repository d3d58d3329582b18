"""How long a rebuild of the Redis state from the log takes, and its peak memory, beside raw consumption.

    python -m bench.rebuild [--articles 100000] [--words 250] [--phases consume,dedup,...]

Starts its own Tansu broker and its own Redis (no persistence, on free ports), produces ``--articles``
article records shaped as ingest writes them (``--words`` words of body, 8 partitions, keyed by id) to
``news.ingested`` with one duplicate record per ten articles on ``news.duplicates``, and as many
routed records with ``ce_id`` headers to a routed topic. Then, each in its own child process (a fresh
interpreter: its VmHWM is its own), on the same topics in the same run:

- ``consume``: the baseline: :func:`shared.rebuild.read_log` over news.ingested + news.duplicates,
  every record read and parsed as JSON, nothing written (the floor any rebuild from the log has);
- ``dedup``: ingest's dedup rebuild as the gate runs it (the MinHash signatures read from the
  ``newsflow_minhash`` header ingest writes);
- ``dedup-resign``: the same on records without that header (as versions before it wrote them): every
  signature computed again from title and body;
- ``dedup-exact``: the same without near-duplicate signatures (``NEWSFLOW_NEAR_DEDUP=false``);
- ``ledger``: publish's delivery-ledger rebuild over the routed topic;
- ``consume`` again at the end (the first one reads a cold broker);
- ``consume-enriched``: the baseline for the story index: the same reader over ``news.enriched``, each
  record parsed as JSON, nothing written;
- ``stories``: enrich's story-index rebuild as the gate runs it (each record validated as an enriched
  article, its signature computed again, its recorded story restored).

The enriched records (``news.enriched``, only produced when a story phase is asked for) are the articles
with entities (two people, an organisation and a place shared by the five articles of a story, plus one of
the article's own), a country, four key phrases and their ``story_id`` (five articles per story).

Prints records/s, seconds and peak RSS per phase, and Redis' memory after the dedup rebuild.
Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from shared.records import InRecord

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
_VOCAB = (
    "market election storm vaccine league court climate budget rocket strike museum harvest minister talks "
    "border river summit factory police festival airline bank drought parliament coach merger satellite"
).split()


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _article(i: int, words: int, topic: str) -> dict[str, Any]:
    rnd = random.Random(i)
    body = " ".join(rnd.choice(_VOCAB) for _ in range(words))
    aid = f"{i:016x}"
    return {
        "schema_version": 1, "id": aid, "version": 1, "content_hash": f"{i:032x}", "title": f"Story {i}",
        "body": body, "url": f"https://bench.example.org/{i}", "canonical_url": f"https://bench.example.org/{i}",
        "source": "Bench", "raw_format": "fields", "ingested_at": datetime.now(UTC).isoformat(),
        "origin": {"topic": topic, "partition": i % 8, "offset": i // 8},
    }  # fmt: skip


def _enriched(a: dict[str, Any]) -> bytes:
    """``a`` as enrich writes it: the enrichment a story signature is computed from, and its story."""
    i = int(a["id"], 16)
    story = i // 5  # five reports per event
    rnd = random.Random(story)
    first = {"in": "body", "start": 0, "end": 5}

    def ent(name: str, mentions: int) -> dict[str, Any]:
        return {"name": name, "mentions": mentions, "first": first}

    people = [ent(f"Person{rnd.randrange(10**6)} Surname", 3), ent(f"Person{rnd.randrange(10**6)} Other", 2),
              ent(f"Reporter{i} Own", 1)]  # fmt: skip
    enrichment = {
        "enriched_at": a["ingested_at"],
        "entities": {"method": "bench", "version": "1", "people": people,
                     "organizations": [ent(f"Org{rnd.randrange(10**5)}", 2)],
                     "places": [ent(f"Town{rnd.randrange(10**5)}", 1)], "groups": []},
        "countries": {"method": "bench", "version": "1",
                      "value": [{"code": "FR", "name": "France", "score": 1.0, "mentions": 2}]},
        "keywords": {"method": "bench", "version": "1", "language": "en",
                     "value": [{"text": f"{rnd.choice(_VOCAB)} {rnd.choice(_VOCAB)}", "score": 1.0 - k / 10}
                               for k in range(4)]},
    }  # fmt: skip
    return orjson.dumps({**a, "enrichment": enrichment, "story_id": f"st_{story:016x}"})


_Rec = tuple[bytes, bytes, list[tuple[str, bytes]]]  # key, value, headers


def _produce_dedup_topics(s: Any, routed: str, arts: list[dict[str, Any]], lo: int, sign: Any) -> int:
    """``arts`` on news.ingested (with the signature header ingest writes), a near-duplicate record per ten on
    news.duplicates and a routed record each; the bytes written to news.ingested."""
    from services.ingest.fingerprint import comparison_text
    from services.ingest.handler import SIGNATURE_HEADER

    t = s.topics
    sigs = sign([comparison_text(a["title"], a["body"]) for a in arts])  # ingest writes each in a header
    ingested: list[_Rec] = [
        (a["id"].encode(), orjson.dumps(a), [(SIGNATURE_HEADER, base64.b64encode(sig))])
        for a, (sig, _) in zip(arts, sigs, strict=True)
    ]
    dups: list[_Rec] = [
        (f"d{i}".encode(), orjson.dumps({"id": f"d{i}", "duplicate_of": a["id"], "kind": "near",
         "reason": "minhash", "similarity": 0.9, "content_hash": f"d{i:031x}", "origin": a["origin"],
         "detected_at": a["ingested_at"]}), [])
        for i, a in enumerate(arts, lo) if i % 10 == 0
    ]  # fmt: skip
    pub: list[_Rec] = [
        (a["id"].encode(), b'{"id":"' + a["id"].encode() + b'"}',
         [("ce_type", b"io.newsflow.article.published"), ("ce_id", f"all:{a['id']}:v1".encode())])
        for a in arts
    ]  # fmt: skip
    asyncio.run(_produce(s.bootstrap_servers, t.ingested, ingested))
    asyncio.run(_produce(s.bootstrap_servers, t.duplicates, dups))
    asyncio.run(_produce(s.bootstrap_servers, routed, pub))
    return sum(len(v) for _, v, _ in ingested)


async def _produce(bootstrap: str, topic: str, records: list[_Rec]) -> None:
    from aiokafka import AIOKafkaProducer

    p = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1_048_576)
    await p.start()
    try:
        for i in range(0, len(records), 5000):
            await asyncio.gather(*[await p.send(topic, v, key=k, headers=h) for k, v, h in records[i : i + 5000]])
    finally:
        await p.stop()


def _settings(env: dict[str, str]) -> Any:
    os.environ.update(env)
    from shared.settings import Settings

    return Settings()


async def _without_headers(batches: AsyncIterator[list[InRecord]]) -> AsyncIterator[list[InRecord]]:
    async for batch in batches:
        yield [replace(r, headers={}) for r in batch]


def child(phase: str) -> None:
    """One phase (see the module doc), in this process; prints its figures as one JSON line."""
    from redis.asyncio import Redis

    from services.enrich.rebuild import story_rebuild
    from services.enrich.stories import RedisStoryIndex
    from services.ingest.bootstrap import minhash_params, signer
    from services.ingest.rebuild import DedupRebuilder, dedup_rebuild
    from services.publish.rebuild import LedgerRebuilder
    from shared.rebuild import Progress, read_log

    s = _settings({})
    t = s.topics
    routed = os.environ["BENCH_ROUTED_TOPIC"]

    async def run() -> dict[str, Any]:
        redis = Redis.from_url(s.redis_url)
        progress = Progress()
        started = time.perf_counter()
        if phase in ("consume", "consume-enriched"):
            read = 0
            topics = [t.enriched] if phase == "consume-enriched" else [t.ingested, t.duplicates]
            async for batch in read_log(s, topics, 0, progress):
                for r in batch:
                    orjson.loads(r.value or b"")
                read += len(batch)
        elif phase == "stories":
            read = await story_rebuild(s, RedisStoryIndex(redis, s))(progress)
        elif phase in ("dedup", "dedup-exact"):
            sign = signer(minhash_params(s)) if phase == "dedup" else None
            read = await dedup_rebuild(s, redis, sign, minhash_params(s))(progress)
        elif phase == "dedup-resign":  # records as older versions wrote them: no signature header
            params = minhash_params(s)
            dedup = DedupRebuilder(
                redis, s.redis_key("dedup"), s.dedup_window_s, t.ingested, t.duplicates, signer(params), params
            )
            read = await dedup.run(_without_headers(read_log(s, [t.ingested, t.duplicates], 0, progress)))
        else:
            ledger = LedgerRebuilder(redis, s.redis_key("delivered"), s.delivery_window_s, t.deliveries)
            read = await ledger.run(read_log(s, [routed], 0, progress))
        seconds = time.perf_counter() - started
        mem = await redis.info("memory")
        await redis.aclose()
        return {"phase": phase, "records": read, "seconds": seconds, "peak_mb": _hwm_mb(),
                "redis_mb": mem["used_memory"] / 2**20}  # fmt: skip

    print(json.dumps(asyncio.run(run())), flush=True)


def _run_child(phase: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.rebuild", "--child", phase], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=False)  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--words", type=int, default=250)
    ap.add_argument("--phases",
                    default="consume,dedup,dedup-resign,dedup-exact,ledger,consume,consume-enriched,stories,"
                            "consume-enriched",
                    help="comma-separated: consume, dedup, dedup-resign, dedup-exact, ledger, consume-enriched, "
                         "stories")  # fmt: skip
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return

    from bench._common import bench_settings
    from devtools.embedded import free_port, start_redis, start_tansu, stop
    from services.ingest.bootstrap import minhash_params, signer
    from shared.kafka import ensure_topics

    bport, rport = free_port(), free_port()
    broker, redis = start_tansu(bport), start_redis(rport)
    try:
        s = bench_settings(f"127.0.0.1:{bport}", f"redis://127.0.0.1:{rport}/0", "rb")
        t = s.topics
        routed = f"{t.raw.split('.')[0]}.published"
        asyncio.run(ensure_topics(s, [*t.all(), routed]))
        n = args.articles
        phases = args.phases.split(",")
        story_phases = {"stories", "consume-enriched"}
        dedup_phases = set(phases) - story_phases
        started = time.perf_counter()
        sign = signer(minhash_params(s))
        size = enriched_size = 0
        for lo in range(0, n, 10_000):  # in slices: the parent holds one slice of records at a time
            arts = [_article(i, args.words, t.raw) for i in range(lo, min(n, lo + 10_000))]
            if dedup_phases:
                size += _produce_dedup_topics(s, routed, arts, lo, sign)
            if story_phases & set(phases):
                enriched: list[_Rec] = [(a["id"].encode(), _enriched(a), []) for a in arts]
                enriched_size += sum(len(v) for _, v, _ in enriched)
                asyncio.run(_produce(s.bootstrap_servers, t.enriched, enriched))
        made: list[str] = []
        if dedup_phases:
            made.append(f"{size / 2**20:.0f} MB on {t.ingested}, {(n + 9) // 10:,} duplicates, {n:,} routed records")
        if story_phases & set(phases):
            made.append(f"{enriched_size / 2**20:.0f} MB on {t.enriched}")
        print(f"produced {n:,} articles ({'; '.join(made)}) in {time.perf_counter() - started:.0f}s", flush=True)
        env = {**os.environ, **s.to_env(), "BENCH_ROUTED_TOPIC": routed, "NEWSFLOW_LOG_LEVEL": "WARNING"}
        print(f"\nrebuild from the log, {n:,} articles in the window (same run, same topics):")
        print(f"{'phase':<28} {'records':>9} {'seconds':>8} {'records/s':>10} {'peak RSS MB':>12} {'Redis MB':>9}")
        names = {"consume": "consume only (baseline)", "dedup": "dedup rebuild (MinHash)",
                 "dedup-resign": "dedup rebuild (re-signing)",
                 "dedup-exact": "dedup rebuild (exact only)", "ledger": "delivery ledger rebuild",
                 "consume-enriched": "consume enriched (baseline)", "stories": "story index rebuild"}  # fmt: skip
        import redis as redis_sync

        for phase in phases:
            # each rebuild into an empty Redis
            redis_sync.Redis.from_url(s.redis_url, socket_timeout=600).flushdb()
            r = _run_child(phase, {**env, "NEWSFLOW_NEAR_DEDUP": str(phase != "dedup-exact").lower()})
            print(f"{names[r['phase']]:<28} {r['records']:>9,} {r['seconds']:>8.1f} "
                  f"{r['records'] / r['seconds']:>10,.0f} {r['peak_mb']:>12.0f} {r['redis_mb']:>9.0f}",
                  flush=True)  # fmt: skip
    finally:
        stop(broker)
        stop(redis)


if __name__ == "__main__":
    main()
