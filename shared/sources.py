"""Sources: what intake polls, from a YAML file or the HTTP API, and where they live (Redis).

A source is ``{"id", "url", "kind", "interval_s", "language", "fetch_pages"}``: ``kind`` is ``auto`` (told by
the response: RSS, Atom, JSON Feed or a sitemap), ``rss``, ``atom``, ``jsonfeed``, ``sitemap`` or
``news-sitemap``; ``interval_s`` how often it is polled; ``language`` the language its articles are declared in
(optional); ``fetch_pages`` whether an entry with only a summary gets its page fetched.

The YAML file is a list of sources, or ``{"sources": [...]}``.

:class:`SourceStore` keeps them in Redis, shared by every intake replica (which reload them within a second of
a change: a version counter they watch) and by publish's HTTP API (``/v1/sources``), with each source's next
due time, its poll lease (two replicas never poll one source at once), its HTTP validators (ETag,
Last-Modified) and its health (last success, last error, counts).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from redis.asyncio import Redis

from .redis_replies import (
    reply_bytes_list,
    reply_bytes_map,
    reply_int,
    reply_optional_bytes,
    reply_optional_bytes_list,
)

__all__ = ["Source", "SourceError", "SourceHealth", "SourceStore", "load_sources", "parse_sources"]

SourceKind = Literal["auto", "rss", "atom", "jsonfeed", "sitemap", "news-sitemap"]
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class SourceError(ValueError):
    """A source (or a sources file) that cannot be used, with the reason a person can act on."""


class Source(BaseModel):
    """One polled source."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    id: str
    """Stable name: letters, digits, '.', '_', '-' (at most 100)."""
    url: str
    """The feed or sitemap URL (http or https)."""
    kind: SourceKind = "auto"
    """What the URL serves; `auto` tells it from the response."""
    interval_s: int = Field(default=300, ge=30, le=7 * 24 * 3600)
    """Seconds between polls (30 s to 7 days)."""
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    """ISO 639-1 language declared for its articles (a feed's own language is used when this is unset)."""
    fetch_pages: bool = True
    """Fetch the page of an entry that carries only a summary."""
    paused: bool = False
    """A paused source is kept but not polled."""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("url must not carry credentials")
        return value.strip()


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'source'}: {e['msg']}" for e in exc.errors())


