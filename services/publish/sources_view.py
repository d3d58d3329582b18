"""The sources intake polls, as the live page shows them: ``GET /v1/sources`` on publish's port (``read``).

Intake keeps the sources and their health in Redis (:class:`shared.sources.SourceStore`); publish reads the same
store, so the page lists each source as healthy, failing (with the reason) or paused without a second origin. Adding
or removing a source is intake's API (``POST`` / ``DELETE /v1/sources`` on intake's port, scope ``write``).
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from shared.apiauth import ApiAuth
from shared.apikeys import Scope
from shared.sources import SourceStore

__all__ = ["SOURCE_ROUTES", "SourcesView", "add_source_routes", "sources_openapi_paths"]

SOURCE_ROUTES: list[tuple[str, str, str, Scope]] = [("GET", "/v1/sources", "list_sources", "read")]
"""Method, path, handler, scope (the OpenAPI document declares them)."""


class SourcesView:
    def __init__(self, store: SourceStore) -> None:
        self.store = store

    async def list_sources(self, request: web.Request) -> web.Response:
        body = orjson.dumps({"sources": await self.store.listing()})
        return web.Response(body=body, content_type="application/json")


def add_source_routes(app: web.Application, view: SourcesView, auth: ApiAuth) -> None:
    for method, path, name, scope in SOURCE_ROUTES:
        app.router.add_route(method, path, auth.guard(scope, getattr(view, name)))


def sources_openapi_paths() -> dict[str, Any]:
    return {
        "/v1/sources": {
            "get": {
                "summary": "The sources intake polls, with their health (state, last success, last error, counts); "
                "they are added and removed on intake's port",
                "responses": {"200": {"description": "{sources: [...]}"}},
            }
        }
    }
