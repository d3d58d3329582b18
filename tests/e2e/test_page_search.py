"""The live page's archive search in a real headless browser (Debian's chromium driven by playwright).

The page and its search routes are served as publish serves them (the page's files, ``/v1/search`` and
``/v1/stories/{id}/articles`` on a real archive); the live-story half of the page gets an empty
``/v1/stories`` here (tests/e2e/test_page.py drives that half against the running services). The test
types a query with a filter, finds the Japan story, narrows by a facet, follows the story timeline link
target, and saves a screenshot (``tmp_path``, and ``$NEWSFLOW_TEST_ARTIFACTS`` when set).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.publish.api import STATIC
from services.publish.search_api import SearchApi, add_search_routes
from shared.archive.rows import row_of
from shared.archive.store import open_store
from shared.settings import Settings
from tests.unit.publish_articles import enriched

from .test_page import ARGS, CHROMIUM, _browser_or_skip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def page_app(settings: Settings) -> web.Application:
    async def index(_r: web.Request) -> web.Response:
        return web.Response(body=STATIC.joinpath("index.html").read_bytes(), content_type="text/html")

    async def static(r: web.Request) -> web.Response:
        name = r.match_info["name"]
        kind = {"js": "text/javascript", "css": "text/css"}[name.rsplit(".", 1)[1]]
        return web.Response(body=STATIC.joinpath(name).read_bytes(), content_type=kind)

    async def no_stories(_r: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps({"stories": [], "stream_last_id": ""}), content_type="application/json")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/v1/stories", no_stories)
    add_search_routes(app, SearchApi(settings))
    return app


async def test_the_search_box_finds_the_japan_story_and_facets_narrow_it(pg_url: str, tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    store = await open_store(pg_url)
    await store.migrate()
    arts = [
        enriched("jp1", title="Strong earthquake shakes northern Japan, tsunami advisory lifted", story_id="st_jp"),
        enriched("jp2", title="Japan quake: bullet trains resume", body="Trains resumed after the earthquake.",
                 source="Other Wire", story_id="st_jp", organizations=("East Japan Railway Company",)),
        enriched("cl1", title="Earthquake drill in Santiago", countries=("CL",), people=(), organizations=(),
                 story_id="st_cl"),
    ]  # fmt: skip
    await store.write([row_of(a, a.model_dump_json()) for a in arts])
    await store.close()
    server = TestServer(page_app(Settings(archive_url=pg_url)))
    await server.start_server()
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(str(server.make_url("/")))
            await page.fill("#q", "earthquake country:JP")
            await page.press("#q", "Enter")
            await page.wait_for_selector(".hit", timeout=10_000)
            titles = await page.locator(".hit a.title").all_inner_texts()
            assert sorted(titles) == ["Japan quake: bullet trains resume",
                                      "Strong earthquake shakes northern Japan, tsunami advisory lifted"]  # fmt: skip
            assert "2 results" in await page.inner_text("#search-summary")
            await page.click('#facets a[data-filter="entity"][data-value="East Japan Railway Company"]')
            await page.wait_for_function("document.querySelectorAll('.hit').length === 1", timeout=10_000)
            assert await page.locator(".hit a.title").all_inner_texts() == ["Japan quake: bullet trains resume"]
            link = await page.get_attribute(".hit a.json", "href")
            assert link == "/v1/stories/st_jp/articles"
            await page.fill("#q", "-only")
            await page.press("#q", "Enter")
            await page.wait_for_function("document.getElementById('search-summary').textContent.includes('refused')")
            await page.fill("#q", "earthquake")
            await page.press("#q", "Enter")
            await page.wait_for_function("document.querySelectorAll('.hit').length === 3", timeout=10_000)
            await page.screenshot(path=str(tmp_path / "archive-search.png"), full_page=True)
            if artifacts := os.environ.get("NEWSFLOW_TEST_ARTIFACTS"):
                Path(artifacts).mkdir(parents=True, exist_ok=True)
                shutil.copy(tmp_path / "archive-search.png", Path(artifacts) / "archive-search.png")
            await browser.close()
    finally:
        await server.close()
