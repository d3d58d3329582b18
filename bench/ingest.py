"""Ingest throughput next to its baselines, measured in the same run on the same broker.

    python -m bench.ingest [--records 20000]

Prints events/s for: a raw aiokafka batch loop (consume, produce, commit per batch); the textbook
Faust agent (one ``await send`` per event); newsflow's Faust batch agent doing no work
(passthrough); and newsflow ingest with parsing, exact + near dedup on the real Redis. Each worker
runs as its own process against a fresh topic pair holding the same records; the clock runs from the
first output record to the last, so the group join is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis

from bench._common import bench_settings, child_env, peak_rss_mb, produce_all
from devtools.embedded import free_port, port_open, start_tansu, stop
from services.clients import topic_partitions
from shared.kafka import ensure_topics
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
WORDS = """government minister said on Tuesday that the new policy would help families across the country
while opposition leaders warned that costs could rise sharply for small businesses and farmers in the north
where flooding last year destroyed crops and roads officials added""".split()


LEAN_PASSTHROUGH = "the same on the lean path (shared.bulk), no work"


def make_articles(n: int, seed: int = 1) -> list[bytes]:
    """~3 KB JSON articles; 10 % exact copies (other URL tracking params), 5 % near copies."""
    rnd = random.Random(seed)
    out: list[bytes] = []
    bases: list[dict[str, object]] = []
    for i in range(n):
        r = rnd.random()
        if bases and r < 0.10:
            a = dict(rnd.choice(bases))
            a["url"] = f"{a['url']}?utm_source=bench{i}"
        elif bases and r < 0.15:
            a = dict(rnd.choice(bases))
            words = str(a["body"]).split(" ")
            words[rnd.randrange(len(words))] = "changed"
            a["body"] = " ".join(words)
            a["url"] = f"https://mirror.example.net/{i}"
        else:
            body = " ".join(rnd.choice(WORDS) + ("." if k % 15 == 14 else "") for k in range(450))
            a = {"title": f"Bench story {i}", "body": body, "url": f"https://news.example.com/{i}", "source": "Bench"}
            bases.append(a)
        out.append(orjson.dumps(a))
    return out


def settings_for(bootstrap: str, redis_url: str) -> Settings:
    return bench_settings(bootstrap, redis_url, "b", batch_size=500)


async def load(s: Settings, values: list[bytes]) -> None:
    await ensure_topics(s)
    await produce_all(s, s.topics.raw, values)


async def count_outputs(s: Settings, n: int, timeout_s: float = 600) -> float:
    """Seconds from the first output record to the n-th, over ingested + duplicates + dlq."""
    c = AIOKafkaConsumer(bootstrap_servers=s.bootstrap_servers, group_id=None, enable_auto_commit=False)
    await c.start()
    try:
        tps = []
        for t in (s.topics.ingested, s.topics.duplicates, s.topics.dlq):
            tps += await topic_partitions(c, t)
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        seen, first = 0, None
        deadline = time.monotonic() + timeout_s
        while seen < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {seen} of {n} outputs")
            batch = await c.getmany(timeout_ms=100, max_records=10_000)
            got = sum(len(m) for m in batch.values())
            if got and first is None:
                first = time.monotonic()
            seen += got
        return time.monotonic() - (first or time.monotonic())
    finally:
        await c.stop()


async def aiokafka_loop(s: Settings, n: int) -> float:
    """The ceiling: a consume-produce-commit batch loop with no framework and no work."""
    c = AIOKafkaConsumer(
        s.topics.raw, bootstrap_servers=s.bootstrap_servers, group_id=f"{s.group_prefix}-loop",
        enable_auto_commit=False, auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=1000,
    )  # fmt: skip
    p = AIOKafkaProducer(bootstrap_servers=s.bootstrap_servers, linger_ms=5, max_batch_size=1_048_576)
    await c.start()
    await p.start()
    try:
        done, first = 0, None
        while done < n:
            batch = await c.getmany(timeout_ms=200, max_records=2000)
            if not batch:
                continue
            first = first or time.monotonic()
            futs = [await p.send(s.topics.ingested, m.value, key=m.key) for msgs in batch.values() for m in msgs]
            await asyncio.gather(*futs)
            await c.commit()
            done += len(futs)
        return time.monotonic() - (first or time.monotonic())
    finally:
        await p.stop()
        await c.stop()


def run_worker_mode(mode: str, s: Settings, values: list[bytes]) -> tuple[float, float]:
    asyncio.run(load(s, values))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._worker", mode], env=child_env(s), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        seconds = asyncio.run(count_outputs(s, len(values)))
        rss_mb = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    return seconds, rss_mb


async def cleanup(s: Settings) -> None:
    r = Redis.from_url(s.redis_url)
    keys = [k async for k in r.scan_iter(match=f"{s.redis_namespace}:*", count=5000)]
    for i in range(0, len(keys), 5000):
        await r.delete(*keys[i : i + 5000])
    await r.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()
    n = args.records
    values = make_articles(n)
    size = sum(map(len, values)) / n
    broker = None
    port = free_port()
    broker = start_tansu(port)
    bootstrap = f"127.0.0.1:{port}"
    if not port_open("127.0.0.1", 6379) and args.redis_url.endswith(":6379/0"):
        raise SystemExit("no Redis at 127.0.0.1:6379 (scripts/ensure-redis.sh starts one)")
    print(f"ingest benchmark: {n} records of {size / 1024:.1f} KB, 8 partitions, Tansu {bootstrap}, one process each")
    results: list[tuple[str, float]] = []
    try:
        s = settings_for(bootstrap, args.redis_url)
        asyncio.run(load(s, values))
        secs = asyncio.run(aiokafka_loop(s, n))
        results.append(("aiokafka batch loop, no work (ceiling)", n / secs))
        for mode, label in (
            ("faust-naive", "Faust agent, await send per event, no work"),
            ("faust-passthrough", "Faust batch agent (newsflow's loop), no work"),
            ("bulk-passthrough", LEAN_PASSTHROUGH),
            ("ingest", "newsflow ingest: parse + exact + near dedup (Redis)"),
        ):
            s = settings_for(bootstrap, args.redis_url)
            secs, rss = run_worker_mode(mode, s, values)
            results.append((label, n / secs))
            asyncio.run(cleanup(s))
            print(f"  {label:<55} {n / secs:>9,.0f} events/s  worker peak RSS {rss:,.0f} MB", flush=True)
    finally:
        stop(broker)
    base = dict(results)
    passthrough = base["Faust batch agent (newsflow's loop), no work"]
    naive = base["Faust agent, await send per event, no work"]
    ingest = base["newsflow ingest: parse + exact + near dedup (Redis)"]
    print()
    print(f"{'variant':<58}{'events/s':>10}")
    for label, rate in results:
        print(f"{label:<58}{rate:>10,.0f}")
    print()
    print(f"ingest / Faust batch passthrough : {ingest / passthrough:.2f}  (target >= 0.80)")
    lean = base[LEAN_PASSTHROUGH]
    print(f"ingest / the same, lean path     : {ingest / lean:.2f}  (the work's own cost)")
    print(f"ingest / naive Faust agent       : {ingest / naive:.2f}")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