def parse_sources(data: Any, *, origin: str = "sources") -> list[Source]:
    """Sources from already-parsed YAML/JSON: a list, or ``{"sources": [...]}``. Ids must be unique."""
    if isinstance(data, dict) and set(data) == {"sources"}:
        data = data["sources"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise SourceError(f"{origin}: expected a list of sources (or {{'sources': [...]}}), got {type(data).__name__}")
    out: list[Source] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        try:
            source = Source.model_validate(item)
        except ValidationError as exc:
            raise SourceError(f"{origin}[{i}]: {_describe(exc)}") from None
        if source.id in seen:
            raise SourceError(f"{origin}[{i}]: duplicate id {source.id!r}")
        seen.add(source.id)
        out.append(source)
    return out


def load_sources(path: Path) -> list[Source]:
    """The sources of a YAML file (see the module doc)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SourceError(f"{path}: cannot read the sources file: {exc}") from None
    return parse_sources(data, origin=str(path))


@dataclass(frozen=True)
class SourceHealth:
    """What the last polls of a source did (for ``/metrics``, ``/v1/sources`` and the page)."""

    last_success: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    last_status: int | None = None
    polls: int = 0
    entries_seen: int = 0
    entries_new: int = 0
    bytes: int = 0
    failures: int = 0  # consecutive

    @property
    def state(self) -> str:
        """``healthy`` (last poll succeeded), ``failing`` (the last one failed), ``new`` (never polled)."""
        if self.failures:
            return "failing"
        return "healthy" if self.last_success else "new"

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state, "last_success": self.last_success, "last_error": self.last_error,
            "last_error_at": self.last_error_at, "last_status": self.last_status, "polls": self.polls,
            "entries_seen": self.entries_seen, "entries_new": self.entries_new, "bytes": self.bytes,
            "failures": self.failures,
        }  # fmt: skip


_RedisValue: TypeAlias = "bytes | bytearray | memoryview[int] | str | int | float"  # what redis-py's hset takes
_NUMBERS = ("polls", "entries_seen", "entries_new", "bytes", "failures")

# release a lease only when it is still ours
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class SourceStore:
    """Sources in Redis under ``<namespace>:intake:*`` (see the module doc)."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.ns = f"{namespace}:intake"
        self._release = redis.register_script(_RELEASE)

    def _k(self, *parts: str) -> str:
        return ":".join((self.ns, *parts))

    # --- the sources themselves -------------------------------------------------------------------
    async def version(self) -> int:
        raw = reply_optional_bytes(await self.redis.get(self._k("version")))
        return int(raw) if raw else 0

    async def all(self) -> list[tuple[Source, str]]:
        """Every source with its origin (``file`` or ``api``), by id."""
        raw = reply_bytes_map(await self.redis.hgetall(self._k("sources")))
        out = []
        for value in raw.values():
            doc = orjson.loads(value)
            out.append((Source.model_validate(doc["source"]), str(doc.get("origin", "api"))))
        return sorted(out, key=lambda pair: pair[0].id)

    async def get(self, source_id: str) -> tuple[Source, str] | None:
        raw = reply_optional_bytes(await self.redis.hget(self._k("sources"), source_id))
        if raw is None:
            return None
        doc = orjson.loads(raw)
        return Source.model_validate(doc["source"]), str(doc.get("origin", "api"))

    async def put(self, source: Source, origin: str = "api", *, due_at: float | None = None) -> None:
        """Add or replace a source; it is due at once (or at ``due_at``), and every replica sees it."""
        doc = orjson.dumps({"source": source.model_dump(), "origin": origin})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._k("sources"), source.id, doc)
            pipe.zadd(self._k("due"), {source.id: time.time() if due_at is None else due_at})
            pipe.incr(self._k("version"))
            await pipe.execute()

    async def sync_file(self, sources: list[Source]) -> None:
        """Make the file's sources the ``file`` ones: add or update each, drop file sources no longer in it
        (API sources are untouched). An unchanged source keeps its schedule."""
        current = {s.id: (s, origin) for s, origin in await self.all()}
        wanted = {s.id for s in sources}
        for source in sources:
            known = current.get(source.id)
            if known is None or known[0] != source or known[1] != "file":
                await self.put(source, "file")
        for source_id, (_, origin) in current.items():
            if origin == "file" and source_id not in wanted:
                await self.delete(source_id)

    async def delete(self, source_id: str) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._k("sources"), source_id)
            pipe.zrem(self._k("due"), source_id)
            pipe.delete(self._k("health", source_id), self._k("http", source_id))
            pipe.incr(self._k("version"))
            removed, *_ = await pipe.execute()
        return reply_int(removed) > 0

    async def listing(self) -> list[dict[str, Any]]:
        """Every source as the APIs show it: its fields, ``origin`` and ``health`` (:meth:`SourceHealth.to_json`)."""
        out = []
        for source, origin in await self.all():
            out.append({**source.model_dump(), "origin": origin, "health": (await self.health(source.id)).to_json()})
        return out

    async def one(self, source_id: str) -> dict[str, Any] | None:
        """One source as the APIs show it, or None."""
        found = await self.get(source_id)
        if found is None:
            return None
        source, origin = found
        return {**source.model_dump(), "origin": origin, "health": (await self.health(source.id)).to_json()}

    # --- scheduling ---------------------------------------------------------------------------
    async def due(self, now: float, limit: int) -> list[str]:
        """Ids of sources due at ``now`` (earliest first)."""
        ids = reply_bytes_list(await self.redis.zrangebyscore(self._k("due"), "-inf", now, start=0, num=limit))
        return [i.decode() for i in ids]

    async def schedule(self, source_id: str, at: float) -> None:
        """The next poll of a source that still exists (a deleted one is not brought back)."""
        if await self.redis.hexists(self._k("sources"), source_id):
            await self.redis.zadd(self._k("due"), {source_id: at}, xx=True)

    async def lease(self, source_id: str, owner: str, ttl_s: float) -> bool:
        """Take the poll lease of a source for ``ttl_s``; False when another replica holds it."""
        return bool(await self.redis.set(self._k("lease", source_id), owner, nx=True, px=int(ttl_s * 1000)))

    async def release(self, source_id: str, owner: str) -> None:
        await self._release(keys=[self._k("lease", source_id)], args=[owner])

    # --- HTTP validators and health -------------------------------------------------------------
    async def validators(self, url: str) -> tuple[str | None, str | None]:
        raw = reply_bytes_map(await self.redis.hgetall(self._k("http", url)))
        etag, modified = raw.get(b"etag"), raw.get(b"last_modified")
        return (etag.decode() if etag else None, modified.decode() if modified else None)

    async def set_validators(self, url: str, etag: str | None, last_modified: str | None, ttl_s: int) -> None:
        key = self._k("http", url)
        mapping: dict[_RedisValue, _RedisValue] = {
            k: v for k, v in (("etag", etag), ("last_modified", last_modified)) if v
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if mapping:
                pipe.hset(key, mapping=mapping)
                pipe.expire(key, ttl_s)
            await pipe.execute()

    async def health(self, source_id: str) -> SourceHealth:
        raw = {
            k.decode(): v.decode()
            for k, v in reply_bytes_map(await self.redis.hgetall(self._k("health", source_id))).items()
        }
        return SourceHealth(
            last_success=float(raw["last_success"]) if "last_success" in raw else None,
            last_error=raw.get("last_error"),
            last_error_at=float(raw["last_error_at"]) if "last_error_at" in raw else None,
            last_status=int(raw["last_status"]) if "last_status" in raw else None,
            **{k: int(raw.get(k, 0)) for k in _NUMBERS},
        )

    async def record_poll(
        self,
        source_id: str,
        *,
        ok: bool,
        status: int | None,
        error: str | None = None,
        seen: int = 0,
        new: int = 0,
        nbytes: int = 0,
    ) -> int:
        """Count one poll; returns the consecutive failures after it (0 after a success)."""
        key = self._k("health", source_id)
        now = time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "polls", 1)
            pipe.hincrby(key, "entries_seen", seen)
            pipe.hincrby(key, "entries_new", new)
            pipe.hincrby(key, "bytes", nbytes)
            if status is not None:
                pipe.hset(key, "last_status", status)
            if ok:
                pipe.hset(key, mapping={"last_success": now, "failures": 0})
            else:
                pipe.hset(key, mapping={"last_error": (error or "error")[:500], "last_error_at": now})
                pipe.hincrby(key, "failures", 1)
            replies = await pipe.execute()
        return 0 if ok else reply_int(replies[-1])

    # --- entries seen ------------------------------------------------------------------------
    async def seen_versions(self, keys: list[str]) -> list[str | None]:
        """The version last sent of each entry key (None: never sent, or forgotten after the TTL)."""
        if not keys:
            return []
        raw = reply_optional_bytes_list(await self.redis.mget([self._k("seen", k) for k in keys]))
        return [None if v is None else v.decode() for v in raw]

    async def mark_seen(self, versions: dict[str, str], ttl_s: int) -> None:
        if not versions:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, version in versions.items():
                pipe.set(self._k("seen", key), version, ex=ttl_s)
            await pipe.execute()
