"""The publish service: ``news.enriched`` -> the sinks chosen by routing rules."""

from __future__ import annotations

import faust
from redis.asyncio import Redis

from shared.agent import add_batch_agent
from shared.kafka import ensure_topics, make_app, raw_topic, run_worker
from shared.redis_client import make_redis
from shared.settings import Settings, get_settings
from shared.state import watch_state
from shared.web import add_health

from .handler import PublishHandler
from .routing import load_router

__all__ = ["build_app", "build_handler", "main"]


def build_handler(settings: Settings, redis: Redis | None = None) -> PublishHandler:
    redis = redis if redis is not None else make_redis(settings)
    return PublishHandler(
        settings, load_router(settings.routing_file), redis, ensure_topics=lambda names: ensure_topics(settings, names)
    )


def build_app(settings: Settings) -> faust.App:
    app = make_app("publish", settings)
    redis = make_redis(settings)
    handler = build_handler(settings, redis)
    add_batch_agent(
        app, "publish", raw_topic(app, settings.topics.enriched), handler.handle,
        batch_size=settings.batch_size, batch_wait_s=settings.batch_wait_s, after_produce=handler.mark_delivered,
        settings=settings,
    )  # fmt: skip
    add_health(app, redis, watch_state(app, redis, settings, "publish"))
    return app


def main() -> None:
    settings = get_settings()
    run_worker(build_app(settings), settings, settings.topics.all())
