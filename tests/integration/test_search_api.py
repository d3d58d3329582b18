"""``/v1/search`` and ``/v1/stories/{id}/articles`` over HTTP against a real archive: answers, and hostile
requests that get a 400 with a message (never a 500); an unreachable PostgreSQL is a 503."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from devtools.embedded import free_port
from services.publish.search_api import SearchApi, add_search_routes
from shared.archive.rows import row_of
from shared.archive.store import open_store
from shared.settings import Settings
from tests.unit.publish_articles import enriched

pytestmark = pytest.mark.integration


async def serve(settings: Settings) -> TestServer:
    app = web.Application()
    add_search_routes(app, SearchApi(settings))
    server = TestServer(app)
    await server.start_server()
    return server


@pytest.fixture
async def server(pg_url: str) -> AsyncIterator[TestServer]:
    store = await open_store(pg_url)
    await store.migrate()
    arts = [
        enriched("jp1", title="Strong earthquake shakes northern Japan", story_id="st_jp"),
        enriched("fr1", title="Élections en France", body="Les électeurs votent.", language="fr", countries=("FR",),
                 story_id="st_fr"),
    ]  # fmt: skip
    await store.write([row_of(a, a.model_dump_json()) for a in arts])
    await store.close()
    srv = await serve(Settings(archive_url=pg_url))
    yield srv
    await srv.close()


async def test_search_finds_the_japan_story_by_word_and_country(server: TestServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/v1/search"), params={"q": "earthquake", "country": "JP"}) as resp:
            assert resp.status == 200
            body = await resp.json()
        assert [h["id"] for h in body["results"]] == ["jp1"]
        assert body["facets"]["countries"] == [{"value": "JP", "count": 1}]
        async with http.get(server.make_url("/v1/stories/st_jp/articles")) as resp:
            assert resp.status == 200 and [a["id"] for a in (await resp.json())["articles"]] == ["jp1"]
        async with http.get(server.make_url("/v1/stories/nope/articles")) as resp:
            assert resp.status == 404


@pytest.mark.parametrize(
    "query",
    [
        "q=" + "x" * 5000,
        "q=%27%3B%20DROP%20TABLE%20articles%3B--",
        "&".join(f"entity=e{i}" for i in range(600)),
        "q=flood&cursor=eyJxIjoiMTIzIiwiYXQiOiIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwiaWQiOiJ4IiwiciI6MC41fQ",
        "q=%00%00",
        "q=flood&to=%00",
        "from=not-a-date",
        "country=%27%20OR%201%3D1",
        "limit=1e9",
    ],
)
async def test_hostile_queries_get_a_400_with_a_message(server: TestServer, query: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(server.make_url("/v1/search?" + query)) as resp:
        text = await resp.text()
        assert resp.status in (200, 400), text  # SQL metacharacters are words to search for: an answer is fine
        if resp.status == 400:
            assert resp.content_type == "application/problem+json" and "detail" in text


async def test_an_unreachable_archive_is_a_503() -> None:
    srv = await serve(Settings(archive_url=f"postgresql://postgres@127.0.0.1:{free_port()}/none"))
    try:
        async with aiohttp.ClientSession() as http, http.get(srv.make_url("/v1/search?q=x")) as resp:
            assert resp.status == 503
    finally:
        await srv.close()
