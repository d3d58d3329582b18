"""The publish HTTP API and the live story page (aiohttp routes; OpenAPI from the pydantic models).

Mounted on the publish worker's web server (the Faust worker's aiohttp application, on
``NEWSFLOW_WEB_PORT``, beside ``/livez``, ``/readyz`` and ``/metrics``); :func:`make_app` builds a
stand-alone application with the same routes for tests and tools.
"""

from __future__ import annotations

import uuid
from importlib.resources import files
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError
from pydantic.json_schema import models_json_schema

from .recent import RecentStore
from .search_api import search_openapi_paths
from .stream import StreamHub, sse_frame
from .subscription_store import SubscriptionCatalog, SubscriptionStore
from .subscriptions import REVEAL, ArticleFacts, Subscription, SubscriptionFilter, matches, new_secret
from .views import ArticleCard, StoryCard

__all__ = ["PublishApi", "StoryList", "SubscriptionList", "add_routes", "make_app", "openapi"]

STATIC = files(__package__).joinpath("static")
_QUERY_FIELDS = {
    "language": "languages", "country": "countries", "category": "categories", "entity": "entities",
    "term": "terms", "source": "sources", "story": "story_ids",
}  # fmt: skip


class StoryList(BaseModel):
    stories: list[StoryCard]
    stream_last_id: str = Field(description="open /v1/stream with last_event_id=this to miss nothing after this list")


class SubscriptionList(BaseModel):
    subscriptions: list[Subscription]


class Problem(BaseModel):
    """An error (RFC 9457 problem details, in short)."""

    title: str
    detail: Any = None


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _problem(status: int, title: str, detail: Any = None) -> web.Response:
    return web.Response(
        body=orjson.dumps({"title": title, "detail": detail}), status=status, content_type="application/problem+json"
    )


def _model(m: BaseModel, status: int = 200, context: dict[str, Any] | None = None) -> web.Response:
    return web.Response(
        body=m.model_dump_json(context=context).encode(), status=status, content_type="application/json"
    )


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]


