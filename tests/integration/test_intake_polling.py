"""Intake against real local HTTP servers (aiohttp) and the real Redis: politeness, hostile servers, SSRF.

Each test serves feeds and pages from a local aiohttp server on a free port (intake is told it may reach
private networks, as a test must), polls with the real :class:`Poller`, :class:`Fetcher` and
:class:`SourceStore`, and collects what would go to ``news.raw``."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import orjson
import pytest
from aiohttp import web

from devtools.embedded import free_port
from services.intake.fetch import Fetcher
from services.intake.poller import Poller
from shared.redis_client import make_redis
from shared.settings import Settings
from shared.sources import Source, SourceStore

pytestmark = pytest.mark.integration


def rss(items: list[tuple[str, str, str]], *, encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 feed of (guid, title, content) items, each with a long content:encoded body."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>http://127.0.0.1/a/{g}</link>"
        f"<pubDate>Tue, 03 Nov 2026 08:00:00 GMT</pubDate>"
        f"<content:encoded><![CDATA[<p>{c}</p><p>{'Harbour officials gave details of the plan. ' * 12}</p>]]>"
        f"</content:encoded></item>"
        for g, t, c in items
    )
    doc = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0" '
           f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Local</title>'
           f"<language>en</language>{body}</channel></rss>")  # fmt: skip
    return doc.encode(encoding)


@dataclass
class Server:
    """A local HTTP server whose routes a test sets; counts requests and keeps their headers."""

    port: int
    routes: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = field(default_factory=dict)
    hits: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.hits if p == path)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server(free_port())

    async def dispatch(request: web.Request) -> web.StreamResponse:
        srv.hits.append((request.path, dict(request.headers)))
        handler = srv.routes.get(request.path)
        if handler is None:
            return web.Response(status=404)
        return await handler(request)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", srv.port).start()
    yield srv
    await runner.cleanup()


@dataclass
class Rig:
    settings: Settings
    store: SourceStore
    poller: Poller
    fetcher: Fetcher
    sent: list[dict[str, object]]


@pytest.fixture
async def rig(settings_factory: Callable[..., Settings]) -> AsyncIterator[Rig]:
    s = settings_factory(
        intake_allow_private_networks=True, intake_timeout_s=2.0, intake_max_bytes=200_000,
        intake_host_interval_s=0.0, intake_backoff_base_s=30.0,
    )  # fmt: skip
    redis = make_redis(s)
    store = SourceStore(redis, s.redis_namespace)
    sent: list[dict[str, object]] = []

    async def send(batch: list[tuple[str, bytes]]) -> None:
        sent.extend(orjson.loads(v) for _, v in batch)

    fetcher = Fetcher(s)
    yield Rig(s, store, Poller(s, store, fetcher, send), fetcher, sent)
    await fetcher.close()
    keys = [k async for k in redis.scan_iter(match=f"{s.redis_namespace}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def route(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[..., Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, status=status, headers=headers or {"Content-Type": "application/rss+xml"})

    return handler


async def test_conditional_get_304_and_entries_sent_once(server: Server, rig: Rig) -> None:
    feed = rss([("g1", "Ferry strike ends", "Crews return."), ("g2", "Bridge reopens", "Traffic flows.")])

    async def with_etag(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(body=feed, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})

    server.routes["/feed"] = with_etag
    src = Source(id="local", url=server.url("/feed"), fetch_pages=False)
    first = await rig.poller.poll(src)
    assert (first.ok, first.new, first.seen) == (True, 2, 0)
    assert {r["title"] for r in rig.sent} == {"Ferry strike ends", "Bridge reopens"}
    assert all(r["source"] == "local" and r["language"] == "en" for r in rig.sent)
    again = await rig.poller.poll(src)
    assert (again.ok, again.status, again.new) == (True, 304, 0)  # not modified: nothing read, nothing sent
    assert server.hits[-1][1].get("If-None-Match") == '"v1"'
    assert len(rig.sent) == 2
    ua = server.hits[-1][1]["User-Agent"]
    assert ua.startswith("newsflow-intake/") and rig.settings.intake_contact_url in ua


async def test_the_same_entries_again_are_skipped_and_a_changed_one_is_sent_again(server: Server, rig: Rig) -> None:
    server.routes["/feed"] = route(rss([("g1", "Minister resigns", "First version.")]))
    src = Source(id="corr", url=server.url("/feed"), fetch_pages=False)
    await rig.poller.poll(src)
    unchanged = await rig.poller.poll(src)  # no validators from this server: fetched again, entry known
    assert (unchanged.seen, unchanged.new, unchanged.changed) == (1, 0, 0)
    server.routes["/feed"] = route(rss([("g1", "Minister resigns", "Corrected version.")]))
    corrected = await rig.poller.poll(src)
    assert corrected.changed == 1
    assert [r["url"] for r in rig.sent] == ["http://127.0.0.1/a/g1"] * 2  # same URL: ingest makes it version 2
    assert "Corrected version." in str(rig.sent[-1]["body"])


async def test_gzip_and_non_utf8_feeds(server: Server, rig: Rig) -> None:
    latin = rss([("l1", "Saúde pública em alerta", "Texto.")], encoding="iso-8859-1")
    zipped = {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
    server.routes["/gz"] = route(gzip.compress(rss([("z1", "Zipped news", "Body.")])), headers=zipped)
    server.routes["/latin"] = route(latin)
    assert (await rig.poller.poll(Source(id="gz", url=server.url("/gz"), fetch_pages=False))).new == 1
    assert (await rig.poller.poll(Source(id="latin", url=server.url("/latin"), fetch_pages=False))).new == 1
    assert [r["title"] for r in rig.sent] == ["Zipped news", "Saúde pública em alerta"]
    assert "gzip" in server.hits[0][1].get("Accept-Encoding", "")


async def test_summary_only_entries_get_their_page_fetched(server: Server, rig: Rig) -> None:
    page = ("<html lang='en'><head><title>Full</title></head><body><article><h1>Quake hits coast</h1>"
            + "<p>A strong earthquake struck the coast on Tuesday, officials said.</p>" * 6
            + "</article></body></html>").encode()  # fmt: skip
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><guid>p1</guid>'
            f"<title>Quake hits coast</title><link>{server.url('/story/1')}</link>"
            f"<description>Teaser only.</description></item></channel></rss>").encode()  # fmt: skip
    server.routes["/feed"] = route(feed)
    server.routes["/story/1"] = route(page, headers={"Content-Type": "text/html; charset=utf-8"})
    result = await rig.poller.poll(Source(id="pages", url=server.url("/feed")))
    assert result.new == 1
    (rec,) = rig.sent
    assert rec["html"] == page.decode() and rec["title"] == "Quake hits coast" and rec["url"] == server.url("/story/1")


async def test_redirects_are_followed_and_a_loop_fails(server: Server, rig: Rig) -> None:
    server.routes["/old"] = route(b"", 301, {"Location": "/new"})
    server.routes["/new"] = route(rss([("r1", "Moved feed", "Body.")]))
    server.routes["/loop-a"] = route(b"", 302, {"Location": "/loop-b"})
    server.routes["/loop-b"] = route(b"", 302, {"Location": "/loop-a"})
    assert (await rig.poller.poll(Source(id="moved", url=server.url("/old"), fetch_pages=False))).new == 1
    loop = await rig.poller.poll(Source(id="loop", url=server.url("/loop-a"), fetch_pages=False))
    assert not loop.ok and loop.error is not None and loop.error.startswith("redirect_loop")


async def test_hostile_documents_fail_with_a_reason_and_nothing_sent(server: Server, rig: Rig) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><rss version="2.0"><channel><title>&c;</title></channel></rss>'
    )
    server.routes["/bomb"] = route(bomb)
    server.routes["/broken"] = route(b"<rss><channel><title>no close")
    server.routes["/huge"] = route(b"<rss>" + b"x" * 300_000 + b"</rss>")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(body=rss([]))

    server.routes["/slow"] = slow
    codes = {}
    for path in ("/bomb", "/broken", "/huge", "/slow"):
        r = await rig.poller.poll(Source(id=path.strip("/"), url=server.url(path), fetch_pages=False))
        assert not r.ok and r.error
        codes[path] = r.error.split(":")[0]
    assert codes == {"/bomb": "xml_forbidden", "/broken": "broken_feed", "/huge": "too_large", "/slow": "timeout"}
    assert rig.sent == []


async def test_429_with_retry_after_backs_off_at_least_that_long(server: Server, rig: Rig) -> None:
    server.routes["/busy"] = route(b"", 429, {"Retry-After": "900"})
    src = Source(id="busy", url=server.url("/busy"), interval_s=60, fetch_pages=False)
    await rig.store.put(src)
    await rig.poller.tick()
    for _ in range(50):
        if not rig.poller._running:
            break
        await asyncio.sleep(0.05)
    due = await rig.store.redis.zscore(f"{rig.settings.redis_namespace}:intake:due", "busy")
    assert due is not None and due - time.time() >= 890
    health = await rig.store.health("busy")
    assert (health.state, health.last_status, health.failures) == ("failing", 429, 1)


async def test_robots_txt_is_honoured(server: Server, rig: Rig) -> None:
    server.routes["/robots.txt"] = route(
        b"User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"}
    )
    server.routes["/private/feed"] = route(rss([("x1", "Hidden", "Body.")]))
    r = await rig.poller.poll(Source(id="priv", url=server.url("/private/feed"), fetch_pages=False))
    assert not r.ok and "robots.txt disallows" in (r.error or "")
    assert server.count("/private/feed") == 0 and rig.sent == []


async def test_private_addresses_are_refused_unless_allowed(server: Server, settings_factory) -> None:
    s = settings_factory(intake_allow_private_networks=False)
    fetcher = Fetcher(s)
    redis = make_redis(s)
    poller = Poller(s, SourceStore(redis, s.redis_namespace), fetcher, lambda batch: asyncio.sleep(0))
    try:
        server.routes["/feed"] = route(rss([("s1", "Internal", "Body.")]))
        for url in (server.url("/feed"), "http://169.254.169.254/latest/meta-data/", "http://[::1]:1/feed"):
            r = await poller.poll(Source(id="ssrf", url=url, fetch_pages=False))
            assert not r.ok and "refused" in (r.error or ""), r
        assert server.hits == []  # not even robots.txt was asked of the loopback server
    finally:
        await fetcher.close()
        await redis.aclose()


async def test_two_replicas_never_poll_one_source_at_once(server: Server, rig: Rig, settings_factory) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response(body=rss([("h1", "Held", "Body.")]))

    server.routes["/held"] = held
    await rig.store.put(Source(id="held", url=server.url("/held"), fetch_pages=False))
    other = Poller(rig.settings, rig.store, rig.fetcher, rig.poller.send)
    assert await rig.poller.tick() == ["held"]
    await asyncio.wait_for(started.wait(), 5)
    await rig.store.schedule("held", 0)  # due again while the first poll still runs
    assert await other.tick() == []  # the lease is held by the first replica
    release.set()
    for _ in range(100):
        if not rig.poller._running:
            break
        await asyncio.sleep(0.05)
    assert server.count("/held") == 1 and len(rig.sent) == 1
