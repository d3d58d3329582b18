"""Where run-time subscriptions live, and how every replica sees a change within seconds.

:class:`RedisSubscriptionStore` keeps each subscription as JSON in one hash (``<ns>:subs``) and bumps a
version counter (``<ns>:subs:version``) on every change; :class:`SubscriptionCatalog` holds a replica's
current view (the routing file's subscriptions plus the stored ones) and reloads when the counter moves,
polled every ``NEWSFLOW_SUBSCRIPTION_POLL_S``. :class:`MemorySubscriptionStore` is the in-process twin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import orjson
from pydantic import ValidationError
from redis.asyncio import Redis

from shared.redis_replies import reply_bytes_map, reply_optional_bytes

from .subscriptions import REVEAL, Subscription

__all__ = ["MemorySubscriptionStore", "RedisSubscriptionStore", "SubscriptionCatalog", "SubscriptionStore"]

log = logging.getLogger(__name__)


def _dump(sub: Subscription) -> bytes:
    return orjson.dumps(sub.model_dump(mode="json", context=REVEAL))


class SubscriptionStore(Protocol):
    async def put(self, sub: Subscription) -> None: ...
    async def get(self, sub_id: str) -> Subscription | None: ...
    async def delete(self, sub_id: str) -> bool: ...
    async def all(self) -> list[Subscription]: ...
    async def version(self) -> int: ...
    async def disable(self, sub_id: str, reason: str) -> None:
        """Stop deliveries to ``sub_id`` (a configured one too) until it is enabled or created again."""
        ...

    async def enable(self, sub_id: str) -> bool:
        """Deliver to ``sub_id`` again after :meth:`disable`; True if it was disabled."""
        ...

    async def disabled(self) -> dict[str, str]: ...


class RedisSubscriptionStore:
    def __init__(self, redis: Redis, *, namespace: str) -> None:
        self._redis = redis
        self._hash = f"{namespace}:subs"
        self._version = f"{namespace}:subs:version"
        self._disabled = f"{namespace}:subs:disabled"

    async def put(self, sub: Subscription) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._hash, sub.id, _dump(sub))
            pipe.hdel(self._disabled, sub.id)
            pipe.incr(self._version)
            await pipe.execute()

    async def disable(self, sub_id: str, reason: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._disabled, sub_id, reason)
            pipe.incr(self._version)
            await pipe.execute()

    async def enable(self, sub_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._disabled, sub_id)
            pipe.incr(self._version)
            removed, _ = await pipe.execute()
        return bool(removed)

    async def disabled(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in reply_bytes_map(await self._redis.hgetall(self._disabled)).items()}

    async def get(self, sub_id: str) -> Subscription | None:
        raw = reply_optional_bytes(await self._redis.hget(self._hash, sub_id))
        return Subscription.model_validate_json(raw) if raw else None

    async def delete(self, sub_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._hash, sub_id)
            pipe.hdel(self._disabled, sub_id)
            pipe.incr(self._version)
            removed, _, _ = await pipe.execute()
        return bool(removed)

    async def all(self) -> list[Subscription]:
        out: list[Subscription] = []
        for sub_id, raw in reply_bytes_map(await self._redis.hgetall(self._hash)).items():
            try:
                out.append(Subscription.model_validate_json(raw))
            except ValidationError as exc:  # written by another version: skip it, say so
                log.error("subscription %r in Redis is not valid, ignored: %s", sub_id, exc)
        return sorted(out, key=lambda s: s.id)

    async def version(self) -> int:
        return int(reply_optional_bytes(await self._redis.get(self._version)) or 0)


@dataclass
class MemorySubscriptionStore:
    subs: dict[str, bytes] = field(default_factory=dict)
    off: dict[str, str] = field(default_factory=dict)
    _version: int = 0

    async def put(self, sub: Subscription) -> None:
        self.subs[sub.id] = _dump(sub)
        self.off.pop(sub.id, None)
        self._version += 1

    async def disable(self, sub_id: str, reason: str) -> None:
        self.off[sub_id] = reason
        self._version += 1

    async def enable(self, sub_id: str) -> bool:
        self._version += 1
        return self.off.pop(sub_id, None) is not None

    async def disabled(self) -> dict[str, str]:
        return dict(self.off)

    async def get(self, sub_id: str) -> Subscription | None:
        raw = self.subs.get(sub_id)
        return Subscription.model_validate_json(raw) if raw else None

    async def delete(self, sub_id: str) -> bool:
        self._version += 1
        self.off.pop(sub_id, None)
        return self.subs.pop(sub_id, None) is not None

    async def all(self) -> list[Subscription]:
        return sorted((Subscription.model_validate_json(r) for r in self.subs.values()), key=lambda s: s.id)

    async def version(self) -> int:
        return self._version


class SubscriptionCatalog:
    """A replica's current subscriptions: the routing file's (read-only) and the stored ones."""

    def __init__(self, store: SubscriptionStore, configured: Iterable[Subscription] = (), poll_s: float = 1.0):
        self.store = store
        self.configured = {s.id: s.model_copy(update={"origin": "config"}) for s in configured}
        self.poll_s = poll_s
        self._current: dict[str, Subscription] = dict(self.configured)
        self._seen_version: int | None = None
        self.changed = asyncio.Event()

    def current(self) -> list[Subscription]:
        return list(self._current.values())

    def get(self, sub_id: str) -> Subscription | None:
        return self._current.get(sub_id)

    async def ensure_loaded(self) -> None:
        if self._seen_version is None:
            await self.refresh(force=True)

    async def refresh(self, force: bool = False) -> bool:
        """Reload if the stored version moved; True when the view changed."""
        version = await self.store.version()
        if not force and version == self._seen_version:
            return False
        stored = {s.id: s for s in await self.store.all() if s.id not in self.configured}
        off = await self.store.disabled()
        merged = {**self.configured, **stored}
        self._current = {k: (s.model_copy(update={"disabled": off[k]}) if k in off else s) for k, s in merged.items()}
        self._seen_version = version
        self.changed.set()
        self.changed = asyncio.Event()
        return True

    async def run(self) -> None:
        """Poll forever (a replica's background task); a Redis hiccup is logged and retried."""
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("subscriptions: reload failed (%s: %s); keeping the current view", type(exc).__name__, exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.sleep(self.poll_s)
