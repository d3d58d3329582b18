"""API keys with scopes: one mechanism for every newsflow HTTP surface (publish today, intake later).

A key is ``nfk_`` + 43 characters of URL-safe base64 (32 random bytes). It is shown once, when it is
made; what is stored is its SHA-256 digest. A plain, fast hash is the right one here: a slow password
hash (bcrypt, argon2) protects *low-entropy* secrets from guessing, while a 256-bit random key cannot
be guessed, so a slow hash would only add milliseconds to every request; the digest of a key leaked
from Redis does not authenticate anyone.

Scopes (:data:`SCOPES`): ``read`` (stories, articles, the stream, search), ``write`` (raw articles,
subscriptions, sources; a ``write`` key can read too) and ``admin`` (keys and every subscription,
everything else included).

:class:`RedisKeyStore` keeps, under ``<namespace>``, one hash of digest -> key record (so verifying a
request is one ``HGET``) and one of name -> digest (for ``list`` and ``revoke``); every replica reads the
same hashes, and :class:`KeyVerifier` caches an answer for at most ``cache_s`` (under a second), so a
revoked key stops working on every replica within that time. :class:`StreamTokens` signs short-lived
tokens the browser's ``EventSource`` sends instead of the key (a URL is logged; a key must not be).
:class:`RateLimiter` counts writes per key per minute, in Redis, across replicas.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal, Protocol, get_args

import orjson
from redis.asyncio import Redis

from .redis_replies import reply_bytes_map, reply_optional_bytes

__all__ = [
    "KEY_PREFIX",
    "SCOPES",
    "ApiKey",
    "KeyRefused",
    "KeyStore",
    "KeyVerifier",
    "MemoryKeyStore",
    "Principal",
    "RateLimiter",
    "RedisKeyStore",
    "Scope",
    "StreamTokens",
    "digest",
    "grants",
    "new_key",
    "parse_scopes",
]

Scope = Literal["read", "write", "admin"]
SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)
KEY_PREFIX: Final = "nfk_"
_NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_IMPLIES: Final[dict[Scope, frozenset[Scope]]] = {
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
    "admin": frozenset({"read", "write", "admin"}),
}


class KeyRefused(ValueError):
    """A key cannot be made or revoked as asked (the message says why)."""


def new_key() -> str:
    """A fresh key: ``nfk_`` + URL-safe base64 of 32 random bytes."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    """The stored form of ``key``: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """Scope names as given (``read``, ``write``, ``admin``); ValueError names an unknown one."""
    out: set[Scope] = set()
    for v in values:
        name = v.strip().lower()
        if name not in SCOPES:
            raise ValueError(f"unknown scope {v!r}: one of {', '.join(SCOPES)}")
        out.add(name)
    return frozenset(out)


def grants(scopes: Iterable[Scope], needed: Scope) -> bool:
    """Whether a key with ``scopes`` may do what needs ``needed`` (admin > write > read)."""
    return any(needed in _IMPLIES[s] for s in scopes)


@dataclass(frozen=True)
class ApiKey:
    """A key's record (never the key itself)."""

    name: str
    scopes: frozenset[Scope]
    created_at: str
    digest: str

    def to_json(self) -> bytes:
        return orjson.dumps(
            {"name": self.name, "scopes": sorted(self.scopes), "created_at": self.created_at, "digest": self.digest}
        )

    @classmethod
    def from_json(cls, raw: bytes) -> ApiKey:
        d = orjson.loads(raw)
        return cls(str(d["name"]), parse_scopes(d["scopes"]), str(d["created_at"]), str(d["digest"]))


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a key's name and scopes, or anonymous (``name`` None)."""

    name: str | None
    scopes: frozenset[Scope]
    key_digest: str | None = None

    def may(self, needed: Scope) -> bool:
        return grants(self.scopes, needed)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    @property
    def label(self) -> str:
        return self.name or "(anonymous)"


def _check_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= _NAME_CHARS or not name[0].isalnum():
        raise KeyRefused(f"key name {name!r}: use 1-64 lower-case letters, digits, '.', '_', '-'")
    return name


class KeyStore(Protocol):
    async def create(self, name: str, scopes: frozenset[Scope]) -> tuple[str, ApiKey]:
        """A new key named ``name`` (the key in clear, shown once, and its record); KeyRefused if taken."""
        ...

    async def revoke(self, name: str) -> bool: ...
    async def list(self) -> list[ApiKey]: ...
    async def by_digest(self, key_digest: str) -> ApiKey | None: ...


def _record(name: str, scopes: frozenset[Scope]) -> tuple[str, ApiKey]:
    if not scopes:
        raise KeyRefused("a key needs at least one scope")
    key = new_key()
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    return key, ApiKey(_check_name(name), scopes, now, digest(key))


class RedisKeyStore:
    """Keys in Redis: ``<ns>:by-digest`` (digest -> record) and ``<ns>:by-name`` (name -> digest)."""

    def __init__(self, redis: Redis, *, namespace: str) -> None:
        self._redis = redis
        self._by_digest = f"{namespace}:by-digest"
        self._by_name = f"{namespace}:by-name"

    async def create(self, name: str, scopes: frozenset[Scope]) -> tuple[str, ApiKey]:
        key, rec = _record(name, scopes)
        if not await self._redis.hsetnx(self._by_name, rec.name, rec.digest):
            raise KeyRefused(f"a key named {rec.name!r} exists: revoke it first, or choose another name")
        await self._redis.hset(self._by_digest, rec.digest, rec.to_json())
        return key, rec

    async def revoke(self, name: str) -> bool:
        found = reply_optional_bytes(await self._redis.hget(self._by_name, name))
        if found is None:
            return False
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._by_digest, found)
            pipe.hdel(self._by_name, name)
            await pipe.execute()
        return True

    async def list(self) -> list[ApiKey]:
        records = reply_bytes_map(await self._redis.hgetall(self._by_digest))
        return sorted((ApiKey.from_json(v) for v in records.values()), key=lambda k: k.name)

    async def by_digest(self, key_digest: str) -> ApiKey | None:
        raw = reply_optional_bytes(await self._redis.hget(self._by_digest, key_digest))
        return ApiKey.from_json(raw) if raw else None


