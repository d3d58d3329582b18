"""The Redis adapter: one way to build the client from settings.

Every call is timed in ``newsflow_redis_seconds{command}`` and a failing one counted in
``newsflow_redis_errors_total{command,error}`` (a pipeline is one call, ``PIPELINE``/``MULTI``).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from .metrics import redis_call
from .settings import Settings

__all__ = ["MeteredRedis", "delete_namespace", "make_redis"]


class _MeteredPipeline(Pipeline):
    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        if not self.command_stack and not self.watching:
            return []
        with redis_call("MULTI" if self.is_transaction or self.explicit_transaction else "PIPELINE"):
            return await super().execute(raise_on_error)


class MeteredRedis(Redis):
    """``redis.asyncio.Redis`` with its calls in the Prometheus metrics."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        name = args[0] if args else "?"
        command = (name.decode() if isinstance(name, bytes) else str(name)).split(" ", 1)[0].upper()
        with redis_call(command):
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        return _MeteredPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


def make_redis(settings: Settings) -> Redis:
    """An asyncio Redis client (``redis_url`` may be ``rediss://`` for TLS)."""
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    return MeteredRedis.from_url(
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
