"""Intake's pure logic: sources, entry records and versions, back-off, Retry-After, robots.txt, host spacing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from services.intake.feeds import Entry
from services.intake.politeness import HostGate, Robots, backoff_s, host_of
from services.intake.records import entry_key, entry_version, html_to_text, needs_page, raw_record
from shared.retry_after import retry_after_s
from shared.sources import Source, SourceError, load_sources, parse_sources


def test_sources_from_yaml_with_defaults_and_clear_errors(tmp_path: Path) -> None:
    f = tmp_path / "sources.yaml"
    f.write_text(
        "sources:\n  - id: gazette\n    url: https://gazette.example/rss\n    language: en\n", encoding="utf-8"
    )
    (s,) = load_sources(f)
    assert (s.kind, s.interval_s, s.fetch_pages, s.language) == ("auto", 300, True, "en")
    with pytest.raises(SourceError, match=r"\[1\]: duplicate id 'a'"):
        parse_sources([{"id": "a", "url": "https://a.example/"}, {"id": "a", "url": "https://b.example/"}])
    with pytest.raises(SourceError, match="url must be an http"):
        parse_sources([{"id": "a", "url": "file:///etc/passwd"}])
    with pytest.raises(SourceError, match="interval_s"):
        parse_sources([{"id": "a", "url": "https://a.example/", "interval_s": 1}])
    with pytest.raises(SourceError, match="credentials"):
        parse_sources([{"id": "a", "url": "https://u:p@a.example/"}])
    with pytest.raises(SourceError, match="expected a list"):
        parse_sources("nope")


def test_an_entry_with_full_content_is_sent_as_fields_and_a_teaser_gets_its_page() -> None:
    src = Source(id="gz", url="https://gazette.example/rss")
    body = "<p>" + "Crews of the island ferries return to work on Monday. " * 10 + "</p><p>The union said so.</p>"
    full = Entry(key="g1", url="https://gazette.example/a", title="Ferry strike ends", content=body,
                 published_at="2026-11-03T07:15:00+00:00", authors=("Ana Ruiz",), language="en")  # fmt: skip
    assert not needs_page(src, full)
    rec = orjson.loads(raw_record(src, full))
    assert rec["title"] == "Ferry strike ends" and rec["source"] == "gz" and rec["authors"] == ["Ana Ruiz"]
    assert rec["body"].endswith("\n\nThe union said so.")
    teaser = Entry(key="g2", url="https://gazette.example/b", title="Teaser", summary="Read more.")
    assert needs_page(src, teaser)
    assert not needs_page(Source(id="x", url="https://x.example/", fetch_pages=False), teaser)
    page = orjson.loads(raw_record(src, teaser, page_html="<html>...</html>", feed_language="de"))
    assert page == {"html": "<html>...</html>", "title": "Teaser", "url": "https://gazette.example/b",
                    "language": "de", "source": "gz"}  # fmt: skip
    declared = Source(id="es", url="https://es.example/", language="es")
    assert orjson.loads(raw_record(declared, full))["language"] == "es"  # the source's declaration wins


def test_entry_identity_and_version() -> None:
    a = Source(id="a", url="https://a.example/")
    e = Entry(key="guid-1", url="https://a.example/1", title="T", summary="S")
    assert entry_key(a, e) == entry_key(a, Entry(key="guid-1", url="https://a.example/other"))
    assert entry_key(a, e) != entry_key(Source(id="b", url="https://a.example/"), e)
    assert entry_version(e) == entry_version(Entry(key="guid-1", url="https://a.example/1", title="T", summary="S"))
    assert entry_version(e) != entry_version(Entry(key="guid-1", url="https://a.example/1", title="T2", summary="S"))


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    html = "<div><h2>Title</h2><p>One <b>two</b>.</p><script>alert(1)</script><p>Three<br>four</p></div>"
    assert html_to_text(html) == "Title\n\nOne two.\n\nThree\nfour"
    assert html_to_text("plain words") == "plain words"


def test_backoff_grows_with_jitter_caps_and_honours_retry_after() -> None:
    lows = [backoff_s(n, base_s=10, cap_s=3600, rand=lambda: 0.0) for n in range(1, 12)]
    highs = [backoff_s(n, base_s=10, cap_s=3600, rand=lambda: 1.0) for n in range(1, 12)]
    assert lows[:3] == [5.0, 10.0, 20.0] and highs[:3] == [10.0, 20.0, 40.0]
    assert max(highs) == 3600 and all(lo < hi for lo, hi in zip(lows, highs, strict=True))
    assert backoff_s(0, base_s=10, cap_s=60) == 0.0
    assert backoff_s(1, base_s=10, cap_s=3600, retry_after=120, rand=lambda: 0.5) == 120
    assert backoff_s(1, base_s=10, cap_s=300, retry_after=10_000) == 300


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_s("120") == 120
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", datetime.fromtimestamp(1445412480 - 60, UTC)) == 60
    assert retry_after_s("soon") is None and retry_after_s(None) is None


def test_robots_rules_are_cached_per_host() -> None:
    now = [0.0]
    robots = Robots("newsflow-intake", ttl_s=60, clock=lambda: now[0])
    url = "https://r.example/news/1"
    assert not robots.known(url) and robots.allowed(url)
    robots.learn(url, 200, b"User-agent: *\nDisallow: /private\nCrawl-delay: 3\n")
    assert robots.known(url) and robots.allowed(url) and not robots.allowed("https://r.example/private/x")
    assert robots.crawl_delay(url) == 3
    robots.learn("https://down.example/", 503, b"")
    assert not robots.allowed("https://down.example/feed")  # unreachable robots.txt: wait, do not crawl
    robots.learn("https://none.example/", 404, b"")
    assert robots.allowed("https://none.example/feed")
    now[0] = 61
    assert not robots.known(url)
    assert host_of("HTTPS://R.example:8443/a?b") == "https://r.example:8443"


async def test_host_gate_spaces_request_starts_per_host() -> None:
    gate = HostGate(concurrency=2, min_interval_s=0.05)
    starts: dict[str, list[float]] = {"a": [], "b": []}
    loop = asyncio.get_running_loop()

    async def hit(host: str) -> None:
        async with gate.slot(f"https://{host}.example/x"):
            starts[host].append(loop.time())

    await asyncio.gather(*(hit("a") for _ in range(4)), hit("b"))
    gaps = [b - a for a, b in zip(starts["a"], starts["a"][1:], strict=False)]
    assert len(starts["a"]) == 4 and all(g >= 0.045 for g in gaps), gaps
    assert starts["b"][0] - min(starts["a"]) < 0.05  # another host is not held up
