"""The Redis adapter: one way to build the client from settings."""

from __future__ import annotations

from redis.asyncio import Redis

from .settings import Settings

__all__ = ["make_redis"]


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
