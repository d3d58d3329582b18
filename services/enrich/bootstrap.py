"""The enrich service's composition root: settings in, a handler wired to its adapters out.

Real adapters by default: the spaCy models loaded once (before the first
batch) and the story index in Redis. Unit tests pass the memory twin
(``stories=MemoryStoryIndex(settings)``) and need no Redis and no broker.
:func:`build_pipeline` first caps glibc's malloc arenas (:func:`limit_malloc_arenas`).
``app.py`` builds the Faust app around what this returns.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from redis.asyncio import Redis

from shared.redis_client import make_redis
from shared.settings import Settings

from .analysis.nlp import SpacyPool, freeze_heap
from .enrichers.registry import default_enrichers
from .handler import EnrichHandler
from .pipeline import EnrichmentPipeline
from .stories import RedisStoryIndex, StoryIndex

__all__ = ["MALLOC_ARENAS", "build_handler", "build_pipeline", "limit_malloc_arenas"]

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc malloc.h


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """At most ``arenas`` glibc malloc arenas for this process, unless ``MALLOC_ARENA_MAX`` is set
    (glibc reads it itself); True if set here. Not glibc (musl, macOS): nothing, False.

    The handler runs the pipeline in asyncio's thread pool; glibc gives each thread an arena of its
    own (up to 8 per core), so what loading and warm-up freed in the main arena is not reused by the
    batches and each arena keeps its own free memory: measured with ``bench.memory``, peak RSS
    426 MB with glibc's default, 361 MB with 2 arenas (352 MB with 1). Set with ``mallopt`` here, so
    it holds however the worker is started (container, ``newsflow dev``, the benchmarks); it counts for
    the threads that first allocate after it, as the handler's pool threads do.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # not glibc: musl's mallopt does nothing
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, arenas) == 1)


def build_pipeline(settings: Settings, *, warm: bool = True) -> EnrichmentPipeline:
    """Every enricher on one spaCy pool; ``warm`` loads the English model and runs each enricher once now,
    then freezes what is loaded out of the garbage collector's passes (:func:`freeze_heap`). The other
    languages' models (``spacy_models``) load on the first article in that language."""
    limit_malloc_arenas()
    pool = SpacyPool(settings)
    if warm:
        pool.warm(["en"])
    pipeline = EnrichmentPipeline(default_enrichers(settings, pool=pool), budget_s=settings.enrich_budget_s)
    if warm:
        pipeline.warm()
        freeze_heap()
    return pipeline


def build_handler(
    settings: Settings,
    *,
    redis: Redis | None = None,
    stories: StoryIndex | None = None,
    pipeline: EnrichmentPipeline | None = None,
    gated: bool = False,
) -> EnrichHandler:
    """The enrich handler on ``stories`` (default: the Redis story index on ``redis``, or a new client;
    ``gated``: it refuses to assign while the index is not in Redis, see :mod:`services.enrich.rebuild`)."""
    if stories is None:
        stories = RedisStoryIndex(redis if redis is not None else make_redis(settings), settings, gated=gated)
    return EnrichHandler(settings, pipeline or build_pipeline(settings), stories=stories.assign)
