"""Intake at scale: many sources on a local server, polled by one and by two intake replicas.

    python -m bench.intake [--sources 5000] [--interval 300] [--duration 330] [--new-per-s 5] [--quick]

Starts a Tansu broker and a Redis of its own, and a feed server in another process serving ``--sources`` RSS
feeds (``/f/<n>.xml``, 20 entries each, with ETag / 304 like a real news site); the server adds a new entry to
a random feed ``--new-per-s`` times a second, its creation time in its link. Then, for one and for two intake
replicas (``python -m services.cli intake``, each its own process, sources from a YAML file, every
``--interval`` seconds), for ``--duration`` seconds: polls per second (the feed server's count), the intake
processes' CPU (share of one core, from /proc), and the delay of each new entry from its creation to its record
in ``news.raw`` (the broker's timestamp): p50 / p99 / max. A new entry waits for its feed's next poll, so the
delay is bounded by the interval; what the bench checks is that it is not more (replicas keep up).

Baseline, in the same run: the loop a user writes first (one process, ``feedparser.parse(url)`` for each source in
turn, no conditional GET, no robots.txt), one pass over the same sources: polls per second and CPU per poll.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from devtools.embedded import free_port, start_redis, start_tansu, stop
from shared.settings import Settings, Topics

ROOT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


# --------------------------------------------------------------------------- the feed server (its own process)
def serve(port: int, sources: int, new_per_s: float) -> None:
    """The feed server: ``/f/<n>.xml`` and ``/robots.txt``; ``/stats`` gives the request counts."""
    from aiohttp import web

    entries: list[list[tuple[str, float]]] = [[(f"{n}-{k}", 0.0) for k in range(20)] for n in range(sources)]
    versions = [0] * sources
    stats = {"feeds": 0, "not_modified": 0}

    def render(n: int) -> bytes:
        items = "".join(
            f"<item><guid>{g}</guid><title>Entry {g}</title><link>https://feeds.example/{n}/{g}?t={t}</link>"
            f"<description>Entry {g} of feed {n}.</description></item>"
            for g, t in entries[n][:20]
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>{items}</channel></rss>'.encode()
        )

    async def feed(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        etag = f'"{versions[n]}"'
        stats["feeds"] += 1
        if request.headers.get("If-None-Match") == etag:
            stats["not_modified"] += 1
            return web.Response(status=304)
        return web.Response(body=render(n), content_type="application/rss+xml", headers={"ETag": etag})

    async def robots(request: web.Request) -> web.Response:
        return web.Response(text="User-agent: *\nAllow: /\n")

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    async def publisher(app: web.Application) -> None:
        async def loop() -> None:
            made = 0
            while True:
                await asyncio.sleep(1 / new_per_s)
                n = random.randrange(sources)
                made += 1
                entries[n].insert(0, (f"{n}-new{made}", time.time()))
                versions[n] += 1

        app["publisher"] = asyncio.create_task(loop())

    app = web.Application()
    app.router.add_get("/f/{n}.xml", feed)
    app.router.add_get("/robots.txt", robots)
    app.router.add_get("/stats", get_stats)
    app.on_startup.append(publisher)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --------------------------------------------------------------------------- the bench
def _stats(base: str) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(f"{base}/stats", timeout=10) as r:  # our own local server
        return dict(orjson.loads(r.read()))


async def _delays(settings: Settings, since_ms: int) -> list[float]:
    """Creation -> broker timestamp of every new entry in news.raw produced after ``since_ms``."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(settings.topics.raw, bootstrap_servers=settings.bootstrap_servers,
                                auto_offset_reset="earliest", enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    out: list[float] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=2000, max_records=5000)
            if not batch:
                break
            for records in batch.values():
                for rec in records:
                    if rec.timestamp < since_ms:
                        continue
                    url = str(orjson.loads(rec.value).get("url", ""))
                    if "new" in url and "?t=" in url:
                        created = float(url.rsplit("?t=", 1)[1])
                        if created * 1000 >= since_ms:  # made during this run, not while the last one stopped
                            out.append(rec.timestamp / 1000 - created)
    finally:
        await consumer.stop()
    return out


