"""API keys on an aiohttp route: who is asking, may they, how much, and the audit line (the HTTP adapter).

Every newsflow HTTP API wraps its handlers with :meth:`ApiAuth.guard` and a scope
(:mod:`shared.apikeys`): the key comes as ``Authorization: Bearer <key>``; a route that allows it also
takes ``?token=`` (a :class:`~shared.apikeys.StreamTokens` token, for ``EventSource``). No credentials
on a ``read`` route is anonymous when ``anonymous_read`` is on (``NEWSFLOW_API_ANONYMOUS_READ``), else a
401; a key without the scope is a 403; a ``write`` over the key's rate is a 429 with ``Retry-After``.
The handler finds the caller in ``request[PRINCIPAL]``. :func:`read_body` refuses a body over the limit
(413) before reading it whole; :func:`audit` writes one structured line per change.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from .apikeys import KeyVerifier, Principal, RateLimiter, RedisKeyStore, Scope, StreamTokens
from .settings import Settings

__all__ = ["PRINCIPAL", "ApiAuth", "audit", "key_namespace", "problem", "read_body"]

PRINCIPAL: Final = web.RequestKey("newsflow_principal", Principal)
ANONYMOUS: Final = Principal(None, frozenset({"read"}))
audit_log = logging.getLogger("newsflow.audit")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, title: str, detail: Any = None, headers: dict[str, str] | None = None) -> web.Response:
    """An error response (RFC 9457 problem details, in short)."""
    return web.Response(
        body=orjson.dumps({"title": title, "detail": detail}), status=status,
        content_type="application/problem+json", headers=headers,
    )  # fmt: skip


def audit(action: str, principal: Principal, **fields: object) -> None:
    """One line for a change (``subscription.create``, ``key.revoke``...): the action, the key's name and
    what changed; with ``NEWSFLOW_LOG_FORMAT=json`` its fields are under ``audit``."""
    record = {"action": action, "key": principal.label, **{k: v for k, v in fields.items() if v is not None}}
    text = " ".join(f"{k}={v}" for k, v in record.items())
    audit_log.info("audit %s", text, extra={"audit": record})


async def read_body(request: web.Request, limit: int) -> bytes | web.Response:
    """The request body, or a 413 when it is (or declares itself) longer than ``limit`` bytes."""
    too_large = problem(413, f"the body is over the limit of {limit} bytes (NEWSFLOW_API_MAX_BODY_BYTES)")
    if request.content_length is not None and request.content_length > limit:
        return too_large
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):  # a read returns what has arrived: loop to the end
        size += len(chunk)
        if size > limit:
            return too_large
        chunks.append(chunk)
    return b"".join(chunks)


def key_namespace(settings: Settings) -> str:
    """Where the API keys live in Redis (the CLI's ``newsflow keys`` and every API read the same)."""
    return settings.redis_key("apikeys")


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@dataclass
class ApiAuth:
    """Authentication, scopes and the write rate limit of one HTTP API."""

    verifier: KeyVerifier
    tokens: StreamTokens
    limiter: RateLimiter
    anonymous_read: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis) -> ApiAuth:
        """The keys of ``settings``' Redis namespace (``<ns>:apikeys``), which every replica shares."""
        ns = key_namespace(settings)
        return cls(
            KeyVerifier(RedisKeyStore(redis, namespace=ns), cache_s=settings.api_key_cache_s),
            StreamTokens(redis, namespace=ns, ttl_s=settings.api_stream_token_ttl_s),
            RateLimiter(redis, namespace=ns, per_minute=settings.api_writes_per_minute),
            anonymous_read=settings.api_anonymous_read,
        )

    async def principal(self, request: web.Request, *, token: bool = False) -> Principal | web.Response | None:
        """The caller; None when no credentials came; a 401 response for bad ones."""
        unauthorized = problem(
            401, "invalid or revoked API key", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
        if (key := _bearer(request)) is not None:
            return await self.verifier.verify(key) or unauthorized
        if token and (value := request.query.get("token")):
            key_digest = await self.tokens.digest_of(value)
            rec = await self.verifier.record(key_digest) if key_digest else None
            return Principal(rec.name, rec.scopes, rec.digest) if rec else unauthorized
        return None

    async def check(self, request: web.Request, needed: Scope, *, token: bool = False) -> Principal | web.Response:
        """The caller when it may do what needs ``needed``, else the 401 / 403 / 429 to answer."""
        who = await self.principal(request, token=token)
        if isinstance(who, web.Response):
            return who
        if who is None:
            if needed == "read" and self.anonymous_read:
                return ANONYMOUS
            return problem(
                401, f"an API key with scope {needed!r} is required (Authorization: Bearer <key>)",
                headers={"WWW-Authenticate": 'Bearer realm="newsflow"'},
            )  # fmt: skip
        if not who.may(needed):
            return problem(403, f"key {who.label!r} lacks scope {needed!r} (it has {', '.join(sorted(who.scopes))})")
        if needed != "read" and who.name is not None:
            wait = await self.limiter.hit(who.name)
            if wait is not None:
                return problem(
                    429, f"key {who.label!r} is over {self.limiter.per_minute} writes a minute "
                    "(NEWSFLOW_API_WRITES_PER_MINUTE)", headers={"Retry-After": str(math.ceil(wait))},
                )  # fmt: skip
        return who

    def guard(self, needed: Scope, handler: Handler, *, token: bool = False) -> Handler:
        """``handler`` behind :meth:`check`; the caller is in ``request[PRINCIPAL]``. Redis not answering
        is a 503 (the key cannot be checked), never a guess."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                who = await self.check(request, needed, token=token)
            except (RedisError, OSError) as exc:
                return problem(503, "API keys cannot be checked now (Redis)", type(exc).__name__,
                               headers={"Retry-After": "1"})  # fmt: skip
            if isinstance(who, web.Response):
                return who
            request[PRINCIPAL] = who
            return await handler(request)

        guarded.__doc__ = handler.__doc__
        return guarded

    def mount(
        self, app: web.Application, routes: Iterable[tuple[str, str, str, Scope | None]], api: object,
        *, token_paths: Collection[str] = (),
    ) -> None:  # fmt: skip
        """Mount each ``(method, path, handler name on api, scope)`` route, behind :meth:`guard` where it
        names a scope (None: public); a path in ``token_paths`` also takes a stream token."""
        for method, path, name, scope in routes:
            handler = getattr(api, name)
            if scope is not None:
                handler = self.guard(scope, handler, token=path in token_paths)
            app.router.add_route(method, path, handler)

    async def still_valid(self, who: Principal) -> bool:
        """False once the key ``who`` came with is revoked (within the verifier's cache time)."""
        return who.key_digest is None or await self.verifier.record(who.key_digest) is not None
