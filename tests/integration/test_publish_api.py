"""The publish HTTP API on the real Redis: subscriptions, the SSE stream, stories, articles, OpenAPI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from services.publish.api import make_app
from services.publish.bootstrap import Publish, bootstrap
from shared import codec
from shared.records import InRecord
from shared.redis_client import delete_namespace
from shared.settings import Settings

from ..apikey_util import bearer, make_key
from ..stub_resolver import StubResolver
from ..unit.publish_articles import enriched


async def _settle(tasks: list[asyncio.Task[Any]]) -> None:
    """Wait for cancelled background tasks, at most 10 s: a task still finishing its cancellation then (an HTTP
    session closing after a refused connection) must not hang the test's teardown until the test timeout."""
    await asyncio.wait(tasks, timeout=10)


pytestmark = pytest.mark.integration


@dataclass
class Api:
    settings: Settings
    publish: Publish
    base: str
    http: ClientSession
    offset: int = 0

    async def article(self, article_id: str, **kw: object) -> None:
        a = enriched(article_id, **kw)  # type: ignore[arg-type]  # field values of mixed types
        self.offset += 1
        rec = InRecord(topic="enriched", partition=0, offset=self.offset, key=a.id.encode(), value=codec.dumps(a))
        await self.publish.handler.handle([rec])


PUBLIC_DNS = {"example.org": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]}  # never connected to


async def _start(s: Settings, redis: Redis) -> tuple[Publish, TestServer, list[asyncio.Task[None]]]:
    async def no_topics(names: list[str]) -> None:
        return None

    publish = bootstrap(s, redis=redis, ensure_topics=no_topics, resolver=StubResolver(PUBLIC_DNS))
    server = TestServer(make_app(publish.api))
    await server.start_server()
    tasks = [asyncio.create_task(publish.hub.run()), asyncio.create_task(publish.catalog.run())]
    return publish, server, tasks


@pytest.fixture
async def api(settings_factory, tmp_path) -> AsyncIterator[Api]:
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        "routes: []\nsubscriptions:\n  - id: configured\n    filter: {languages: [fr]}\n    target: {kind: stream}\n"
    )
    s = settings_factory(routing_file=routing, subscription_poll_s=0.1)
    redis = Redis.from_url(s.redis_url)
    publish, server, tasks = await _start(s, redis)
    admin = await make_key(s, "ops", "admin")  # these tests are about the API's behaviour: see test_api_keys.py
    async with ClientSession(headers=bearer(admin)) as http:
        yield Api(s, publish, str(server.make_url("")), http)
    publish.hub.close()  # ends open streams first, so the server closes without waiting for them
    await server.close()
    for t in tasks:
        t.cancel()
    await _settle(tasks)
    await delete_namespace(redis, s.redis_namespace)
    await redis.aclose()


async def test_subscription_crud_and_validation(api: Api) -> None:
    target = {"kind": "webhook", "url": "https://example.org/hook"}
    body = {"name": "Japan desk", "filter": {"countries": ["jp"]}, "target": target}
    async with api.http.post(f"{api.base}/v1/subscriptions", json=body) as r:
        assert r.status == 201, await r.text()
        created = await r.json()
    sub_id = created["id"]
    assert created["filter"]["countries"] == ["JP"]
    (secret,) = created["target"]["secrets"]
    assert secret.startswith("whsec_")  # generated, shown once
    async with api.http.get(f"{api.base}/v1/subscriptions/{sub_id}") as r:
        got = await r.json()
    assert got["target"]["secrets"] == ["**********"] and got["name"] == "Japan desk"
    async with api.http.get(f"{api.base}/v1/subscriptions") as r:
        ids = [s["id"] for s in (await r.json())["subscriptions"]]
    assert ids == sorted([sub_id, "configured"])
    async with api.http.post(f"{api.base}/v1/subscriptions", json={"filter": {"countries": ["Japan"]}}) as r:
        assert r.status == 422
        problem = await r.json()
    assert problem["detail"][0]["loc"][:2] == ["filter", "countries"] and "ISO 3166" in problem["detail"][0]["msg"]
    async with api.http.post(f"{api.base}/v1/subscriptions", data=b"{nope") as r:
        assert r.status == 400
    async with api.http.post(f"{api.base}/v1/subscriptions", json={"id": "configured"}) as r:
        assert r.status == 409
    async with api.http.delete(f"{api.base}/v1/subscriptions/configured") as r:
        assert r.status == 409
    async with api.http.delete(f"{api.base}/v1/subscriptions/{sub_id}") as r:
        assert r.status == 204
    async with api.http.get(f"{api.base}/v1/subscriptions/{sub_id}") as r:
        assert r.status == 404


async def test_a_configured_subscription_a_410_disabled_is_enabled_again(api: Api) -> None:
    await api.publish.store.disable("configured", "410 Gone from https://example.org/hook")
    async with api.http.get(f"{api.base}/v1/subscriptions/configured") as r:
        assert (await r.json())["disabled"].startswith("410 Gone")
    async with api.http.post(f"{api.base}/v1/subscriptions/configured/enable") as r:
        assert r.status == 200, await r.text()
        assert (await r.json())["disabled"] is None
    async with api.http.get(f"{api.base}/v1/subscriptions/configured") as r:
        assert (await r.json())["disabled"] is None
    async with api.http.post(f"{api.base}/v1/subscriptions/nobody/enable") as r:
        assert r.status == 404


