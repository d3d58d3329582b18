"""Notice when Redis loses newsflow's state (a restart without persistence, a flush, a failover to an empty replica).

Every service process checks one marker key, ``<namespace>:state:marker``,
every ``state_check_interval_s``. The first process to find it missing writes
it (``SET NX``) with a fresh random value; every process remembers the value
it saw. When the key is gone, or holds another value than the one seen (another
process re-created it after a loss), the state was lost while this process
ran: it logs an error, counts ``newsflow_state_lost_total``, reports it on
``/readyz`` (``checks.state``) and writes a new marker, so the next loss is
noticed too.

A process that starts and finds no marker cannot tell a new namespace from a
loss that happened while it was down; it logs that at warning level.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

import faust
from redis.asyncio import Redis

from .failures import describe
from .metrics import STATE_LOST
from .settings import Settings

__all__ = ["StateWatch", "watch_state"]

log = logging.getLogger(__name__)


class StateWatch:
    """The marker check of one process (see the module doc)."""

    def __init__(self, redis: Redis, key: str, service: str) -> None:
        self.redis = redis
        self.key = key
        self.service = service
        self.seen: bytes | str | None = None
        self.lost_at: datetime | None = None
        self.losses = 0

    async def check(self) -> bool:
        """Compare the marker with the one seen last; True when the state was lost since. Redis errors
        propagate (the caller skips the check: readiness reports Redis itself)."""
        current = await self.redis.get(self.key)
        if current is None:
            fresh = f"{datetime.now(UTC).isoformat()} {os.urandom(6).hex()}".encode()
            created = await self.redis.set(self.key, fresh, nx=True)
            current = fresh if created else await self.redis.get(self.key)
            if self.seen is None:
                log.warning(
                    "%s: no state marker in Redis (%s): a new namespace, or Redis lost its data before this "
                    "process started", self.service, self.key,
                )  # fmt: skip
        lost = self.seen is not None and current != self.seen
        if lost:
            self.losses += 1
            self.lost_at = datetime.now(UTC)
            STATE_LOST.labels(service=self.service).inc()
            log.error(
                "%s: REDIS LOST NEWSFLOW'S STATE (marker %s gone or replaced). With NEWSFLOW_STATE_REBUILD on, "
                "dedup, the delivery ledger, the webhook outbox and the story index are rebuilt from the log before "
                "anything is decided again; run-time subscriptions and recent history are not "
                "(docs/state-rebuild.md). Enable Redis persistence (AOF).", self.service, self.key,
            )  # fmt: skip
        self.seen = current
        return lost

    async def check_quietly(self) -> None:
        """:meth:`check`, logging a Redis failure instead of raising (for a timer)."""
        try:
            await self.check()
        except Exception as exc:  # Redis down: nothing to compare; readiness says so
            log.debug("%s: state marker check skipped: %s", self.service, describe(exc))

    def status(self) -> str:
        """For ``/readyz``: ``ok``, or when and how often the state was lost."""
        if self.lost_at is None:
            return "ok" if self.seen is not None else "not checked yet"
        return f"lost {self.losses}x, last at {self.lost_at.isoformat()} (Redis restarted empty?)"


def watch_state(app: faust.App, redis: Redis, settings: Settings, service: str) -> StateWatch:
    """A :class:`StateWatch` checked every ``state_check_interval_s`` by a timer of ``app``."""
    watch = StateWatch(redis, settings.redis_key("state", "marker"), service)
    app.timer(interval=settings.state_check_interval_s)(watch.check_quietly)
    return watch
