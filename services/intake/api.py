"""Intake's HTTP API (on ``NEWSFLOW_WEB_PORT``): sources, HTTP push, health and metrics.

- ``GET /v1/sources`` (``read``): every source with its origin (``file`` / ``api``) and health;
  ``GET /v1/sources/{id}`` one.
- ``POST /v1/sources`` (``write``): add or replace a source ``{"id", "url", "kind", "interval_s", "language",
  "fetch_pages"}``; its URL is checked like every fetch (no loopback, private or link-local address unless
  ``NEWSFLOW_INTAKE_ALLOW_PRIVATE_NETWORKS=true``): 422 with the reason. Every replica polls it within a second.
- ``DELETE /v1/sources/{id}`` (``write``): 204; a source from the sources file is 409 (remove it there).
- ``POST /v1/raw`` (``write``): one raw article in any shape ``news.raw`` accepts, or a JSON array of them;
  each is produced to ``news.raw`` and acknowledged by the broker before the answer, ``202 {"accepted": n}``.
  A body over ``NEWSFLOW_INTAKE_PUSH_MAX_BYTES`` is 413, an item over ``NEWSFLOW_MAX_ARTICLE_BYTES`` makes the
  request 413 and nothing of it is produced; keys are rate-limited like every write (429).
- ``/livez``, ``/readyz`` (Redis answers, the producer is up), ``/metrics``, ``/openapi.json``.

Keys, scopes, rate limits and the audit line: :mod:`shared.apiauth`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from aiohttp.abc import AbstractResolver
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from redis.asyncio import Redis

from shared.apiauth import PRINCIPAL, ApiAuth, audit, problem, read_body
from shared.apikeys import Scope
from shared.egress import EgressPolicy, RefusedTarget, check_url
from shared.metrics import INTAKE_RAW_PUSHED
from shared.settings import Settings
from shared.sources import Source, SourceStore

__all__ = ["ROUTES", "IntakeApi", "add_routes", "openapi"]

Produce = Callable[[list[bytes], str], Awaitable[None]]  # raw values, the key's name -> acknowledged


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


class IntakeApi:
    """The routes' handlers; ``produce`` sends raw values to ``news.raw`` and returns once acknowledged."""

    def __init__(
        self, settings: Settings, redis: Redis, store: SourceStore, auth: ApiAuth, produce: Produce,
        resolver: AbstractResolver, ready: Callable[[], bool],
    ) -> None:  # fmt: skip
        self.settings = settings
        self.redis = redis
        self.store = store
        self.auth = auth
        self.produce = produce
        self.resolver = resolver
        self.policy = EgressPolicy(allow_insecure=True, allow_private=settings.intake_allow_private_networks)
        self.ready = ready

    async def list_sources(self, request: web.Request) -> web.Response:
        return _json({"sources": await self.store.listing()})

    async def get_source(self, request: web.Request) -> web.Response:
        found = await self.store.one(request.match_info["id"])
        if found is None:
            return problem(404, f"no source {request.match_info['id']!r}")
        return _json(found)

    async def create_source(self, request: web.Request) -> web.Response:
        raw = await read_body(request, self.settings.api_max_body_bytes)
        if isinstance(raw, web.Response):
            return raw
        try:
            source = Source.model_validate_json(raw)
        except ValidationError as exc:
            detail = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
            return problem(422, "not a valid source", detail)
        try:
            await check_url(source.url, self.policy, self.resolver)
        except RefusedTarget as exc:
            msg = str(exc).replace("NEWSFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "NEWSFLOW_INTAKE_ALLOW_PRIVATE_NETWORKS")
            return problem(422, "the source URL is refused", msg)
        existing = await self.store.get(source.id)
        if existing is not None and existing[1] == "file":
            return problem(409, f"source {source.id!r} comes from the sources file: change it there")
        await self.store.put(source, "api")
        audit("source.create", request[PRINCIPAL], source=source.id, url=source.url)
        return _json(await self.store.one(source.id), status=201 if existing is None else 200)

    async def delete_source(self, request: web.Request) -> web.Response:
        source_id = request.match_info["id"]
        existing = await self.store.get(source_id)
        if existing is None:
            return problem(404, f"no source {source_id!r}")
        if existing[1] == "file":
            return problem(409, f"source {source_id!r} comes from the sources file: remove it there")
        await self.store.delete(source_id)
        audit("source.delete", request[PRINCIPAL], source=source_id)
        return web.Response(status=204)

    async def push_raw(self, request: web.Request) -> web.Response:
        raw = await read_body(request, self.settings.intake_push_max_bytes)
        if isinstance(raw, web.Response):
            return raw
        if not raw.strip():
            return problem(400, "the body is empty: send a raw article (JSON object or text) or a JSON array of them")
        values = _split_push(raw)
        if isinstance(values, str):
            return problem(400, values)
        limit = self.settings.max_article_bytes
        if over := [i for i, v in enumerate(values) if len(v) > limit]:
            return problem(413, f"item(s) {over[:10]} over NEWSFLOW_MAX_ARTICLE_BYTES ({limit:,} bytes); nothing sent")
        who = request[PRINCIPAL]
        try:
            await self.produce(values, who.label)
        except Exception as exc:  # the broker did not take them: the caller retries, nothing was promised
            return problem(503, "the broker did not acknowledge the articles; retry", f"{type(exc).__name__}: {exc}")
        INTAKE_RAW_PUSHED.labels(who.label).inc(len(values))
        audit("raw.push", who, count=len(values), bytes=len(raw))
        return _json({"accepted": len(values)}, status=202)

    async def livez(self, request: web.Request) -> web.Response:
        return _json({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        checks: dict[str, str] = {}
        try:
            await self.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc}"
        checks["producer"] = "ok" if self.ready() else "not started"
        ok = all(v == "ok" for v in checks.values())
        return _json({"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0],
                            charset="utf-8")  # fmt: skip

    async def openapi_doc(self, request: web.Request) -> web.Response:
        return _json(openapi())


def _split_push(raw: bytes) -> list[bytes] | str:
    """A push body -> the raw values to produce: a JSON array's items (objects re-serialised, strings as
    their text), or the body itself (one article: a JSON object or plain text). A string message when the
    array holds something ``news.raw`` cannot take."""
    if raw.lstrip()[:1] != b"[":
        return [raw]
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"the body starts like a JSON array but does not parse: {exc}"
    if not items:
        return "the array is empty"
    out: list[bytes] = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            out.append(orjson.dumps(item))
        elif isinstance(item, str) and item.strip():
            out.append(item.encode("utf-8"))
        else:
            return f"item {i} is a JSON {type(item).__name__}: each item is an article object or its text"
    return out


ROUTES: list[tuple[str, str, str, Scope | None]] = [
    ("GET", "/livez", "livez", None),
    ("GET", "/readyz", "readyz", None),
    ("GET", "/metrics", "metrics", None),
    ("GET", "/openapi.json", "openapi_doc", None),
    ("GET", "/v1/sources", "list_sources", "read"),
    ("GET", "/v1/sources/{id}", "get_source", "read"),
    ("POST", "/v1/sources", "create_source", "write"),
    ("DELETE", "/v1/sources/{id}", "delete_source", "write"),
    ("POST", "/v1/raw", "push_raw", "write"),
]


def add_routes(app: web.Application, api: IntakeApi) -> None:
    """Mount :data:`ROUTES`, each behind its scope."""
    api.auth.mount(app, ROUTES, api)


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of intake's HTTP API."""
    source_schema = Source.model_json_schema()
    problem_ref = {"description": "an error", "content": {"application/problem+json": {}}}
    src_id = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]

    def op(summary: str, scope: Scope, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"summary": summary, "security": [{"apiKey": []}], "x-scope": scope, "responses": responses, **extra}

    return {
        "openapi": "3.1.0",
        "info": {"title": "newsflow intake", "version": "1",
                 "description": "Sources intake polls (RSS, Atom, JSON Feed, sitemaps) and HTTP push of raw articles."},
        "components": {
            "schemas": {"Source": source_schema},
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "newsflow keys create NAME --scope write"}},
        },
        "paths": {
            "/v1/sources": {
                "get": op("List sources with their health", "read", {"200": {"description": "sources"}}),
                "post": op(
                    "Add or replace a source", "write",
                    {"201": {"description": "created"}, "200": {"description": "replaced"}, "409": problem_ref,
                     "422": problem_ref},
                    requestBody={"required": True,
                                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Source"}}}},
                ),
            },
            "/v1/sources/{id}": {
                "parameters": src_id,
                "get": op("One source", "read", {"200": {"description": "it"}, "404": problem_ref}),
                "delete": op("Delete a source", "write",
                             {"204": {"description": "deleted"}, "404": problem_ref, "409": problem_ref}),
            },
            "/v1/raw": {
                "post": op(
                    "Push raw articles (any shape news.raw accepts, or a JSON array of them)", "write",
                    {"202": {"description": "produced and acknowledged: {\"accepted\": n}"}, "400": problem_ref,
                     "401": problem_ref, "403": problem_ref, "413": problem_ref, "429": problem_ref,
                     "503": problem_ref},
                    requestBody={"required": True, "content": {"application/json": {}, "text/plain": {}}},
                ),
            },
        },
    }  # fmt: skip
