"""The Redis adapter: one way to build the client from settings."""

from __future__ import annotations

from redis.asyncio import Redis

from .settings import Settings

__all__ = ["delete_namespace", "make_redis"]


def make_redis(settings: Settings) -> Redis:
    """An asyncio Redis client (``redis_url`` may be ``rediss://`` for TLS)."""
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    return Redis.from_url(
        settings.redis_url,
        password=password,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=30,
        decode_responses=False,
    )


async def delete_namespace(client: Redis, namespace: str) -> int:
    """Delete every key under ``namespace:`` (a test run's, a benchmark's); the number deleted."""
    keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=1000)]
    if keys:
        await client.delete(*keys)
    return len(keys)
