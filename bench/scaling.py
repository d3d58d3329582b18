"""Scale-out on the embedded broker: enrich throughput with 1 vs 2 workers, and rebalance pauses.

    python -m bench.scaling [--articles 1920] [--rounds 3]

- Throughput: the same articles (the labelled evaluation set, repeated with distinct ids) on a fresh
  topic pair, consumed by 1 and then by 2 enrich workers of one group, each a separate process. The
  workers join the group first (their ``/readyz`` reports partitions), then the articles are produced;
  the clock runs from the start of producing to the last enriched record. 1 and 2 workers take turns
  for ``--rounds`` rounds and the speed-up is the median of the rounds' ratios, printed with its range:
  on a shared 2-core machine one pair of runs gave anything from 1.6x to 2.2x.
- Rebalance pauses, on ingest (cheap per record, so gaps show the group's pause and not the work): a
  steady stream is consumed by one worker; a second joins (the pause while the group rebalances), then
  one is SIGKILLed (its partitions are idle until the session timeout expires and the group rebalances).
  The pause is the longest gap between consecutive output records around each event.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench._common import bench_settings, child_env, produce_all
from devtools.embedded import free_port, start_tansu, stop
from services.clients import topic_partitions
from shared import codec
from shared.kafka import ensure_topics
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 8


def settings_for(bootstrap: str, redis_url: str) -> Settings:
    return bench_settings(bootstrap, redis_url, "s", partitions=PARTITIONS, commit_interval_s=0.5)


def start(service: str, s: Settings) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", service], env=child_env(s, NEWSFLOW_WEB_PORT=str(port)), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return proc, port


def partitions_held(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return int(json.loads(r.read())["checks"]["partitions"])
    except Exception:
        return 0


def wait_shared(ports: list[int], timeout_s: float = 180) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        counts = [partitions_held(p) for p in ports]
        if sum(counts) == PARTITIONS and all(counts):
            return counts
        time.sleep(0.3)
    raise TimeoutError(f"workers never shared the partitions: {counts}")


async def arrival_times(
    s: Settings,
    topics: list[str],
    n: int,
    timeout_s: float = 900,
    by_origin: bool = False,
    sink: list[tuple[float, int]] | None = None,
) -> list[tuple[float, int]]:
    """(monotonic arrival time, source partition or -1) of the first ``n`` records on ``topics``.

    Appends to ``sink`` as records arrive (so a cancelled reader keeps what it saw).
    """
    c = AIOKafkaConsumer(bootstrap_servers=s.bootstrap_servers, group_id=None, enable_auto_commit=False)
    await c.start()
    try:
        tps = []
        for t in topics:
            tps += await topic_partitions(c, t)
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        times: list[tuple[float, int]] = sink if sink is not None else []
        deadline = time.monotonic() + timeout_s
        while len(times) < n and time.monotonic() < deadline:
            batch = await c.getmany(timeout_ms=50)
            now = time.monotonic()
            for msgs in batch.values():
                for m in msgs:
                    times.append((now, orjson.loads(m.value)["origin"]["partition"] if by_origin else -1))
        return times[:n]
    finally:
        await c.stop()


def enrich_articles(n: int) -> list[bytes]:
    from evaluation.enrich_eval import load_eval_set

    items = load_eval_set()
    out = []
    for i in range(n):
        a = items[i % len(items)].article.model_copy(update={"id": f"nf_bench{i:06d}", "content_hash": f"b{i}"})
        out.append(codec.dumps(a))
    return out


def enrich_throughput(bootstrap: str, redis_url: str, workers: int, values: list[bytes]) -> float:
    s = settings_for(bootstrap, redis_url)
    asyncio.run(ensure_topics(s))
    procs = [start("enrich", s) for _ in range(workers)]
    try:
        wait_shared([port for _, port in procs])
        # the clock starts when the articles start arriving (workers already joined) and stops at the last
        # output: a worker produces a batch's outputs together, so first-to-last output would miss its work
        started = time.monotonic()
        asyncio.run(produce_all(s, s.topics.ingested, values))
        times = asyncio.run(arrival_times(s, [s.topics.enriched], len(values)))
        if len(times) < len(values):
            raise RuntimeError(f"only {len(times)} of {len(values)} enriched")
        return len(values) / (times[-1][0] - started)
    finally:
        for p, _ in procs:
            p.terminate()
        for p, _ in procs:
            p.wait(60)


async def _stream(s: Settings, rate: int, seconds: float, start_i: int) -> int:
    """Produce ``rate`` raw articles a second for ``seconds``; return how many."""
    p = AIOKafkaProducer(bootstrap_servers=s.bootstrap_servers, linger_ms=5)
    await p.start()
    sent = 0
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            futs = []
            for _ in range(rate // 10):
                i = start_i + sent
                body = f"Story {i}. " + " ".join(f"w{(i * 131 + k * 17) % 100_003}" for k in range(60))
                futs.append(await p.send(s.topics.raw, orjson.dumps({"title": f"S{i}", "body": body})))
                sent += 1
            await asyncio.gather(*futs)
            await asyncio.sleep(0.1)
    finally:
        await p.stop()
    return sent


def longest_gap(times: list[tuple[float, int]], after: float, before: float) -> float:
    """The longest time any one source partition went without output between ``after`` and ``before``."""
    worst = 0.0
    for part in {p for _, p in times}:
        window = [t for t, p in times if p == part and after - 0.5 <= t <= before]
        worst = max([worst, *(b - a for a, b in itertools.pairwise(window))])
    return worst


def rebalance_pauses(bootstrap: str, redis_url: str, rate: int = 200) -> dict[str, float]:
    s = settings_for(bootstrap, redis_url)
    asyncio.run(ensure_topics(s))
    first, p1 = start("ingest", s)
    wait_shared([p1])
    marks: dict[str, float] = {}
    loop = asyncio.new_event_loop()
    topics = [s.topics.ingested, s.topics.duplicates]
    times: list[tuple[float, int]] = []
    collector = loop.create_task(arrival_times(s, topics, 10**9, timeout_s=120, by_origin=True, sink=times))
    producer = loop.create_task(_stream(s, rate, 40, 0))
    second = None

    async def script() -> None:
        nonlocal second
        await asyncio.sleep(8)
        marks["join"] = time.monotonic()
        second, p2 = start("ingest", s)
        while not all(partitions_held(p) for p in (p1, p2)):
            await asyncio.sleep(0.2)
        marks["joined"] = time.monotonic()
        await asyncio.sleep(8)
        marks["kill"] = time.monotonic()
        first.send_signal(signal.SIGKILL)
        first.wait()
        await asyncio.sleep(20)
        marks["end"] = time.monotonic()

    try:
        loop.run_until_complete(script())
        sent = loop.run_until_complete(producer)
        loop.run_until_complete(asyncio.sleep(5))
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(collector)
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(30)
        loop.close()
    return {
        "sent": float(sent),
        "join_pause_s": longest_gap(times, marks["join"], marks["kill"]),
        "join_to_assigned_s": marks["joined"] - marks["join"],
        "kill_pause_s": longest_gap(times, marks["kill"], marks["end"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1920)
    ap.add_argument("--rounds", type=int, default=3, help="1-worker and 2-worker runs, taken in turns")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()
    port = free_port()
    broker = start_tansu(port)
    bootstrap = f"127.0.0.1:{port}"
    try:
        values = enrich_articles(args.articles)
        print(f"scaling benchmark: Tansu {bootstrap}, {PARTITIONS} partitions, {os.cpu_count()} cores", flush=True)
        rates: dict[int, list[float]] = {1: [], 2: []}
        for r in range(max(1, args.rounds)):
            for workers in (1, 2):
                rates[workers].append(enrich_throughput(bootstrap, args.redis_url, workers, values))
            print(f"  round {r + 1}: 1 worker {rates[1][-1]:6.1f}, 2 workers {rates[2][-1]:6.1f} art/s", flush=True)
        ratios = sorted(two / one for one, two in zip(rates[1], rates[2], strict=True))
        print(f"  enrich, 1 worker : {statistics.median(rates[1]):6.1f} articles/s (median)", flush=True)
        print(f"  enrich, 2 workers: {statistics.median(rates[2]):6.1f} articles/s (median)", flush=True)
        print(f"  speed-up 2 vs 1  : {statistics.median(ratios):.2f}x median of the rounds ({ratios[0]:.2f}x-"
              f"{ratios[-1]:.2f}x; target >= 1.8x on 2 cores)", flush=True)  # fmt: skip
        pauses = rebalance_pauses(bootstrap, args.redis_url)
        print(f"  ingest stream of {pauses['sent']:.0f} records at ~200/s:")
        join, shared = pauses["join_pause_s"], pauses["join_to_assigned_s"]
        print(f"    a second worker joins: longest output gap {join:.1f}s (shared {shared:.1f}s after its start)")
        print(f"    a worker is SIGKILLed: longest output gap {pauses['kill_pause_s']:.1f}s (session timeout 6s)")
    finally:
        stop(broker)


if __name__ == "__main__":
    main()
