"""Intake end to end: a local feed server -> intake -> ingest -> enrich -> ``news.enriched``, and HTTP push.

The services run as real processes (``python -m services.cli intake|ingest|enrich``) on the session's broker and
the real Redis; the feed is served by a local aiohttp server, which intake may reach because the test sets
``NEWSFLOW_INTAKE_ALLOW_PRIVATE_NETWORKS=true`` (as ``newsflow dev`` does for its demo feed)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web

from devtools.embedded import free_port
from shared.settings import Settings

from ..conftest import settings_env
from ..kafkautil import collect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent

STORIES = [
    ("e1", "Harbour cranes idle as dock workers strike", "Dock workers at the northern harbour walked out on Monday"),
    ("e2", "Flood defences hold after record river level", "The river rose to its highest level since 1926"),
    ("e3", "Regional airline orders twelve new aircraft", "The regional carrier said it would take delivery in 2028"),
    ("e4", "Library reopens after two-year restoration", "The city library reopened its doors on Saturday morning"),
]


def item(guid: str, title: str, lead: str) -> str:
    body = f"<p>{lead}, officials said.</p>" + "<p>" + f"{lead}, according to a statement issued late in the day. " * 8
    return (f"<item><guid>{guid}</guid><title>{title}</title><link>https://news.example.org/{guid}</link>"
            f"<pubDate>Tue, 03 Nov 2026 08:00:00 GMT</pubDate><content:encoded><![CDATA[{body}</p>]]>"
            f"</content:encoded></item>")  # fmt: skip


def feed(entries: list[tuple[str, str, str]]) -> bytes:
    items = "".join(item(*e) for e in entries)
    return (f'<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Local wire</title><language>en</language>{items}</channel></rss>").encode()  # fmt: skip


@pytest.fixture
async def feed_server() -> AsyncIterator[tuple[str, list[tuple[str, str, str]], list[float]]]:
    entries = list(STORIES[:3])
    polls: list[float] = []

    async def serve(request: web.Request) -> web.Response:
        polls.append(time.monotonic())
        return web.Response(body=feed(entries), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed.xml", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/feed.xml", entries, polls
    await runner.cleanup()


def _keys(settings: Settings, *args: str) -> str:
    env = {**os.environ, **settings_env(settings)}
    r = subprocess.run([sys.executable, "-m", "services.cli", "keys", *args], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return r.stdout.strip().splitlines()[-1]


async def _titles(settings: Settings, count: int, timeout_s: float = 120) -> list[str]:
    got = await collect(settings, [settings.topics.enriched], count=count, timeout_s=timeout_s)
    return [orjson.loads(g.value)["title"] for g in got]


async def test_a_feed_reaches_news_enriched_and_push_needs_a_key(
    settings: Settings, workers, feed_server, tmp_path
) -> None:
    url, entries, polls = feed_server
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"- id: local-wire\n  url: {url}\n  interval_s: 30\n  fetch_pages: false\n", "utf-8")
    port = free_port()
    intake_env = {"NEWSFLOW_INTAKE_SOURCES_FILE": str(sources), "NEWSFLOW_INTAKE_ALLOW_PRIVATE_NETWORKS": "true",
                  "NEWSFLOW_WEB_PORT": str(port), "NEWSFLOW_INTAKE_HOST_INTERVAL_S": "0"}  # fmt: skip
    workers.start("intake", **intake_env)
    workers.start("ingest")
    workers.start("enrich")

    # three entries -> three enriched articles
    titles = await _titles(settings, 3)
    assert sorted(titles) == sorted(t for _, t, _ in STORIES[:3]), workers.logs()

    # a new entry appears -> it comes out within one interval (30 s) of the poll after it
    entries.append(STORIES[3])
    appeared = time.monotonic()
    titles = await _titles(settings, 4, timeout_s=90)
    assert STORIES[3][1] in titles, workers.logs()
    assert next(t for t in polls if t > appeared) - appeared <= 31

    # polled again with the same entries: nothing new reaches news.raw
    polls_before = len(polls)
    while len(polls) == polls_before:
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)
    raw = await collect(settings, [settings.topics.raw], count=5, timeout_s=5)
    assert len(raw) == 4

    # HTTP push: a write key is accepted (202, then enriched); a wrong key is 401 and nothing is produced
    key = _keys(settings, "create", "partner-feed")
    article = {"title": "Partner wire: tram line extended", "url": "https://partner.example/tram",
               "body": "The city's tram line will be extended by four stops to the new hospital, the transport "
                       "authority said on Tuesday. Construction starts in spring and ends in two years."}  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/v1/raw",
            data=orjson.dumps(article),
            headers={"Authorization": "Bearer nf_wrong", "Content-Type": "application/json"},
        ) as r:
            assert r.status == 401
        async with http.post(f"{base}/v1/raw", data=orjson.dumps(article)) as r:
            assert r.status == 401
        async with http.post(
            f"{base}/v1/raw",
            data=orjson.dumps(article),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        ) as r:
            assert r.status == 202 and (await r.json()) == {"accepted": 1}
        async with http.get(f"{base}/v1/sources", headers={"Authorization": f"Bearer {key}"}) as r:
            (src,) = (await r.json())["sources"]
            assert src["id"] == "local-wire" and src["origin"] == "file" and src["health"]["state"] == "healthy"
    titles = await _titles(settings, 5)
    assert "Partner wire: tram line extended" in titles
    raw = await collect(settings, [settings.topics.raw], count=6, timeout_s=5)
    assert len(raw) == 5  # the two refused pushes produced nothing
