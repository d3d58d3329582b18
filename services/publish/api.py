"""The publish HTTP API and the live story page (aiohttp routes; OpenAPI from the pydantic models).

Mounted on the publish worker's web server (the Faust worker's aiohttp application, on
``NEWSFLOW_WEB_PORT``, beside ``/livez``, ``/readyz`` and ``/metrics``); :func:`make_app` builds a
stand-alone application with the same routes for tests and tools.

Every route of :data:`ROUTES` but the page, its files and the OpenAPI document needs an API key with a
scope (:mod:`shared.apiauth`); a subscription belongs to the key that made it, and a webhook target must
pass the egress policy (:mod:`shared.egress`) before it is stored (docs/operating/api-keys.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import orjson
from aiohttp import web
from aiohttp.abc import AbstractResolver
from pydantic import BaseModel, Field, ValidationError
from pydantic.json_schema import models_json_schema

from shared.apiauth import PRINCIPAL, ApiAuth, audit, problem, read_body
from shared.apikeys import KeyRefused, Principal, Scope, parse_scopes
from shared.egress import EgressPolicy, RefusedTarget, check_url

from .recent import RecentStore
from .search_api import SEARCH_ROUTES, search_openapi_paths
from .sources_view import SOURCE_ROUTES, sources_openapi_paths
from .stream import StreamHub, sse_frame
from .subscription_store import SubscriptionCatalog, SubscriptionStore
from .subscriptions import (
    REVEAL,
    ArticleFacts,
    KafkaTarget,
    Subscription,
    SubscriptionFilter,
    WebhookTarget,
    matches,
    new_secret,
)
from .views import ArticleCard, StoryCard

__all__ = ["ROUTES", "ApiLimits", "PublishApi", "StoryList", "SubscriptionList", "add_routes", "make_app", "openapi"]

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


def _model(m: BaseModel, status: int = 200, context: dict[str, Any] | None = None) -> web.Response:
    return web.Response(
        body=m.model_dump_json(context=context).encode(), status=status, content_type="application/json"
    )


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]


@dataclass(frozen=True)
class ApiLimits:
    """What one key may do (``NEWSFLOW_API_*``) and where webhooks may point (``NEWSFLOW_WEBHOOK_ALLOW_*``)."""

    max_body_bytes: int = 64 * 1024
    max_subscriptions_per_key: int = 100
    egress: EgressPolicy = field(default_factory=EgressPolicy)


def _who(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def _visible(sub: Subscription, who: Principal) -> bool:
    """A subscription is seen (target included), changed and deleted by the key that made it, and admin."""
    return who.is_admin or (who.name is not None and sub.owner == who.name)


class PublishApi:
    def __init__(
        self, catalog: SubscriptionCatalog, store: SubscriptionStore, hub: StreamHub, recent: RecentStore,
        auth: ApiAuth, resolver: AbstractResolver, limits: ApiLimits | None = None,
    ) -> None:  # fmt: skip
        self.catalog = catalog
        self.store = store
        self.hub = hub
        self.recent = recent
        self.auth = auth
        self.resolver = resolver
        self.limits = limits or ApiLimits()

    # --- subscriptions ---------------------------------------------------------

    async def create_subscription(self, request: web.Request) -> web.Response:
        who = _who(request)
        raw = await read_body(request, self.limits.max_body_bytes)
        if isinstance(raw, web.Response):
            return raw
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return problem(400, "the body is not JSON", str(exc))
        if not isinstance(body, dict):
            return problem(422, "a subscription is a JSON object")
        body.setdefault("id", uuid.uuid4().hex[:12])
        body["origin"] = "api"
        body.pop("disabled", None)
        body.pop("owner", None)
        target = body.get("target")
        if isinstance(target, dict) and target.get("kind") == "webhook" and not target.get("secrets"):
            target["secrets"] = [new_secret()]
        try:
            sub = Subscription.model_validate(body)
        except ValidationError as exc:
            return problem(422, "invalid subscription", _errors(exc))
        if sub.id in self.catalog.configured:
            return problem(409, f"subscription {sub.id!r} is defined in the routing file and cannot be replaced")
        existing = await self.store.get(sub.id)
        if existing is not None and not _visible(existing, who):
            return problem(409, f"subscription id {sub.id!r} is taken: choose another")
        sub = sub.model_copy(update={"owner": existing.owner if existing else who.name})
        if existing is None:
            await self.catalog.refresh()
            owned = sum(1 for s in self.catalog.current() if s.owner is not None and s.owner == sub.owner)
            if owned >= self.limits.max_subscriptions_per_key:
                return problem(
                    403, f"key {who.label!r} has {owned} subscriptions, the most one key may have "
                    "(NEWSFLOW_API_MAX_SUBSCRIPTIONS_PER_KEY)",
                )  # fmt: skip
        if isinstance(sub.target, WebhookTarget):
            try:
                await check_url(str(sub.target.url), self.limits.egress, self.resolver)
            except RefusedTarget as exc:
                audit("subscription.refused", who, subscription=sub.id, target=str(sub.target.url), reason=str(exc))
                return problem(422, "webhook target refused", str(exc))
        await self.store.put(sub)
        await self.catalog.refresh()
        audit(
            "subscription.replace" if existing else "subscription.create", who, subscription=sub.id,
            owner=sub.owner, target=_target_label(sub),
        )  # fmt: skip
        return _model(sub, 201, REVEAL)  # the only response that shows the secret

    async def list_subscriptions(self, request: web.Request) -> web.Response:
        """The caller's own subscriptions (admin: every one, the routing file's included)."""
        who = _who(request)
        await self.catalog.refresh()
        mine = [s for s in self.catalog.current() if _visible(s, who)]
        return _model(SubscriptionList(subscriptions=sorted(mine, key=lambda s: s.id)))

    async def get_subscription(self, request: web.Request) -> web.Response:
        await self.catalog.refresh()
        sub = self.catalog.get(request.match_info["id"])
        return _model(sub) if sub and _visible(sub, _who(request)) else problem(404, "no such subscription")

    async def delete_subscription(self, request: web.Request) -> web.Response:
        who = _who(request)
        sub_id = request.match_info["id"]
        if sub_id in self.catalog.configured:
            return problem(409, f"subscription {sub_id!r} is defined in the routing file; remove it there")
        existing = await self.store.get(sub_id)
        if existing is None or not _visible(existing, who) or not await self.store.delete(sub_id):
            return problem(404, "no such subscription")
        await self.catalog.refresh()
        audit("subscription.delete", who, subscription=sub_id, owner=existing.owner, target=_target_label(existing))
        return web.Response(status=204)

    async def enable_subscription(self, request: web.Request) -> web.Response:
        """Deliver again to an endpoint a 410 Gone disabled (a configured one too). Articles published while
        it was disabled were not queued for it; the delivery the 410 refused is a ``webhook_disabled`` dead
        letter that ``newsflow dlq redrive --code webhook_disabled`` sends to it again."""
        who = _who(request)
        sub_id = request.match_info["id"]
        await self.catalog.refresh()
        found = self.catalog.get(sub_id)
        if found is None or not _visible(found, who):
            return problem(404, "no such subscription")
        await self.store.enable(sub_id)
        await self.catalog.refresh()
        audit("subscription.enable", who, subscription=sub_id, owner=found.owner, target=_target_label(found))
        sub = self.catalog.get(sub_id)
        return _model(sub) if sub else problem(404, "no such subscription")

    # --- keys (admin) ------------------------------------------------------------

    async def list_keys(self, request: web.Request) -> web.Response:
        """Every key's name, scopes and creation time (never a key, nor its digest)."""
        keys = await self.auth.verifier.store.list()
        return _json({"keys": [{"name": k.name, "scopes": sorted(k.scopes), "created_at": k.created_at} for k in keys]})

    async def create_key(self, request: web.Request) -> web.Response:
        """A new key, shown in this response only (``{"name": ..., "scopes": ["read"]}``; scope default write)."""
        raw = await read_body(request, self.limits.max_body_bytes)
        if isinstance(raw, web.Response):
            return raw
        try:
            body = orjson.loads(raw)
            if not isinstance(body, dict) or not isinstance(body.get("name"), str):
                return problem(422, 'a key is {"name": "...", "scopes": ["read" | "write" | "admin", ...]}')
            scopes = parse_scopes(body.get("scopes") or ["write"])
            key, rec = await self.auth.verifier.store.create(body["name"], scopes)
        except orjson.JSONDecodeError as exc:
            return problem(400, "the body is not JSON", str(exc))
        except KeyRefused as exc:
            return problem(409 if "exists" in str(exc) else 422, str(exc))
        except (ValueError, TypeError) as exc:
            return problem(422, str(exc))
        audit("key.create", _who(request), name=rec.name, scopes=",".join(sorted(rec.scopes)))
        return _json({"name": rec.name, "scopes": sorted(rec.scopes), "created_at": rec.created_at, "key": key}, 201)

    async def revoke_key(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not await self.auth.verifier.store.revoke(name):
            return problem(404, "no such key")
        audit("key.revoke", _who(request), name=name)
        return web.Response(status=204)

    # --- stream, stories, articles ---------------------------------------------

    def _query_filter(self, request: web.Request) -> SubscriptionFilter:
        q = request.query
        data: dict[str, Any] = {f: q.getall(p) for p, f in _QUERY_FIELDS.items() if p in q}
        for bound in ("tone_min", "tone_max"):
            if bound in q:
                data[bound] = q[bound]
        return SubscriptionFilter.model_validate(data)

    async def stream_token(self, request: web.Request) -> web.Response:
        """A short-lived token for ``GET /v1/stream?token=`` (an EventSource cannot send the key)."""
        who = _who(request)
        if who.key_digest is None:
            return problem(400, "a token is made for a key: send Authorization: Bearer <key>")
        token = await self.auth.tokens.issue(who.key_digest)
        return _json({"token": token, "expires_in": self.auth.tokens.ttl_s})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        who = _who(request)
        sub_id = request.query.get("subscription")
        if sub_id:
            await self.catalog.refresh()
            found = self.catalog.get(sub_id)
            if found is None or not (found.origin == "config" or _visible(found, who)):
                return problem(404, "no such subscription")
        try:
            query_filter = self._query_filter(request)
        except ValidationError as exc:
            return problem(422, "invalid filter", _errors(exc))
        last_id = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
        resp = web.StreamResponse(
            headers={"content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no"}
        )
        await resp.prepare(request)
        await resp.write(b"retry: 2000\n\n")
        async for ev in self.hub.subscribe(last_id):
            if not await self.auth.still_valid(who):
                break  # the key was revoked while streaming
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
            return problem(422, "limit is a number")
        position = await self.hub.last_id()
        return _model(StoryList(stories=await self.recent.stories(limit), stream_last_id=position))

    async def get_story(self, request: web.Request) -> web.Response:
        story = await self.recent.story(request.match_info["id"])
        return _model(story) if story else problem(404, "no such story (or older than NEWSFLOW_RECENT_TTL_S)")

    async def get_article(self, request: web.Request) -> web.Response:
        raw = await self.recent.article(request.match_info["id"])
        if raw is None:
            return problem(404, "no such article (or older than NEWSFLOW_RECENT_TTL_S)")
        return web.Response(body=raw, content_type="application/json")

    # --- page and doc -------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        return web.Response(body=STATIC.joinpath("index.html").read_bytes(), content_type="text/html")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
        suffix = name[name.rfind(".") :] if "." in name else ""
        if "/" in name or suffix not in types or not STATIC.joinpath(name).is_file():
            return problem(404, "no such file")
        return web.Response(body=STATIC.joinpath(name).read_bytes(), content_type=types[suffix])

    async def openapi_doc(self, request: web.Request) -> web.Response:
        return _json(openapi())


ROUTES: list[tuple[str, str, str, Scope | None]] = [
    ("GET", "/", "index", None),
    ("GET", "/static/{name}", "static", None),
    ("GET", "/openapi.json", "openapi_doc", None),
    ("POST", "/v1/subscriptions", "create_subscription", "write"),
    ("GET", "/v1/subscriptions", "list_subscriptions", "write"),
    ("GET", "/v1/subscriptions/{id}", "get_subscription", "write"),
    ("DELETE", "/v1/subscriptions/{id}", "delete_subscription", "write"),
    ("POST", "/v1/subscriptions/{id}/enable", "enable_subscription", "write"),
    ("GET", "/v1/keys", "list_keys", "admin"),
    ("POST", "/v1/keys", "create_key", "admin"),
    ("DELETE", "/v1/keys/{name}", "revoke_key", "admin"),
    ("POST", "/v1/stream/token", "stream_token", "read"),
    ("GET", "/v1/stream", "stream", "read"),
    ("GET", "/v1/stories", "list_stories", "read"),
    ("GET", "/v1/stories/{id}", "get_story", "read"),
    ("GET", "/v1/articles/{id}", "get_article", "read"),
]
"""Every route: method, path, handler, the scope it needs (None: public, the page and the document)."""


def add_routes(app: web.Application, api: PublishApi) -> None:
    """Mount :data:`ROUTES`, each behind its scope (``/v1/stream`` also takes a stream token)."""
    api.auth.mount(app, ROUTES, api, token_paths=("/v1/stream",))


def make_app(api: PublishApi) -> web.Application:
    app = web.Application()
    add_routes(app, api)
    app.on_shutdown.append(lambda _app: _close(api))
    return app


async def _close(api: PublishApi) -> None:
    api.hub.close()


def _target_label(sub: Subscription) -> str:
    t = sub.target
    if isinstance(t, WebhookTarget):
        return str(t.url)
    return f"kafka:{t.topic}" if isinstance(t, KafkaTarget) else t.kind


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
    doc: dict[str, Any] = {
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
            **sources_openapi_paths(),
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
    key_info = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "created_at": {"type": "string"},
            "scopes": {"type": "array", "items": {"enum": ["read", "write", "admin"]}},
        },
    }
    doc["paths"]["/v1/keys"] = {
        "get": {
            "summary": "Every API key (name, scopes, creation time; never the key)",
            "responses": {
                "200": {
                    "description": "{keys: [...]}",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"keys": {"type": "array", "items": key_info}}}
                        }
                    },
                }
            },
        },
        "post": {
            "summary": "Make an API key (scopes default to write); the key is in this response only",
            "requestBody": {"required": True, "content": {"application/json": {"schema": key_info}}},
            "responses": {
                "201": {"description": "the key's name, scopes and the key itself (key)"},
                "409": problem,
                "422": problem,
            },
        },
    }
    doc["paths"]["/v1/keys/{name}"] = {
        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
        "delete": {
            "summary": "Revoke a key (every replica refuses it within NEWSFLOW_API_KEY_CACHE_S)",
            "responses": {"204": _ok(None, "revoked"), "404": problem},
        },
    }
    doc["paths"]["/v1/stream/token"] = {
        "post": {
            "summary": "A short-lived token to open /v1/stream?token= (a browser's EventSource sends no headers)",
            "responses": {"200": {"description": "{token, expires_in}", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"token": {"type": "string"},
                                                            "expires_in": {"type": "number"}}}}}},
                          "400": problem},
        }
    }  # fmt: skip
    doc["paths"]["/v1/stream"]["get"]["parameters"].append(
        {"name": "token", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "a token from POST /v1/stream/token, instead of the Authorization header"}
    )  # fmt: skip
    _declare_security(doc, problem)
    return doc