class MemoryKeyStore:
    """The in-process twin of :class:`RedisKeyStore` (tests, tools)."""

    def __init__(self) -> None:
        self.records: dict[str, ApiKey] = {}

    async def create(self, name: str, scopes: frozenset[Scope]) -> tuple[str, ApiKey]:
        key, rec = _record(name, scopes)
        if any(r.name == rec.name for r in self.records.values()):
            raise KeyRefused(f"a key named {rec.name!r} exists: revoke it first, or choose another name")
        self.records[rec.digest] = rec
        return key, rec

    async def revoke(self, name: str) -> bool:
        found = [d for d, r in self.records.items() if r.name == name]
        for d in found:
            del self.records[d]
        return bool(found)

    async def list(self) -> list[ApiKey]:
        return sorted(self.records.values(), key=lambda k: k.name)

    async def by_digest(self, key_digest: str) -> ApiKey | None:
        return self.records.get(key_digest)


class KeyVerifier:
    """Key -> :class:`Principal` (or None), each answer cached at most ``cache_s`` per process.

    The cache holds at most ``max_entries`` answers (emptied when full), so random keys sent by a
    stranger cost memory only up to that bound.
    """

    def __init__(self, store: KeyStore, *, cache_s: float = 0.5, max_entries: int = 10_000) -> None:
        self.store = store
        self.cache_s = cache_s
        self.max_entries = max_entries
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}

    async def record(self, key_digest: str) -> ApiKey | None:
        now = time.monotonic()
        hit = self._cache.get(key_digest)
        if hit is not None and now - hit[0] < self.cache_s:
            return hit[1]
        rec = await self.store.by_digest(key_digest)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key_digest] = (now, rec)
        return rec

    async def verify(self, key: str) -> Principal | None:
        """The key's principal, or None for an unknown or revoked key."""
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        rec = await self.record(digest(key))
        return Principal(rec.name, rec.scopes, rec.digest) if rec else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class StreamTokens:
    """Short-lived tokens for ``GET /v1/stream?token=`` (the browser's EventSource sends no headers).

    A token is ``<payload>.<HMAC-SHA256>``, its payload the key's digest and an expiry; it is signed with a
    secret every replica shares (made once in Redis, ``<ns>:token-secret``). Checking one also checks
    the key it was made from, so revoking a key ends its tokens too.
    """

    def __init__(self, redis: Redis | None, *, namespace: str, ttl_s: float) -> None:
        self._redis = redis
        self._secret_key = f"{namespace}:token-secret"
        self.ttl_s = ttl_s
        self._secret: bytes | None = None

    async def _signing_secret(self) -> bytes:
        if self._secret is None:
            if self._redis is None:
                self._secret = secrets.token_bytes(32)
            else:
                await self._redis.set(self._secret_key, secrets.token_bytes(32), nx=True)
                self._secret = reply_optional_bytes(await self._redis.get(self._secret_key))
                if self._secret is None:
                    raise RuntimeError(f"{self._secret_key} vanished from Redis right after it was set")
        return self._secret

    async def issue(self, key_digest: str, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + self.ttl_s)
        payload = _b64(orjson.dumps({"d": key_digest, "exp": expires}))
        mac = hmac.new(await self._signing_secret(), payload.encode(), hashlib.sha256).digest()
        return f"{payload}.{_b64(mac)}"

    async def digest_of(self, token: str, now: float | None = None) -> str | None:
        """The key digest a valid, unexpired token was issued for, else None."""
        payload, _, mac = token.partition(".")
        if not payload or not mac or len(token) > 512:
            return None
        want = hmac.new(await self._signing_secret(), payload.encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(want, _unb64(mac)):
                return None
            d = orjson.loads(_unb64(payload))
        except (ValueError, orjson.JSONDecodeError):
            return None
        if not isinstance(d, dict) or int(d.get("exp", 0)) < (now if now is not None else time.time()):
            return None
        found = d.get("d")
        return found if isinstance(found, str) else None


class RateLimiter:
    """At most ``per_minute`` writes per key per minute (a fixed window in Redis, shared by replicas)."""

    def __init__(self, redis: Redis | None, *, namespace: str, per_minute: int) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:rate"
        self.per_minute = per_minute
        self._local: dict[tuple[str, int], int] = {}

    async def hit(self, who: str, now: float | None = None) -> float | None:
        """Count one write by ``who``; None when allowed, else the seconds until the window ends."""
        t = now if now is not None else time.time()
        window = int(t // 60)
        if self._redis is None:
            count = self._local[(who, window)] = self._local.get((who, window), 0) + 1
        else:
            key = f"{self._prefix}:{who}:{window}"
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 120)
                count, _ = await pipe.execute()
        if int(count) <= self.per_minute:
            return None
        return max(1.0, (window + 1) * 60 - t)