def run_intake(settings: Settings, base: str, args: argparse.Namespace, replicas: int, log_dir: Path) -> dict[str, Any]:
    sources = log_dir / f"sources-{replicas}.yaml"
    sources.write_text(
        "".join(f"- id: f{n}\n  url: {base}/f/{n}.xml\n  interval_s: {args.interval}\n  fetch_pages: false\n"
                for n in range(args.sources)), "utf-8",
    )  # fmt: skip
    ns = f"benchintake{replicas}{random.randrange(10**6)}"
    env = {
        **os.environ, **settings.to_env(), "NEWSFLOW_REDIS_NAMESPACE": ns,
        "NEWSFLOW_INTAKE_SOURCES_FILE": str(sources), "NEWSFLOW_INTAKE_ALLOW_PRIVATE_NETWORKS": "true",
        "NEWSFLOW_INTAKE_HOST_INTERVAL_S": "0", "NEWSFLOW_INTAKE_HOST_CONCURRENCY": "64",
        "NEWSFLOW_INTAKE_CONCURRENCY": "64", "NEWSFLOW_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    before = _stats(base)
    since_ms = int(time.time() * 1000)
    procs = [
        subprocess.Popen([sys.executable, "-m", "services.cli", "intake"], cwd=ROOT, env=env,
                         stdout=open(log_dir / f"intake-{replicas}-{i}.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
        for i in range(replicas)
    ]  # fmt: skip
    started = time.monotonic()
    cpu0 = [_cpu_s(p.pid) for p in procs]
    time.sleep(args.duration)
    cpu = sum(_cpu_s(p.pid) - c for p, c in zip(procs, cpu0, strict=True))
    elapsed = time.monotonic() - started
    after = _stats(base)
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(30)
    delays = sorted(asyncio.run(_delays(settings, since_ms)))
    polls = after["feeds"] - before["feeds"]

    def q(p: float) -> float:
        return delays[min(len(delays) - 1, int(p * len(delays)))] if delays else float("nan")

    return {
        "replicas": replicas, "polls_per_s": polls / elapsed,
        "not_modified": after["not_modified"] - before["not_modified"],
        "cpu_share": cpu / elapsed, "cpu_ms_per_poll": cpu * 1000 / max(1, polls), "new_entries": len(delays),
        "p50": q(0.5), "p99": q(0.99), "max": delays[-1] if delays else float("nan"),
    }  # fmt: skip


def run_baseline(base: str, sources: int, budget_s: float) -> dict[str, Any]:
    """feedparser.parse(url) per source in turn: one pass, or as far as ``budget_s`` allows."""
    code = (
        "import feedparser, sys, time, resource\n"
        f"n = {sources}; t = time.monotonic(); done = 0\n"
        "for i in range(n):\n"
        f"    feedparser.parse('{base}/f/%d.xml' % i); done += 1\n"
        f"    if time.monotonic() - t > {budget_s}: break\n"
        "r = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print(done, time.monotonic() - t, r.ru_utime + r.ru_stime)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=budget_s * 3)
    done, elapsed, cpu = (float(x) for x in out.stdout.split())
    return {"polls_per_s": done / elapsed, "cpu_ms_per_poll": cpu * 1000 / done, "polls": int(done)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=5000)
    parser.add_argument("--interval", type=int, default=300)
    parser.add_argument("--duration", type=float, default=330.0)
    parser.add_argument("--new-per-s", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="500 sources every 30 s for 45 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.sources, args.interval, args.duration = 500, 30, 45.0
    log_dir = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    tansu_port, redis_port, feed_port = free_port(), free_port(), free_port()
    tansu = start_tansu(tansu_port, log=log_dir / "tansu.log")
    redis = start_redis(redis_port)
    server = subprocess.Popen([sys.executable, "-c", f"from bench.intake import serve; serve({feed_port}, "
                               f"{args.sources}, {args.new_per_s})"], cwd=ROOT)  # fmt: skip
    base = f"http://127.0.0.1:{feed_port}"
    try:
        for _ in range(100):
            try:
                _stats(base)
                break
            except OSError:
                time.sleep(0.1)
        run_id = random.randrange(10**6)
        settings = Settings(
            bootstrap_servers=f"127.0.0.1:{tansu_port}", redis_url=f"redis://127.0.0.1:{redis_port}/0",
            topics=Topics(raw=f"bench{run_id}.raw"), partitions=4,
        )  # fmt: skip
        print(f"bench-intake: {args.sources} sources every {args.interval} s, {args.new_per_s} new entries/s, "
              f"{args.duration:.0f} s per run; logs in {log_dir}")  # fmt: skip
        baseline = run_baseline(base, args.sources, budget_s=min(120.0, args.duration))
        rows = [run_intake(settings, base, args, n, log_dir) for n in (1, 2)]
        print(f"\n{'':<34}{'polls/s':>9}{'CPU %':>8}{'CPU ms/poll':>13}{'new':>6}{'p50 s':>8}{'p99 s':>8}{'max s':>8}")
        print(f"{'baseline: feedparser.parse loop':<34}{baseline['polls_per_s']:>9.1f}{100.0:>8.0f}"
              f"{baseline['cpu_ms_per_poll']:>13.2f}{'':>6}{'':>8}{'':>8}{'':>8}")  # fmt: skip
        for r in rows:
            print(f"{'newsflow intake, ' + str(r['replicas']) + ' replica(s)':<34}{r['polls_per_s']:>9.1f}"
                  f"{r['cpu_share'] * 100:>8.1f}{r['cpu_ms_per_poll']:>13.2f}{r['new_entries']:>6}{r['p50']:>8.1f}"
                  f"{r['p99']:>8.1f}{r['max']:>8.1f}")  # fmt: skip
        need = args.sources / args.interval
        print(
            f"\npolls/s needed to poll every source once per interval: {need:.1f}; 304 answers: "
            + ", ".join(str(r["not_modified"]) for r in rows)
        )
        if rows[0]["p50"] == rows[0]["p50"]:  # not NaN
            print(
                f"a new entry waits for its feed's next poll: expected delay about interval/2 = "
                f"{args.interval / 2:.0f} s, at most {args.interval} s (+ the poll)"
            )
    finally:
        server.terminate()
        server.wait(10)
        stop(redis)
        stop(tansu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
