"""One intake replica's loop: which source is due, poll it politely, send what is new (the handler).

Every ``tick`` the replica reloads the sources when their version changed (so a change over the API reaches
it within a second), takes the sources due now, and polls each one it can lease (two replicas never poll a
source at once; the lease outlives a poll's worst case and is released after it). A poll:

1. asks the host's robots.txt (cached) whether the feed may be fetched;
2. GETs the feed conditionally (ETag / Last-Modified kept per URL): a 304 means nothing changed;
3. reads it (:func:`~services.intake.feeds.parse_feed`; a sitemap index's children are fetched the same way);
4. for each of the newest entries, compares its version with the one last sent (Redis, with a TTL): an entry
   seen unchanged is skipped; a new or changed one has its page fetched when it carries only a summary
   (robots.txt permitting), and is sent to ``news.raw``;
5. marks what the broker acknowledged as sent, and schedules the next poll: ``interval_s`` later, or after a
   failure, exponential back-off with jitter (never sooner than a ``Retry-After``).

An entry whose page fails to come is not marked sent, so the next poll tries it again; nothing is marked sent
before the broker has it (at-least-once: a crash in between sends it again, and ingest's dedup drops the copy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.metrics import (
    INTAKE_BYTES,
    INTAKE_ENTRIES,
    INTAKE_HTTP,
    INTAKE_LAST_ERROR,
    INTAKE_LAST_SUCCESS,
    INTAKE_POLLS,
)
from shared.settings import Settings
from shared.sources import Source, SourceStore

from .feeds import Entry, Feed, FeedError, parse_feed
from .fetch import Fetcher, FetchError
from .politeness import Robots, backoff_s
from .records import entry_key, entry_version, needs_page, raw_record

__all__ = ["PollResult", "Poller"]

log = logging.getLogger("newsflow.intake")

Send = Callable[[list[tuple[str, bytes]]], Awaitable[None]]  # (source id, raw value) -> acknowledged by the broker
_FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class PollResult:
    """What one poll did."""

    source: str
    ok: bool
    status: int | None = None
    error: str | None = None
    seen: int = 0
    new: int = 0
    changed: int = 0
    nbytes: int = 0
    retry_after: float | None = None


class Poller:
    """Polls the sources due, for one replica (see the module doc)."""

    def __init__(
        self, settings: Settings, store: SourceStore, fetcher: Fetcher, send: Send, *, owner: str | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.send = send
        self.owner = owner or uuid.uuid4().hex
        self.robots = Robots(fetcher.agent, ttl_s=settings.intake_robots_ttl_s)
        self.sources: dict[str, Source] = {}
        self._version = -1
        self._running: dict[str, asyncio.Task[PollResult]] = {}
        self._slots = asyncio.Semaphore(settings.intake_concurrency)
        # the lease outlives the worst poll: feed + children + a page per entry, each bounded by the timeout
        self.lease_s = settings.intake_timeout_s * 4 + 60

    async def reload(self) -> bool:
        """Reload the sources when their version changed; True when it did."""
        version = await self.store.version()
        if version == self._version:
            return False
        self.sources = {s.id: s for s, _ in await self.store.all()}
        self._version = version
        return True

    async def tick(self) -> list[str]:
        """One round: reload, start a poll of every due source this replica can lease; the ids started."""
        await self.reload()
        started: list[str] = []
        limit = self.settings.intake_concurrency
        for source_id in await self.store.due(time.time(), limit=limit + len(self._running)):
            if len(self._running) >= limit:
                break
            source = self.sources.get(source_id)
            if source is None or source_id in self._running:
                continue
            if source.paused:
                await self.store.schedule(source_id, time.time() + source.interval_s)
                continue
            if not await self.store.lease(source_id, self.owner, self.lease_s):
                continue  # another replica polls it now
            task = asyncio.create_task(self._leased_poll(source))
            self._running[source_id] = task
            task.add_done_callback(self._forget)
            started.append(source_id)
        return started

    def _forget(self, task: asyncio.Task[PollResult]) -> None:
        for source_id, running in list(self._running.items()):
            if running is task:
                del self._running[source_id]

    async def run(self, stop: asyncio.Event, tick_s: float = 0.5) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # Redis away: log, wait, try again (nothing was marked sent)
                log.exception("intake tick failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick_s)
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _leased_poll(self, source: Source) -> PollResult:
        async with self._slots:
            try:
                result = await self.poll(source)
            except Exception as exc:  # a bug must not stop the loop: count it as a failed poll
                log.exception("intake: poll of %s failed unexpectedly", source.id)
                result = PollResult(source.id, ok=False, error=f"internal_error: {type(exc).__name__}: {exc}")
            try:
                await self._finish(source, result)
            finally:
                await self.store.release(source.id, self.owner)
            return result

    async def _finish(self, source: Source, result: PollResult) -> None:
        failures = await self.store.record_poll(
            source.id, ok=result.ok, status=result.status, error=result.error, seen=result.seen,
            new=result.new + result.changed, nbytes=result.nbytes,
        )  # fmt: skip
        now = time.time()
        if result.ok:
            wait = source.interval_s * (0.95 + 0.1 * random.random())  # a little jitter spreads the sources
            INTAKE_LAST_SUCCESS.labels(source.id).set(now)
        else:
            s = self.settings
            wait = max(
                source.interval_s,
                backoff_s(failures, base_s=s.intake_backoff_base_s, cap_s=s.intake_backoff_cap_s,
                          retry_after=result.retry_after),
            )  # fmt: skip
            if result.retry_after is not None:
                wait = max(wait, min(result.retry_after, self.settings.intake_backoff_cap_s))
            INTAKE_LAST_ERROR.labels(source.id).set(now)
            log.warning("intake: %s failed (%s); next poll in %.0f s", source.id, result.error, wait)
        await self.store.schedule(source.id, now + wait)

    async def _robots_allow(self, url: str) -> bool:
        if not self.robots.known(url):
            robots_url = Robots.robots_url(url)
            try:
                got = await self.fetcher.get(robots_url)
                self.robots.learn(url, got.status, got.body)
            except FetchError as exc:
                if exc.code == "refused_target":
                    raise  # the host itself may not be reached: that is the poll's error, not robots.txt's
                self.robots.learn(url, exc.status if exc.status and exc.status < 500 else None, b"")
        return self.robots.allowed(url)

    async def _document(self, source: Source, url: str) -> tuple[Feed | None, int, int]:
        """Fetch and read one document conditionally: (the feed or None when not modified, status, bytes)."""
        etag, modified = await self.store.validators(url)
        got = await self.fetcher.get(url, etag=etag, last_modified=modified, accept=_FEED_ACCEPT)
        INTAKE_HTTP.labels(source.id, str(got.status)).inc()
        if got.not_modified:
            return None, got.status, 0
        INTAKE_BYTES.labels(source.id).inc(len(got.body))
        feed = await asyncio.to_thread(parse_feed, got.body, url=got.url, content_type=got.content_type)
        await self.store.set_validators(url, got.etag, got.last_modified, self.settings.intake_seen_ttl_s)
        return feed, got.status, len(got.body)

    async def poll(self, source: Source) -> PollResult:
        """Poll one source now (the steps of the module doc)."""
        try:
            if not await self._robots_allow(source.url):
                INTAKE_POLLS.labels(source.id, "robots_disallowed").inc()
                reason = f"robots.txt disallows {source.url} for {self.fetcher.agent}"
                return PollResult(source.id, ok=False, error=reason)
            feed, status, nbytes = await self._document(source, source.url)
            if feed is None:
                INTAKE_POLLS.labels(source.id, "not_modified").inc()
                return PollResult(source.id, ok=True, status=status)
            entries = list(feed.entries)
            for child in feed.sitemaps[: self.settings.intake_max_sitemaps]:
                if not await self._robots_allow(child):
                    continue
                sub, _, sub_bytes = await self._document(source, child)
                nbytes += sub_bytes
                if sub is not None:
                    entries.extend(sub.entries)
        except FetchError as exc:
            INTAKE_POLLS.labels(source.id, exc.code).inc()
            if exc.status is not None:
                INTAKE_HTTP.labels(source.id, str(exc.status)).inc()
            return PollResult(source.id, ok=False, status=exc.status, error=f"{exc.code}: {exc}",
                              retry_after=exc.retry_after)  # fmt: skip
        except FeedError as exc:
            INTAKE_POLLS.labels(source.id, exc.code).inc()
            return PollResult(source.id, ok=False, status=200, error=f"{exc.code}: {exc}", nbytes=0)
        result = await self._send_new(source, feed, entries[: self.settings.intake_max_entries_per_poll])
        INTAKE_POLLS.labels(source.id, "ok").inc()
        return PollResult(source.id, ok=True, status=status, seen=result[0], new=result[1], changed=result[2],
                          nbytes=nbytes + result[3])  # fmt: skip

    async def _send_new(self, source: Source, feed: Feed, entries: list[Entry]) -> tuple[int, int, int, int]:
        """Send the new and changed entries; (seen, new, changed, page bytes)."""
        keys = [entry_key(source, e) for e in entries]
        versions = [entry_version(e) for e in entries]
        known = await self.store.seen_versions(keys)
        seen = new = changed = nbytes = 0
        batch: list[tuple[str, bytes]] = []
        sent: dict[str, str] = {}
        for entry, key, version, before in zip(entries, keys, versions, known, strict=True):
            if before == version:
                seen += 1
                continue
            page_html = None
            if needs_page(source, entry) and entry.url:
                try:
                    if not await self._robots_allow(entry.url):
                        continue  # not allowed: neither fetched nor sent as a teaser; asked again next poll
                    page = await self.fetcher.get(entry.url, accept="text/html,application/xhtml+xml")
                except FetchError as exc:
                    if exc.code == "refused_target":
                        log.warning("intake: %s: entry link refused (%s)", source.id, exc)
                        continue
                    if exc.status is None or exc.status >= 500 or exc.status == 429:
                        log.info("intake: %s: page %s not fetched now (%s); next poll", source.id, entry.url, exc)
                        continue
                    page = None  # a 4xx will not heal: send what the feed has
                if page is not None:
                    page_html = page.text()
                    nbytes += len(page.body)
            batch.append((source.id, raw_record(source, entry, page_html=page_html, feed_language=feed.language)))
            sent[key] = version
            if before is None:
                new += 1
            else:
                changed += 1
        if batch:
            await self.send(batch)
            await self.store.mark_seen(sent, self.settings.intake_seen_ttl_s)
        INTAKE_ENTRIES.labels(source.id, "seen").inc(seen)
        INTAKE_ENTRIES.labels(source.id, "new").inc(new)
        INTAKE_ENTRIES.labels(source.id, "changed").inc(changed)
        INTAKE_BYTES.labels(source.id).inc(nbytes)
        return seen, new, changed, nbytes