_SCOPE_TEXT = {
    "admin": "admin",
    "read": "read (or write, or admin); no key needed when NEWSFLOW_API_ANONYMOUS_READ=true",
    "write": "write (or admin): a key sees and changes only its own subscriptions, admin every one",
}


def _declare_security(doc: dict[str, Any], problem: dict[str, Any]) -> None:
    """The key scheme, and each operation's scope (the roles of its security requirement, OpenAPI 3.1)."""
    doc["components"]["securitySchemes"] = {
        "apiKey": {
            "type": "http", "scheme": "bearer",
            "description": "Authorization: Bearer nfk_... (newsflow keys create NAME --scope read|write|admin)",
        },
        "streamToken": {"type": "apiKey", "in": "query", "name": "token",
                        "description": "GET /v1/stream only: a token from POST /v1/stream/token"},
    }  # fmt: skip
    doc["security"] = []
    for method, path, _name, scope in [*ROUTES, *SEARCH_ROUTES, *SOURCE_ROUTES]:
        op = doc["paths"].get(path, {}).get(method.lower())
        if op is None:
            continue
        if scope is None:
            op["security"] = []
            continue
        requirements: list[dict[str, list[str]]] = [{"apiKey": [scope]}]
        if path == "/v1/stream":
            requirements.append({"streamToken": [scope]})
        if scope == "read":
            requirements.append({})  # anonymous, when NEWSFLOW_API_ANONYMOUS_READ=true
        op["security"] = requirements
        op["x-newsflow-scope"] = scope
        op["description"] = (op.get("description", "") + f" Scope: {_SCOPE_TEXT[scope]}.").strip()
        op["responses"].setdefault("401", problem)
        op["responses"].setdefault("403", problem)
        if scope != "read":
            op["responses"].setdefault("429", problem)
        if method == "POST" and path in ("/v1/subscriptions", "/v1/keys"):
            op["responses"].setdefault("413", problem)
