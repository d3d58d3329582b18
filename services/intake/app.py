"""The intake service: sources polled -> ``news.raw``, and HTTP push -> ``news.raw``.

settings -> Redis, the source store, a producer, the fetcher -> the poller loop and the HTTP API, until SIGTERM.
Intake consumes no topic, so it is no Faust worker: an asyncio process with one aiokafka producer and an aiohttp
server on ``NEWSFLOW_WEB_PORT`` (health, metrics, the API). Replicas share the sources, their schedule, leases
and what was sent through Redis, so any number can run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime

from aiohttp import web
from aiokafka import AIOKafkaProducer

from shared.apiauth import ApiAuth
from shared.egress import GuardedResolver
from shared.events import cloudevent_headers
from shared.kafka import ensure_topics, make_producer, wait_for_broker
from shared.metrics import RAW_TS_HEADER, RECORDS_OUT
from shared.redis_client import make_redis
from shared.settings import Settings, get_settings
from shared.sources import SourceStore, load_sources

from .api import IntakeApi, add_routes
from .fetch import Fetcher
from .poller import Poller

__all__ = ["main", "run"]

log = logging.getLogger("newsflow.intake")


async def _produce(producer: AIOKafkaProducer, settings: Settings, values: list[bytes], origin: str) -> None:
    """Send raw values to ``news.raw`` and wait until the broker acknowledged every one."""
    now = datetime.now(UTC)
    futures = []
    for value in values:
        headers = cloudevent_headers(event_type="article.raw", source=f"{settings.source_name}/intake/{origin}",
                                     time=now)  # fmt: skip
        headers[RAW_TS_HEADER] = str(int(now.timestamp() * 1000)).encode()
        futures.append(await producer.send(settings.topics.raw, value, headers=list(headers.items())))
    await asyncio.gather(*futures)
    RECORDS_OUT.labels("intake", settings.topics.raw).inc(len(values))


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """Run one intake replica until ``stop`` is set."""
    await wait_for_broker(settings, timeout_s=60)
    await ensure_topics(settings, [settings.topics.raw])
    redis = make_redis(settings)
    store = SourceStore(redis, settings.redis_namespace)
    if settings.intake_sources_file is not None:
        sources = load_sources(settings.intake_sources_file)  # a bad file stops the start, with the reason
        for attempt in range(1, 1_000_000):
            try:
                await store.sync_file(sources)
                break
            except Exception as exc:  # Redis not there yet (or going away): wait for it, do not crash-loop
                wait = min(30.0, 0.5 * 2**attempt)
                log.warning("intake: cannot store the sources in Redis yet (%s); again in %.0f s", exc, wait)
                await asyncio.sleep(wait)
        log.info("intake: %d source(s) from %s", len(sources), settings.intake_sources_file)
    producer = make_producer(settings)
    await producer.start()
    started = True
    fetcher = Fetcher(settings)

    async def send(batch: list[tuple[str, bytes]]) -> None:
        by_source: dict[str, list[bytes]] = {}
        for source_id, value in batch:
            by_source.setdefault(source_id, []).append(value)
        for source_id, values in by_source.items():
            await _produce(producer, settings, values, source_id)

    async def push(values: list[bytes], key_name: str) -> None:
        await _produce(producer, settings, values, f"push/{key_name}")

    poller = Poller(settings, store, fetcher, send)
    api = IntakeApi(settings, redis, store, ApiAuth.from_settings(settings, redis), push,
                    GuardedResolver(fetcher.policy), lambda: started)  # fmt: skip
    runner: web.AppRunner | None = None
    if settings.web_port > 0:
        web_app = web.Application(client_max_size=settings.intake_push_max_bytes + 1)
        add_routes(web_app, api)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "0.0.0.0", settings.web_port).start()  # a container's service port
        log.info("intake: HTTP API on port %d", settings.web_port)
    log.info("intake starting: %s, polling as %r", settings.bootstrap_servers, fetcher.agent)
    try:
        await poller.run(stop)
    finally:
        if runner is not None:
            await runner.cleanup()
        await fetcher.close()
        await producer.stop()
        await redis.aclose()


def main() -> None:
    """The container entrypoint: ``newsflow intake``."""
    settings = get_settings()

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(_main())