async def test_a_change_reaches_another_replica_within_seconds(api: Api, settings_factory) -> None:
    other_redis = Redis.from_url(api.settings.redis_url)  # replica B: its own connection, the same namespace
    other, server, tasks = await _start(api.settings, other_redis)
    try:
        async with api.http.post(
            f"{api.base}/v1/subscriptions", json={"id": "late", "target": {"kind": "stream"}}
        ) as r:
            assert r.status == 201
        started = time.monotonic()
        while other.catalog.get("late") is None and time.monotonic() - started < 5:
            await asyncio.sleep(0.05)
        assert other.catalog.get("late") is not None
        assert time.monotonic() - started < 2.0
        async with api.http.delete(f"{api.base}/v1/subscriptions/late") as r:
            assert r.status == 204
        started = time.monotonic()
        while other.catalog.get("late") is not None and time.monotonic() - started < 5:
            await asyncio.sleep(0.05)
        assert other.catalog.get("late") is None
    finally:
        for t in tasks:
            t.cancel()
        await _settle(tasks)
        await server.close()
        await other_redis.aclose()


async def _events(
    api: Api, query: str, count: int, headers: dict[str, str] | None = None, within_s: float = 10.0
) -> list[tuple[str, dict]]:
    """Up to ``count`` events read within ``within_s``."""
    out: list[tuple[str, dict]] = []
    async with api.http.get(f"{api.base}/v1/stream{query}", headers=headers or {}) as r:
        assert r.status == 200 and r.headers["content-type"].startswith("text/event-stream")
        event_id = ""
        try:
            async with asyncio.timeout(within_s):
                async for raw in r.content:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("id: "):
                        event_id = line[4:]
                    elif line.startswith("data: "):
                        out.append((event_id, orjson.loads(line[6:])))
                        if len(out) >= count:
                            return out
        except TimeoutError:
            pass
    return out


async def test_stream_filters_and_resumes_from_last_event_id(api: Api) -> None:
    reader = asyncio.create_task(_events(api, "?country=JP", 2))
    await asyncio.sleep(0.3)  # connected
    await api.article("nf_jp1")
    await api.article("nf_fr", countries=("FR",), story_id="st_fr", title="Paris talks")
    await api.article("nf_jp2", title="Aftershocks in Sendai")
    got = await reader
    assert [d["id"] for _, d in got] == ["nf_jp1", "nf_jp2"]
    assert got[0][1]["countries"] == ["JP"] and got[0][1]["category"]["code"] == "medtop:03000000"
    first_id = got[0][0]
    resumed = await _events(api, "", 2, headers={"Last-Event-ID": first_id})  # everything after nf_jp1
    assert [d["id"] for _, d in resumed] == ["nf_fr", "nf_jp2"]
    by_sub = await _events(api, f"?subscription=configured&last_event_id={first_id}", 1, within_s=1.0)
    assert [d["id"] for _, d in by_sub] == []  # configured wants French articles: none in English
    async with api.http.get(f"{api.base}/v1/stream?subscription=nope") as r:
        assert r.status == 404
    async with api.http.get(f"{api.base}/v1/stream?tone_min=5") as r:
        assert r.status == 422


async def test_stories_and_articles(api: Api) -> None:
    await api.article("nf_a", source="Wire A")
    await api.article("nf_b", source="Wire B", title="Tsunami advisory lifted after Japan quake")
    await api.article("nf_b", source="Wire B", title="Tsunami advisory lifted after Japan quake")  # a replay
    await api.article("nf_b", version=2, source="Wire B", title="Tsunami advisory lifted (updated)")
    async with api.http.get(f"{api.base}/v1/stories") as r:
        listing = await r.json()
    (story,) = listing["stories"]
    assert story["id"] == "st_jp" and story["article_count"] == 2
    assert story["headline"] == "Strong earthquake shakes northern Japan"  # the first article's
    assert {o["name"]: o["count"] for o in story["outlets"]} == {"Wire A": 1, "Wire B": 1}
    assert story["countries"][0] == {"name": "JP", "count": 2}
    assert story["category"]["code"] == "medtop:03000000"
    assert story["articles"][0]["title"] == "Tsunami advisory lifted (updated)"  # newest first, latest version
    async with api.http.get(f"{api.base}/v1/stories/st_jp") as r:
        assert (await r.json())["article_count"] == 2
    async with api.http.get(f"{api.base}/v1/articles/nf_b") as r:
        art = await r.json()
    assert art["version"] == 2 and "enrichment" in art
    for path in ("/v1/stories/none", "/v1/articles/none"):
        async with api.http.get(f"{api.base}{path}") as r:
            assert r.status == 404


async def test_openapi_document_and_page(api: Api) -> None:
    async with api.http.get(f"{api.base}/openapi.json") as r:
        doc = await r.json()
    assert doc["openapi"].startswith("3.1")
    assert {"/v1/subscriptions", "/v1/subscriptions/{id}", "/v1/stream", "/v1/stories", "/v1/stories/{id}",
            "/v1/articles/{id}"} <= set(doc["paths"])  # fmt: skip
    refs = {v for v in orjson.dumps(doc).decode().split('"') if v.startswith("#/components/schemas/")}
    assert refs and all(r.rsplit("/", 1)[1] in doc["components"]["schemas"] for r in refs)
    assert "countries" in doc["components"]["schemas"]["SubscriptionFilter"]["properties"]
    async with api.http.get(f"{api.base}/") as r:
        assert r.status == 200 and "live stories" in await r.text()
    for name in ("app.js", "style.css"):
        async with api.http.get(f"{api.base}/static/{name}") as r:
            assert r.status == 200
    async with api.http.get(f"{api.base}/static/..%2Fapi.py") as r:
        assert r.status == 404
