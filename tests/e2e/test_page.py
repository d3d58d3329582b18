"""The live story page in a real headless browser (Debian's chromium driven by playwright).

The page is open before any article exists; the test publishes raw articles, waits until their stories
appear without a reload, filters, and saves a screenshot (``tmp_path``, and ``$NEWSFLOW_TEST_ARTIFACTS``
when set). Skipped, with the reason, when chromium or playwright is missing (``make test`` installs
chromium with apt-get when it runs as root).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from devtools.embedded import free_port
from services.clients import iter_inputs
from shared import codec
from shared.settings import Settings
from shared.sources import Source, SourceStore

from ..apikey_util import make_key
from ..kafkautil import produce
from ..unit.publish_articles import enriched

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = os.environ.get("NEWSFLOW_TEST_CHROMIUM", "/usr/bin/chromium")
SAMPLES = Path(__file__).resolve().parents[2] / "services" / "samples"
FOLLOW_UP = {
    "title": "Japan quake: bullet trains resume after tsunami advisory is lifted",
    "body": "SENDAI, Japan, March 3 (Other Wire) - Bullet trains in northern Japan were running again on Monday "
    "after a magnitude 6.8 earthquake off the coast of Miyagi prefecture, the Japan Meteorological Agency said, "
    "and the tsunami advisory was lifted.\n\nChief Cabinet Secretary Yoshimasa Hayashi said there were no reports "
    "of serious damage. Tohoku Electric Power said its Onagawa nuclear plant was operating normally after the "
    "earthquake, and waves of about 20 centimetres reached Ishinomaki.",
    "url": "https://other-wire.example.net/japan-quake-trains",
    "source": "Other Wire",
    "published_at": "2025-03-03T04:30:00Z",
    "language": "en",
}
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def _browser_or_skip() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: `apt-get install -y chromium` as root (make test does) to run it")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")


async def _open(page: Any, url: str, workers: Any) -> None:
    """Load ``url`` in ``page`` once the worker serving it answers (at most about a minute)."""
    for _ in range(120):  # the worker starts
        try:
            await page.goto(url, timeout=2000)
            return
        except Exception:
            await page.wait_for_timeout(500)
    pytest.fail(f"the page at {url} never answered\n{workers.logs()}")


async def test_stories_appear_live_on_the_page_and_the_filter_narrows_them(
    settings: Settings, workers, tmp_path: Path
) -> None:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    port = free_port()
    workers.start("ingest")
    workers.start("enrich")
    workers.start("publish", NEWSFLOW_WEB_PORT=str(port), NEWSFLOW_API_ANONYMOUS_READ="true")  # as in newsflow dev
    url = f"http://127.0.0.1:{port}/"
    # two sources as intake leaves them in Redis: one polled fine, one failing with its reason, one paused
    redis = Redis.from_url(settings.redis_url)
    store = SourceStore(redis, settings.redis_namespace)
    await store.put(Source(id="gazette", url="https://gazette.example/rss.xml"))
    await store.record_poll("gazette", ok=True, status=200, seen=3, new=2, nbytes=1000)
    await store.put(Source(id="zeitung", url="https://zeitung.example/feed"))
    await store.record_poll("zeitung", ok=False, status=503, error="http_503: https://zeitung.example/feed: HTTP 503")
    await store.put(Source(id="archive-feed", url="https://old.example/rss", paused=True))
    await redis.aclose()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1360, "height": 900})
            await _open(page, url, workers)
            await page.wait_for_selector("#status.live", timeout=30_000)
            # the sources view: each source's state, and the failing one's reason
            await page.click("#sources-view summary")
            await page.wait_for_selector(".source.failing", timeout=10_000)
            assert await page.locator("#sources-count").inner_text() == "(3, 1 failing)"
            states = dict(zip(await page.locator(".source strong").all_inner_texts(),
                              await page.locator(".source .chip.state").all_inner_texts(), strict=True))  # fmt: skip
            assert states == {"archive-feed": "paused", "gazette": "healthy", "zeitung": "failing"}
            assert "HTTP 503" in await page.locator(".source.failing .reason").inner_text()
            assert await page.locator(".story").count() == 0
            await produce(settings, [i.value for i in iter_inputs([str(SAMPLES)])])
            # four distinct stories (the fifth sample is a duplicate), arriving over SSE without a reload
            await page.wait_for_function("document.querySelectorAll('.story').length >= 4", timeout=120_000)
            text = await page.locator("#stories").inner_text()
            assert "Strong earthquake shakes northern Japan" in text, text
            assert "US says doesn't want escalation" in text, text
            japan = page.locator(".story", has_text="Strong earthquake shakes northern Japan")
            assert "JP" in await japan.locator(".chip.country").all_inner_texts()
            assert await japan.locator(".chip.category").inner_text() == "disaster, accident and emergency incident"
            link = japan.locator(".articles a").first
            assert await link.get_attribute("href") == "https://wire.example.org/asia/japan-quake-sendai"
            # the story grows: another outlet's report of the same quake joins it, live
            await produce(settings, [orjson.dumps(FOLLOW_UP)])
            await japan.locator(".meta", has_text="2 articles").wait_for(timeout=60_000)
            assert "Other Wire" in await japan.locator(".meta").inner_text()
            await page.wait_for_timeout(3000)  # the "new" highlight fades
            await page.screenshot(path=str(tmp_path / "live-page.png"), full_page=True)
            await page.fill("#filter", "JP")
            await page.wait_for_function(
                "[...document.querySelectorAll('.story')].filter(e => !e.classList.contains('hidden')).length === 1"
            )
            assert await page.locator(".story:not(.hidden) h2").all_inner_texts() == [
                "Strong earthquake shakes northern Japan, tsunami advisory lifted"
            ]
            await page.screenshot(path=str(tmp_path / "live-page-filtered.png"), full_page=True)
        finally:
            await browser.close()
    artifacts = os.environ.get("NEWSFLOW_TEST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        for shot in tmp_path.glob("live-page*.png"):
            shutil.copy(shot, Path(artifacts) / shot.name)
    assert (tmp_path / "live-page.png").stat().st_size > 10_000


async def test_without_anonymous_reading_the_page_asks_for_a_read_key_and_streams_with_a_token(
    settings: Settings, workers
) -> None:
    """A deployment's default: the page asks for a key once, sends it as a header, and opens the stream with a
    short-lived token, so the key never appears in a URL."""
    _browser_or_skip()
    from playwright.async_api import async_playwright

    port = free_port()
    workers.start("publish", NEWSFLOW_WEB_PORT=str(port))  # NEWSFLOW_API_ANONYMOUS_READ is off by default
    key = await make_key(settings, "wallboard", "read")
    url = f"http://127.0.0.1:{port}/"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            await _open(page, url, workers)
            await page.wait_for_selector("#keyform:not([hidden])", timeout=30_000)
            assert "API key" in await page.locator("#status").inner_text()
            await page.fill("#key", key)
            await page.click("#keyform button")
            await page.wait_for_selector("#status.live", timeout=30_000)
            article = enriched("nf_page_key", title="Strong earthquake shakes northern Japan")
            await produce(settings, [codec.dumps(article)], topic=settings.topics.enriched, keys=[article.id.encode()])
            await page.wait_for_function("document.querySelectorAll('.story').length >= 1", timeout=60_000)
            assert "Strong earthquake shakes northern Japan" in await page.locator("#stories").inner_text()
            assert any("/v1/stream?" in u and "token=" in u for u in requested), requested
            assert not any(key in u for u in requested), requested
        finally:
            await browser.close()
