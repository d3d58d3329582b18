"""The Redis adapter: one way to build the client from settings.

Every call is timed in ``newsflow_redis_seconds{command}`` and a failing one counted in
``newsflow_redis_errors_total{command,error}`` (a pipeline is one call, ``PIPELINE``/``MULTI``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from .metrics import redis_call
from .settings import Settings

__all__ = ["MeteredRedis", "delete_namespace", "make_redis", "redis_connection_kwargs"]


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


def redis_connection_kwargs(settings: Settings) -> dict[str, Any]:
    """The keyword arguments :func:`make_redis` gives ``Redis.from_url`` besides the URL.

    ACL user and password from ``redis_username`` / ``redis_password``; for
    ``rediss://``, the server certificate is verified against
    ``redis_tls_ca_file`` (else the system CAs), host name included, and
    ``redis_tls_cert_file`` / ``redis_tls_key_file`` are sent when set.
    """
    kw: dict[str, Any] = {
        "username": settings.redis_username,
        "password": settings.redis_password.get_secret_value() if settings.redis_password else None,
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
        "health_check_interval": 30,
        "decode_responses": False,
    }
    if urlsplit(settings.redis_url).scheme == "rediss":
        kw.update(
            ssl_cert_reqs="required",
            ssl_check_hostname=True,
            ssl_ca_certs=str(settings.redis_tls_ca_file) if settings.redis_tls_ca_file else None,
            ssl_certfile=str(settings.redis_tls_cert_file) if settings.redis_tls_cert_file else None,
            ssl_keyfile=str(settings.redis_tls_key_file) if settings.redis_tls_key_file else None,
        )
    return kw


def make_redis(settings: Settings) -> Redis:
    """The asyncio Redis client every service uses (ACL user, password and TLS from ``settings``)."""
    return MeteredRedis.from_url(settings.redis_url, **redis_connection_kwargs(settings))


async def delete_namespace(client: Redis, namespace: str) -> int:
    """Delete every key under ``namespace:`` (a test run's, a benchmark's); the number deleted."""
    keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=1000)]
    if keys:
        await client.delete(*keys)
    return len(keys)
