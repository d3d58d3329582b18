"""Webhook delivery: deliveries/s to a local receiver, and what a dead endpoint does to a healthy one.

    python -m bench.webhooks [--articles 2000] [--paced 600] [--rate 150] [--rounds 2]

Publish's own path on the real Redis: the handler enqueues (batches of 200, as the consumer does), the
dispatcher signs and POSTs, the ledger records. The receiver is another process (aiohttp) that answers
200 at once on ``/ok`` and never answers on ``/dead`` (each attempt runs into the 15 s timeout), and
writes the arrival time of every request. Printed:

- throughput: articles enqueued at once to one healthy endpoint, deliveries/s from the first enqueue
  to the last arrival;
- delay of the healthy endpoint (enqueue -> arrival, p50 / p99) with articles paced at ``--rate``/s,
  without and with a dead endpoint subscribed to the same articles, in alternating rounds (the baseline
  is measured in the same run); the target is no measurable difference.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis

from bench._common import bench_settings
from devtools.embedded import free_port, port_open
from services.publish.bootstrap import Publish, bootstrap
from services.publish.subscriptions import Subscription, new_secret
from shared import codec
from shared.models import EnrichedArticle, Enrichment, Origin
from shared.records import InRecord, OutRecord
from shared.redis_client import delete_namespace

BODY = " ".join(["Officials said the storm had moved north overnight, and crews were restoring power."] * 25)


def _article(i: int, tag: str) -> bytes:
    from datetime import UTC, datetime

    a = EnrichedArticle(
        id=f"nf_{tag}_{i}", content_hash="h", title=f"Article {i}", body=BODY, raw_format="fields",
        ingested_at=datetime.now(UTC), origin=Origin(topic="raw", partition=0, offset=i), story_id=f"st_{i % 50}",
        enrichment=Enrichment.model_validate({
            "enriched_at": datetime.now(UTC),
            "language": {"code": "en", "method": "py3langid", "version": "0.4.0"},
            "countries": {"value": [{"code": "JP", "name": "Japan", "score": 1.0, "mentions": 1}],
                          "method": "gazetteer", "version": "1"},
        }),
    )  # fmt: skip
    return codec.dumps(a)


# --- the receiver (a child process) ---------------------------------------------------


def _receiver(port: int, log_path: str) -> None:
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        log.write(f"{time.time():.6f} {request.headers['webhook-id']}\n")
        return web.Response(status=204)

    async def dead(request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/ok", ok)
    app.router.add_post("/dead", dead)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, shutdown_timeout=0.5)


# --- the sender ----------------------------------------------------------------------------


async def _rig(redis_url: str, tmp: Path) -> tuple[Publish, Redis]:
    routing = tmp / "routing.yaml"
    routing.write_text("routes: []\n")
    s = bench_settings(
        "127.0.0.1:1", redis_url, "wh", routing_file=routing, webhook_poll_s=0.05,
        webhook_allow_insecure=True, webhook_allow_private_networks=True,  # the receivers are on 127.0.0.1
    )  # fmt: skip
    redis = Redis.from_url(redis_url)
    letters: list[OutRecord] = []

    async def sink(outs: list[OutRecord]) -> None:
        letters.extend(outs)

    async def no_topics(names: list[str]) -> None:
        return None

    return bootstrap(s, redis=redis, dead_letters=sink, ensure_topics=no_topics), redis


async def _subscribe(p: Publish, sub_id: str, url: str) -> None:
    sub = {"id": sub_id, "target": {"kind": "webhook", "url": url, "secrets": [new_secret()]}}
    await p.store.put(Subscription.model_validate(sub))
    await p.catalog.refresh()


def _arrivals(log: Path, tag: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in log.read_text().splitlines():
        at, msg_id = line.split(" ", 1)
        if f"_{tag}_" in msg_id:
            out.setdefault(msg_id, float(at))
    return out


async def _run(p: Publish, log: Path, tag: str, n: int, rate: float | None, sub: str) -> list[float]:
    """Enqueue ``n`` articles (at ``rate``/s, else at once); the healthy endpoint's delays in seconds."""
    values = [_article(i, tag) for i in range(n)]
    enqueued: dict[str, float] = {}
    batch = 200 if rate is None else max(1, int(rate / 20))  # paced: a batch every 50 ms
    started = time.time()
    for k in range(0, n, batch):
        if rate is not None:
            await asyncio.sleep(max(0.0, started + k / rate - time.time()))
        recs = [InRecord("enriched", 0, i, None, values[i]) for i in range(k, min(n, k + batch))]
        now = time.time()
        await p.handler.handle(recs)
        for i in range(k, min(n, k + batch)):
            enqueued[f"msg_nf_{tag}_{i}_v1_{sub}"] = now
    deadline = time.time() + 120
    while len(_arrivals(log, tag)) < n and time.time() < deadline:
        await asyncio.sleep(0.1)
    arrived = _arrivals(log, tag)
    if len(arrived) < n:
        pending = await p.outbox.pending(sub)
        raise RuntimeError(f"only {len(arrived)} of {n} deliveries arrived ({pending} pending)")
    return [arrived[k] - enqueued[k] for k in enqueued]


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def main_async(args: argparse.Namespace) -> None:
    redis_url = os.environ.get("NEWSFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    tmp = Path(tempfile.mkdtemp(prefix="nfbench-wh-"))
    log = tmp / "arrivals.log"
    log.touch()
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "bench.webhooks", "--receiver", str(port), str(log)])
    p, redis = await _rig(redis_url, tmp)
    tasks: list[asyncio.Task[None]] = []
    try:
        for _ in range(100):
            if port_open("127.0.0.1", port):
                break
            await asyncio.sleep(0.1)
        tasks.append(asyncio.create_task(p.dispatcher.run()))
        await _subscribe(p, "ok", f"http://127.0.0.1:{port}/ok")
        await _run(p, log, "warm", 200, None, "ok")
        t0 = time.time()
        delays = await _run(p, log, "burst", args.articles, None, "ok")
        total = max(delays) + 0.0
        print(f"throughput: {args.articles} deliveries to one endpoint in {total:.2f}s: "
              f"{args.articles / total:,.0f} deliveries/s (wall {time.time() - t0:.2f}s)")  # fmt: skip
        rows: dict[str, list[list[float]]] = {"healthy only": [], "healthy + dead endpoint": []}
        for r in range(args.rounds):
            for label in rows:
                if label.endswith("dead endpoint"):
                    await _subscribe(p, "dead", f"http://127.0.0.1:{port}/dead")
                tag = f"r{r}{'dead' if label.endswith('dead endpoint') else 'base'}"
                d = await _run(p, log, tag, args.paced, args.rate, "ok")
                rows[label].append(d)
                if label.endswith("dead endpoint"):
                    pending = await p.outbox.pending("dead")
                    await p.store.delete("dead")
                    await p.catalog.refresh()
                    print(f"  round {r + 1}: dead endpoint had {pending} deliveries pending (retrying)")
        print(f"healthy endpoint delay, enqueue -> arrival, {args.paced} articles at {args.rate:g}/s, "
              f"{args.rounds} rounds (median of rounds, range):")  # fmt: skip
        base_p99 = statistics.median(_p(d, 99) for d in rows["healthy only"])
        for label, runs in rows.items():
            p50s = [_p(d, 50) * 1000 for d in runs]
            p99s = [_p(d, 99) * 1000 for d in runs]
            print(f"  {label:<24} p50 {statistics.median(p50s):6.1f} ms   p99 {statistics.median(p99s):6.1f} ms "
                  f"(rounds {min(p99s):.1f}-{max(p99s):.1f})")  # fmt: skip
        dead_p99 = statistics.median(_p(d, 99) for d in rows["healthy + dead endpoint"])
        print(f"  a dead endpoint adds {1000 * (dead_p99 - base_p99):+.1f} ms to the healthy endpoint's p99")
    finally:
        receiver.kill()  # first: its hung /dead connections close with it
        receiver.wait()
        for t in tasks:
            t.cancel()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
        await delete_namespace(redis, p.settings.redis_namespace)
        await redis.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=2000, help="throughput run: articles enqueued at once")
    ap.add_argument("--paced", type=int, default=600, help="delay runs: articles per run")
    ap.add_argument("--rate", type=float, default=150.0, help="delay runs: articles per second")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--receiver", nargs=2, metavar=("PORT", "LOG"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.receiver:
        _receiver(int(args.receiver[0]), args.receiver[1])
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
