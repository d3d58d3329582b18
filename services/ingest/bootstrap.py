"""The ingest service's composition root: settings in, a handler wired to its adapters out.

Real adapters by default (the Redis dedup store); unit tests pass the memory
twin (``store=MemoryDedupStore(...)``) and need no Redis and no broker.
``app.py`` builds the Faust app around what this returns.
"""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis

from shared.redis_client import make_redis
from shared.settings import Settings

from .dedup import DedupStore, NearParams, RedisDedupStore
from .handler import IngestHandler, Signer
from .minhash import MinHashParams, bands, min_equal_slots, text_signatures

__all__ = ["build_handler", "minhash_params", "near_params", "signer"]


def minhash_params(settings: Settings) -> MinHashParams:
    """The MinHash parameters, with ``near_threshold`` when it is set (else the measured default)."""
    params = MinHashParams()
    return params if settings.near_threshold is None else replace(params, threshold=settings.near_threshold)


def near_params(settings: Settings) -> NearParams:
    """What the dedup store needs for near duplicates (0 equal slots: near dedup off)."""
    return NearParams(min_equal_slots=min_equal_slots(minhash_params(settings)) if settings.near_dedup else 0)


def signer(params: MinHashParams) -> Signer:
    """Comparison texts -> (MinHash signature, LSH band keys), for a batch at once."""

    def sign(texts: list[str]) -> list[tuple[bytes, tuple[str, ...]]]:
        return [(sig, bands(sig, params) if sig else ()) for sig in text_signatures(texts, params)]

    return sign


def build_handler(
    settings: Settings, *, redis: Redis | None = None, store: DedupStore | None = None, gated: bool = False
) -> IngestHandler:
    """The ingest handler on ``store`` (default: the Redis dedup store on ``redis``, or a new client;
    ``gated``: it refuses to decide while its state is not rebuilt, see :mod:`services.ingest.rebuild`)."""
    if store is None:
        store = RedisDedupStore(
            redis if redis is not None else make_redis(settings),
            namespace=settings.redis_key("dedup"),
            ttl_s=settings.dedup_window_s,
            near=near_params(settings),
            gated=gated,
        )
    return IngestHandler(settings, store, signer(minhash_params(settings)) if settings.near_dedup else None)
