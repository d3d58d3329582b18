"""Being a polite client (pure logic, and asyncio primitives with no I/O of their own).

- :func:`backoff_s`: exponential back-off with full jitter after consecutive failures, never under a server's
  ``Retry-After`` (:func:`shared.retry_after.retry_after_s`), capped.
- :class:`HostGate`: at most ``concurrency`` requests in flight per host and at least ``min_interval_s``
  between the starts of two requests to one host, across every source on that host.
- :class:`Robots`: robots.txt rules per host (``protego``), kept ``ttl_s``; a robots.txt that answers 4xx
  allows everything, one that fails (5xx, timeout) disallows the host until it is fetched again (RFC 9309).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from protego import Protego

__all__ = ["HostGate", "Robots", "backoff_s", "host_of"]


def host_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: the unit of politeness and of robots.txt."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def backoff_s(
    failures: int,
    *,
    base_s: float,
    cap_s: float,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """The wait after ``failures`` consecutive failures: full jitter over ``base * 2**(failures-1)``, capped at
    ``cap_s``, and never less than a server's ``retry_after`` (itself capped at ``cap_s``)."""
    if failures <= 0:
        return 0.0
    ceiling = min(cap_s, base_s * 2 ** min(failures - 1, 30))
    wait = ceiling / 2 + rand() * ceiling / 2  # "equal jitter": spread, but never near zero
    if retry_after is not None:
        wait = max(wait, min(retry_after, cap_s))
    return wait


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    next_start: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class HostGate:
    """Per-host concurrency and spacing of request starts (see the module doc)."""

    def __init__(self, concurrency: int, min_interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._concurrency = concurrency
        self._interval = min_interval_s
        self._clock = clock
        self._hosts: dict[str, _Host] = {}

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = self._hosts.setdefault(host_of(url), _Host(asyncio.Semaphore(self._concurrency)))
        async with host.semaphore:
            async with host.lock:
                wait = host.next_start - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                host.next_start = self._clock() + self._interval
            yield


@dataclass
class _Rules:
    parser: Protego | None  # None: everything allowed
    denied: bool  # robots.txt could not be fetched (5xx, network): disallow for now
    fetched: float


class Robots:
    """robots.txt per host, cached (see the module doc). ``fetch(url) -> (status, body)`` is the I/O."""

    def __init__(self, user_agent: str, ttl_s: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._agent = user_agent
        self._ttl = ttl_s
        self._clock = clock
        self._rules: dict[str, _Rules] = {}

    def known(self, url: str) -> bool:
        rules = self._rules.get(host_of(url))
        return rules is not None and self._clock() - rules.fetched < self._ttl

    def learn(self, url: str, status: int | None, body: bytes) -> None:
        """Record a host's robots.txt response (``status`` None: it could not be fetched)."""
        now = self._clock()
        if status is not None and 200 <= status < 300:
            rules = _Rules(Protego.parse(body.decode("utf-8", "replace")), False, now)
        elif status is not None and 400 <= status < 500:
            rules = _Rules(None, False, now)
        else:
            rules = _Rules(None, True, now)
        self._rules[host_of(url)] = rules

    def allowed(self, url: str) -> bool:
        rules = self._rules.get(host_of(url))
        if rules is None or rules.parser is None:
            return not (rules is not None and rules.denied)
        return bool(rules.parser.can_fetch(url, self._agent))

    def crawl_delay(self, url: str) -> float | None:
        rules = self._rules.get(host_of(url))
        if rules is None or rules.parser is None:
            return None
        delay = rules.parser.crawl_delay(self._agent)
        return float(delay) if delay is not None else None

    @staticmethod
    def robots_url(url: str) -> str:
        return host_of(url) + "/robots.txt"
