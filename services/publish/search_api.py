"""``GET /v1/search`` and ``GET /v1/stories/{id}/articles``: the archive (PostgreSQL), read from publish's
HTTP API, so the live page and the rest of the API share one port.

The routes only parse the request (:func:`shared.archive.query.parse_search`: every limit is checked
there, a refused request is a 400 with the reason) and ask :class:`shared.archive.store.ArchiveStore`.
PostgreSQL unreachable: 503. The pool is opened on the first request, in the server's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import psycopg
from aiohttp import web

from shared.apiauth import ApiAuth
from shared.apikeys import Scope
from shared.archive.query import FILTERS, MAX_LIMIT, QueryError, parse_search
from shared.archive.store import ArchiveStore, open_store
from shared.settings import Settings

__all__ = ["SearchApi", "add_search_routes", "search_openapi_paths"]

log = logging.getLogger(__name__)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _problem(status: int, title: str, detail: Any = None) -> web.Response:
    return web.Response(
        body=orjson.dumps({"title": title, "detail": detail}), status=status, content_type="application/problem+json"
    )


class SearchApi:
    def __init__(self, settings: Settings, store: ArchiveStore | None = None) -> None:
        self.settings = settings
        self._store = store
        self._lock = asyncio.Lock()

    async def store(self) -> ArchiveStore:
        async with self._lock:
            if self._store is None:
                s = self.settings
                self._store = await open_store(
                    s.archive_conninfo(), min_size=0, max_size=s.archive_pool_size,
                    search_timeout_ms=s.archive_search_timeout_ms, timeout_s=5.0,
                )  # fmt: skip  # min_size 0: no connection kept (nor retried in the background) before a search
        return self._store

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()

    async def search(self, request: web.Request) -> web.Response:
        params = {name: request.query.getall(name) for name in request.query}
        try:
            query = parse_search(params)
            return _json(await (await self.store()).search(query))
        except QueryError as exc:
            return _problem(400, "invalid search", str(exc))
        except psycopg.OperationalError as exc:
            log.warning("search: the archive is unavailable: %s", exc)
            return _problem(503, "the archive (PostgreSQL) is unavailable", "retry later")
        except psycopg.errors.UndefinedTable:
            return _problem(503, "the archive is empty: no archive service has run against it yet")

    async def story_articles(self, request: web.Request) -> web.Response:
        story_id = request.match_info["id"]
        if len(story_id) > 200:
            return _problem(400, "invalid story id", "over 200 characters")
        try:
            articles = await (await self.store()).story(story_id)
        except psycopg.OperationalError:
            return _problem(503, "the archive (PostgreSQL) is unavailable", "retry later")
        except psycopg.errors.UndefinedTable:
            articles = []
        if not articles:
            return _problem(404, "no such story in the archive")
        return _json({"story_id": story_id, "articles": articles})


SEARCH_ROUTES: list[tuple[str, str, str, Scope]] = [
    ("GET", "/v1/search", "search", "read"),
    ("GET", "/v1/stories/{id}/articles", "story_articles", "read"),
]
"""The archive's routes on publish's port: method, path, handler, scope (the OpenAPI document declares them)."""


def add_search_routes(app: web.Application, api: SearchApi, auth: ApiAuth | None = None) -> None:
    """Mount the search routes, behind the ``read`` scope of ``auth`` (None: open, for a test of search alone)."""
    for method, path, name, scope in SEARCH_ROUTES:
        handler = getattr(api, name)
        app.router.add_route(method, path, handler if auth is None else auth.guard(scope, handler))

    async def close(_app: web.Application) -> None:
        await api.close()

    app.on_cleanup.append(close)


_HIT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "version": {"type": "integer"}, "enrichment_revision": {"type": "integer"},
        "title": {"type": "string"}, "source": {"type": ["string", "null"]}, "url": {"type": ["string", "null"]},
        "time": {"type": "string", "format": "date-time", "description": "published, else ingested"},
        "language": {"type": ["string", "null"]}, "story_id": {"type": ["string", "null"]},
        "category": {"type": ["object", "null"]}, "countries": {"type": "array", "items": {"type": "string"}},
        "entities": {"type": "array", "items": {"type": "string"}}, "summary": {"type": ["string", "null"]},
        "rank": {"type": "number", "description": "with sort=relevance"},
    },
}  # fmt: skip
_SCHEMAS = "#/components/schemas/"
_COUNTS = {"type": "array", "items": {"type": "object", "properties": {"value": {}, "count": {"type": "integer"}}}}


def search_openapi_paths(problem: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI paths of the archive's routes and their schemas (``SearchHit``, ``SearchResult``)."""
    text = {"type": "string"}
    many = {"type": "array", "items": text}
    filters = [
        {"name": f, "in": "query", "required": False, "schema": many, "style": "form", "explode": True,
         "description": "every one given must match" if f == "entity" else "any of the values given"}
        for f in FILTERS
    ]  # fmt: skip
    params = [
        {"name": "q", "in": "query", "schema": {**text, "maxLength": 500},
         "description": 'words (all must match, stemmed in each article\'s language), "a phrase", -excluded'},
        *filters,
        {"name": "from", "in": "query", "schema": {**text, "format": "date-time"}},
        {"name": "to", "in": "query", "schema": {**text, "format": "date-time"}, "description": "excluded"},
        {"name": "sort", "in": "query", "schema": {"enum": ["relevance", "time"]},
         "description": "default: relevance with q, else time (newest first)"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
        {"name": "cursor", "in": "query", "schema": text, "description": "next_cursor of the same query"},
        {"name": "facets", "in": "query", "schema": {"type": "boolean"}, "description": "default true"},
    ]  # fmt: skip
    schemas = {
        "SearchHit": _HIT,
        "SearchResult": {
            "type": "object",
            "properties": {
                "results": {"type": "array", "items": {"$ref": _SCHEMAS + "SearchHit"}},
                "next_cursor": {"type": ["string", "null"]},
                "facets": {
                    "type": ["object", "null"], "description": "over the first 1000 hits in order",
                    "properties": {"hits": {"type": "integer"}, "entities": _COUNTS, "countries": _COUNTS,
                                   "categories": _COUNTS, "sources": _COUNTS},
                },
            },
        },
        "StoryArticles": {
            "type": "object",
            "properties": {
                "story_id": text, "articles": {"type": "array", "items": {"$ref": _SCHEMAS + "SearchHit"}},
            },
        },
    }  # fmt: skip

    def ok(name: str) -> dict[str, Any]:
        return {"description": "ok", "content": {"application/json": {"schema": {"$ref": _SCHEMAS + name}}}}

    unavailable = {**problem, "description": "the archive (PostgreSQL) is unavailable"}
    paths = {
        "/v1/search": {"get": {
            "summary": "Search the archive: full text, filters, facets, cursor pagination",
            "parameters": params,
            "responses": {"200": ok("SearchResult"), "400": problem, "503": unavailable},
        }},
        "/v1/stories/{id}/articles": {"get": {
            "summary": "A story's timeline from the archive (newest version of each article, oldest first)",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": text}],
            "responses": {"200": ok("StoryArticles"), "404": problem, "503": unavailable},
        }},
    }  # fmt: skip
    return paths, schemas
