"""The enrich service's composition root: settings in, a handler wired to its adapters out.

Real adapters by default: the spaCy models loaded once (before the first
batch) and the story index in Redis. Unit tests pass the memory twin
(``stories=MemoryStoryIndex(settings)``) and need no Redis and no broker.
``app.py`` builds the Faust app around what this returns.
"""

from __future__ import annotations

from redis.asyncio import Redis

from shared.redis_client import make_redis
from shared.settings import Settings

from .analysis.nlp import SpacyPool
from .enrichers.registry import default_enrichers
from .handler import EnrichHandler
from .pipeline import EnrichmentPipeline
from .stories import RedisStoryIndex, StoryIndex

__all__ = ["build_handler", "build_pipeline"]


def build_pipeline(settings: Settings, *, warm: bool = True) -> EnrichmentPipeline:
    """Every enricher on one spaCy pool; ``warm`` loads the models and runs each enricher once now."""
    pool = SpacyPool(settings)
    if warm:
        pool.warm()
    pipeline = EnrichmentPipeline(default_enrichers(settings, pool=pool), budget_s=settings.enrich_budget_s)
    if warm:
        pipeline.warm()
    return pipeline


def build_handler(
    settings: Settings,
    *,
    redis: Redis | None = None,
    stories: StoryIndex | None = None,
    pipeline: EnrichmentPipeline | None = None,
) -> EnrichHandler:
    """The enrich handler on ``stories`` (default: the Redis story index on ``redis``, or a new client)."""
    if stories is None:
        stories = RedisStoryIndex(redis if redis is not None else make_redis(settings), settings)
    return EnrichHandler(settings, pipeline or build_pipeline(settings), stories=stories.assign)