class PublishApi:
    def __init__(
        self, catalog: SubscriptionCatalog, store: SubscriptionStore, hub: StreamHub, recent: RecentStore
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.hub = hub
        self.recent = recent

    # --- subscriptions ---------------------------------------------------------

    async def create_subscription(self, request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError as exc:
            return _problem(400, "the body is not JSON", str(exc))
        if not isinstance(body, dict):
            return _problem(422, "a subscription is a JSON object")
        body.setdefault("id", uuid.uuid4().hex[:12])
        body["origin"] = "api"
        body.pop("disabled", None)
        target = body.get("target")
        if isinstance(target, dict) and target.get("kind") == "webhook" and not target.get("secrets"):
            target["secrets"] = [new_secret()]
        try:
            sub = Subscription.model_validate(body)
        except ValidationError as exc:
            return _problem(422, "invalid subscription", _errors(exc))
        if sub.id in self.catalog.configured:
            return _problem(409, f"subscription {sub.id!r} is defined in the routing file and cannot be replaced")
        await self.store.put(sub)
        await self.catalog.refresh()
        return _model(sub, 201, REVEAL)  # the only response that shows the secret

    async def list_subscriptions(self, request: web.Request) -> web.Response:
        await self.catalog.refresh()
        return _model(SubscriptionList(subscriptions=sorted(self.catalog.current(), key=lambda s: s.id)))

    async def get_subscription(self, request: web.Request) -> web.Response:
        await self.catalog.refresh()
        sub = self.catalog.get(request.match_info["id"])
        return _model(sub) if sub else _problem(404, "no such subscription")

    async def delete_subscription(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["id"]
        if sub_id in self.catalog.configured:
            return _problem(409, f"subscription {sub_id!r} is defined in the routing file; remove it there")
        if not await self.store.delete(sub_id):
            return _problem(404, "no such subscription")
        await self.catalog.refresh()
        return web.Response(status=204)

    async def enable_subscription(self, request: web.Request) -> web.Response:
        """Deliver again to an endpoint a 410 Gone disabled (a configured one too). Articles published while
        it was disabled were not queued for it; the delivery the 410 refused is a ``webhook_disabled`` dead
        letter that ``newsflow dlq redrive --code webhook_disabled`` sends to it again."""
        sub_id = request.match_info["id"]
        await self.catalog.refresh()
        if self.catalog.get(sub_id) is None:
            return _problem(404, "no such subscription")
        await self.store.enable(sub_id)
        await self.catalog.refresh()
        sub = self.catalog.get(sub_id)
        return _model(sub) if sub else _problem(404, "no such subscription")

    # --- stream, stories, articles ---------------------------------------------

    def _query_filter(self, request: web.Request) -> SubscriptionFilter:
        q = request.query
        data: dict[str, Any] = {f: q.getall(p) for p, f in _QUERY_FIELDS.items() if p in q}
        for bound in ("tone_min", "tone_max"):
            if bound in q:
                data[bound] = q[bound]
        return SubscriptionFilter.model_validate(data)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        sub_id = request.query.get("subscription")
        if sub_id:
            await self.catalog.refresh()
            if self.catalog.get(sub_id) is None:
                return _problem(404, "no such subscription")
        try:
            query_filter = self._query_filter(request)
        except ValidationError as exc:
            return _problem(422, "invalid filter", _errors(exc))
        last_id = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
        resp = web.StreamResponse(
            headers={"content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no"}
        )
        await resp.prepare(request)
        await resp.write(b"retry: 2000\n\n")
        async for ev in self.hub.subscribe(last_id):
            if ev is None:
                await resp.write(b": keep-alive\n\n")
                continue
            facts = ArticleFacts.from_json(ev.facts) if ev.facts else None
            if facts is None:
                continue
            if sub_id:
                sub = self.catalog.get(sub_id)
                if sub is None:
                    break  # deleted while streaming
                if not matches(sub.filter, facts):
                    continue
            if not matches(query_filter, facts):
                continue
            await resp.write(sse_frame(ev))
        return resp

    async def list_stories(self, request: web.Request) -> web.Response:
        try:
            limit = max(1, min(200, int(request.query.get("limit", "50"))))
        except ValueError:
            return _problem(422, "limit is a number")
        position = await self.hub.last_id()
        return _model(StoryList(stories=await self.recent.stories(limit), stream_last_id=position))

    async def get_story(self, request: web.Request) -> web.Response:
        story = await self.recent.story(request.match_info["id"])
        return _model(story) if story else _problem(404, "no such story (or older than NEWSFLOW_RECENT_TTL_S)")

    async def get_article(self, request: web.Request) -> web.Response:
        raw = await self.recent.article(request.match_info["id"])
        if raw is None:
            return _problem(404, "no such article (or older than NEWSFLOW_RECENT_TTL_S)")
        return web.Response(body=raw, content_type="application/json")

    # --- page and doc -------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        return web.Response(body=STATIC.joinpath("index.html").read_bytes(), content_type="text/html")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
        suffix = name[name.rfind(".") :] if "." in name else ""
        if "/" in name or suffix not in types or not STATIC.joinpath(name).is_file():
            return _problem(404, "no such file")
        return web.Response(body=STATIC.joinpath(name).read_bytes(), content_type=types[suffix])

    async def openapi_doc(self, request: web.Request) -> web.Response:
        return _json(openapi())


def add_routes(app: web.Application, api: PublishApi) -> None:
    r = app.router
    r.add_get("/", api.index)
    r.add_get("/static/{name}", api.static)
    r.add_get("/openapi.json", api.openapi_doc)
    r.add_post("/v1/subscriptions", api.create_subscription)
    r.add_get("/v1/subscriptions", api.list_subscriptions)
    r.add_get("/v1/subscriptions/{id}", api.get_subscription)
    r.add_delete("/v1/subscriptions/{id}", api.delete_subscription)
    r.add_post("/v1/subscriptions/{id}/enable", api.enable_subscription)
    r.add_get("/v1/stream", api.stream)
    r.add_get("/v1/stories", api.list_stories)
    r.add_get("/v1/stories/{id}", api.get_story)
    r.add_get("/v1/articles/{id}", api.get_article)


def make_app(api: PublishApi) -> web.Application:
    app = web.Application()
    add_routes(app, api)
    app.on_shutdown.append(lambda _app: _close(api))
    return app


async def _close(api: PublishApi) -> None:
    api.hub.close()


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(name: str | None, description: str, media: str = "application/json") -> dict[str, Any]:
    if name is None:
        return {"description": description}
    return {"description": description, "content": {media: {"schema": _ref(name)}}}


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the publish HTTP API (schemas from the pydantic models)."""
    _, defs = models_json_schema(
        [(m, "serialization") for m in (Subscription, SubscriptionList, StoryList, StoryCard, ArticleCard, Problem)],
        ref_template="#/components/schemas/{model}",
    )
    schemas = defs.get("$defs", {})
    problem = _ok("Problem", "an error")
    sub_id = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
    filters = [
        {"name": p, "in": "query", "required": False, "schema": {"type": "array", "items": {"type": "string"}},
         "style": "form", "explode": True, "description": f"filter: {f} (repeatable)"}
        for p, f in _QUERY_FIELDS.items()
    ] + [
        {"name": b, "in": "query", "required": False, "schema": {"type": "number", "minimum": -1, "maximum": 1}}
        for b in ("tone_min", "tone_max")
    ]  # fmt: skip
    search_paths, search_schemas = search_openapi_paths(problem)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newsflow publish",
            "version": "1",
            "description": "Subscriptions (saved searches) delivered to Kafka, signed webhooks (Standard Webhooks) "
            "or the live stream; recent stories and articles; search of the archive.",
        },
        "paths": {
            "/v1/subscriptions": {
                "get": {"summary": "List subscriptions", "responses": {"200": _ok("SubscriptionList", "all")}},
                "post": {
                    "summary": "Create (or replace) a subscription",
                    "description": "id is generated when omitted; a webhook target without secrets gets one, shown "
                    "in this response only.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("Subscription")}},
                    },
                    "responses": {"201": _ok("Subscription", "created"), "409": problem, "422": problem},
                },
            },
            "/v1/subscriptions/{id}": {
                "parameters": sub_id,
                "get": {"summary": "One subscription", "responses": {"200": _ok("Subscription", "it"), "404": problem}},
                "delete": {
                    "summary": "Delete a subscription",
                    "responses": {"204": _ok(None, "deleted"), "404": problem, "409": problem},
                },
            },
            "/v1/subscriptions/{id}/enable": {
                "parameters": sub_id,
                "post": {
                    "summary": "Deliver again to an endpoint a 410 Gone disabled",
                    "description": "Clears disabled (for a subscription of the routing file too). Articles "
                    "published while it was disabled were not queued for it; the delivery the 410 refused is a "
                    "webhook_disabled dead letter, sent again by newsflow dlq redrive --code webhook_disabled.",
                    "responses": {"200": _ok("Subscription", "enabled"), "404": problem},
                },
            },
            "/v1/stream": {
                "get": {
                    "summary": "Live articles as Server-Sent Events (event: article, data: ArticleCard)",
                    "description": "Resumable: send Last-Event-ID (or last_event_id=) to get what was missed from the "
                    "recent history (NEWSFLOW_STREAM_HISTORY events).",
                    "parameters": [
                        {"name": "subscription", "in": "query", "required": False, "schema": {"type": "string"}},
                        {"name": "last_event_id", "in": "query", "required": False, "schema": {"type": "string"}},
                        {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}},
                        *filters,
                    ],
                    "responses": {
                        "200": {
                            "description": "text/event-stream; each event's data is an ArticleCard",
                            "content": {"text/event-stream": {"schema": _ref("ArticleCard")}},
                        },
                        "404": problem,
                        "422": problem,
                    },
                }
            },
            "/v1/stories": {
                "get": {
                    "summary": "Recent stories, most recently updated first",
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}}],
                    "responses": {"200": _ok("StoryList", "stories")},
                }
            },
            "/v1/stories/{id}": {
                "parameters": sub_id,
                "get": {"summary": "One story", "responses": {"200": _ok("StoryCard", "it"), "404": problem}},
            },
            **search_paths,
            "/v1/articles/{id}": {
                "parameters": sub_id,
                "get": {
                    "summary": "One recent enriched article (the news.enriched value)",
                    "responses": {"200": {"description": "the enriched article"}, "404": problem},
                },
            },
        },
        "components": {"schemas": {**schemas, **search_schemas}},
    }
