"""Make an API key for a test, straight in the namespace the publish API under test reads."""

from __future__ import annotations

from redis.asyncio import Redis

from shared.apiauth import key_namespace
from shared.apikeys import RedisKeyStore, Scope
from shared.settings import Settings

__all__ = ["bearer", "make_key"]


async def make_key(settings: Settings, name: str, *scopes: Scope) -> str:
    """A new key named ``name`` with ``scopes`` (default ``write``), in clear."""
    redis = Redis.from_url(settings.redis_url)
    try:
        key, _ = await RedisKeyStore(redis, namespace=key_namespace(settings)).create(
            name, frozenset(scopes or ("write",))
        )
    finally:
        await redis.aclose()
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
