"""The ingest service: ``news.raw`` -> ``news.ingested`` / ``news.duplicates`` / ``news.dlq``.

settings -> bootstrap (Redis, dedup store, handler) -> Faust app -> agent.
"""

from __future__ import annotations

from dataclasses import replace

import faust

from shared.agent import add_batch_agent
from shared.kafka import make_app, raw_topic, run_worker
from shared.redis_client import make_redis
from shared.settings import Settings, get_settings
from shared.state import watch_state
from shared.web import add_health

from .dedup import NearParams, RedisDedupStore
from .handler import IngestHandler
from .minhash import MinHashParams, bands, min_equal_slots, text_signatures

__all__ = ["build_app", "build_handler", "main"]


def build_handler(settings: Settings, redis=None) -> IngestHandler:  # type: ignore[no-untyped-def]
    """Wire the real adapters: Redis dedup store, MinHash signer from settings."""
    redis = redis if redis is not None else make_redis(settings)
    params = MinHashParams()
    if settings.near_threshold is not None:
        params = replace(params, threshold=settings.near_threshold)
    near = NearParams(min_equal_slots=min_equal_slots(params) if settings.near_dedup else 0)
    store = RedisDedupStore(redis, namespace=settings.redis_key("dedup"), ttl_s=settings.dedup_window_s, near=near)

    def signer(texts: list[str]) -> list[tuple[bytes, tuple[str, ...]]]:
        return [(sig, bands(sig, params) if sig else ()) for sig in text_signatures(texts, params)]

    return IngestHandler(settings, store, signer if settings.near_dedup else None)


def build_app(settings: Settings) -> faust.App:
    app = make_app("ingest", settings)
    redis = make_redis(settings)
    handler = build_handler(settings, redis)
    add_batch_agent(
        app, "ingest", raw_topic(app, settings.topics.raw), handler.handle,
        batch_size=settings.batch_size, batch_wait_s=settings.batch_wait_s, settings=settings,
    )  # fmt: skip
    add_health(app, redis, watch_state(app, redis, settings, "ingest"))
    return app


def main() -> None:
    settings = get_settings()
    run_worker(build_app(settings), settings, settings.topics.all())
