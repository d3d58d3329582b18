"""The live stream: every published article, in a bounded Redis stream that every replica reads.

Publish appends each article's card to ``<ns>:stream`` (``XADD ... MAXLEN ~ NEWSFLOW_STREAM_HISTORY``);
the Redis entry id is the SSE event id, so a client that reconnects with ``Last-Event-ID`` gets what it
missed from the history, from whichever replica it reaches. Each replica runs one reader
(:meth:`StreamHub.run`) that fans new entries out to its connected clients; a client too slow to keep up
loses its oldest queued events rather than holding anyone else back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from shared.redis_replies import reply_stream, reply_xread

from .subscriptions import ArticleFacts
from .views import ArticleCard

__all__ = ["Event", "StreamHub", "sse_frame"]

log = logging.getLogger(__name__)

_ID = re.compile(r"^\d+-\d+$")


@dataclass(frozen=True)
class Event:
    id: str
    data: bytes  # an ArticleCard as JSON
    facts: bytes = b""  # the article's ArticleFacts as JSON: what stream filters match on


def sse_frame(event: Event, name: str = "article") -> bytes:
    return b"id: " + event.id.encode() + b"\nevent: " + name.encode() + b"\ndata: " + event.data + b"\n\n"


def _order(event_id: str) -> tuple[int, int]:
    a, _, b = event_id.partition("-")
    return int(a), int(b or 0)


@dataclass(eq=False)
class _Client:
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))


class StreamHub:
    def __init__(self, redis: Redis, *, namespace: str, history: int) -> None:
        self._redis = redis
        self.key = f"{namespace}:stream"
        self.history = history
        self._clients: set[_Client] = set()
        self._closed = asyncio.Event()

    async def append(self, items: list[tuple[ArticleCard, ArticleFacts]]) -> None:
        if not items:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for card, facts in items:
                fields: dict[FieldT, EncodableT] = {b"d": card.model_dump_json().encode(), b"f": facts.to_json()}
                pipe.xadd(self.key, fields, maxlen=self.history, approximate=True)
            await pipe.execute()

    async def since(self, last_id: str | None, limit: int | None = None) -> list[Event]:
        """History after ``last_id`` (all of it when None or unknown)."""
        start = f"({last_id}" if last_id and _ID.match(last_id) else "-"
        rows = reply_stream(await self._redis.xrange(self.key, min=start, max="+", count=limit or self.history))
        return [Event(i.decode(), f[b"d"], f.get(b"f", b"")) for i, f in rows]

    async def last_id(self) -> str:
        rows = reply_stream(await self._redis.xrevrange(self.key, count=1))
        return rows[0][0].decode() if rows else "0-0"

    async def run(self) -> None:
        """Read new entries and hand them to this replica's clients, until cancelled."""
        last = await self.last_id()
        while True:
            try:
                got = await self._redis.xread({self.key: last}, block=1000, count=500)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("stream: read failed (%s: %s); retrying", type(exc).__name__, exc)
                await asyncio.sleep(1.0)
                continue
            for _, rows in reply_xread(got):
                for i, f in rows:
                    last = i.decode()
                    self._fan_out(Event(last, f[b"d"], f.get(b"f", b"")))

    def _fan_out(self, event: Event) -> None:
        for c in self._clients:
            if c.queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    c.queue.get_nowait()  # a slow client loses its oldest event, nobody waits for it
            c.queue.put_nowait(event)

    def close(self) -> None:
        """Server shutdown: end every open stream."""
        self._closed.set()
        for c in self._clients:
            with contextlib.suppress(asyncio.QueueFull):
                c.queue.put_nowait(None)

    async def subscribe(self, last_event_id: str | None, heartbeat_s: float = 15.0) -> AsyncIterator[Event | None]:
        """Missed history (after ``last_event_id``), then live events; None is a keep-alive tick."""
        client = _Client()
        self._clients.add(client)  # before reading history: nothing falls between the two
        try:
            sent = last_event_id if last_event_id and _ID.match(last_event_id) else None
            if last_event_id is not None:
                for missed in await self.since(last_event_id):
                    sent = missed.id
                    yield missed
            while not self._closed.is_set():
                getter = asyncio.ensure_future(client.queue.get())
                try:  # asyncio.wait, not wait_for: Python 3.11's wait_for can swallow a racing cancel
                    done, _ = await asyncio.wait([getter], timeout=heartbeat_s)
                finally:
                    if not getter.done():
                        getter.cancel()
                if not done:
                    yield None
                    continue
                ev = getter.result()
                if ev is None:
                    return
                if sent is not None and _order(ev.id) <= _order(sent):
                    continue  # already sent from the history
                sent = ev.id
                yield ev
        finally:
            self._clients.discard(client)
