"""Intake's reading of feeds and sitemaps (services/intake/feeds.py): every kind, hostile documents refused."""

from __future__ import annotations

import orjson
import pytest

from services.intake.feeds import FeedError, parse_feed

RSS20 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Harbour Gazette</title><link>https://gazette.example/</link><language>en-gb</language>
<item><title>Ferry strike ends</title><link>https://gazette.example/ferry?utm_source=rss</link>
<guid isPermaLink="false">gz-1001</guid><pubDate>Tue, 03 Nov 2026 08:15:00 +0100</pubDate>
<dc:creator>Ana Ruiz</dc:creator><description>Crews return on Monday.</description>
<content:encoded><![CDATA[<p>Crews of the island ferries return to work on Monday.</p>
<p>The union said so.</p>]]></content:encoded>
</item>
<item><title>Second item</title><link>https://gazette.example/second</link></item>
</channel></rss>"""

RSS10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://old.example/"><title>Old</title><link>https://old.example/</link><description>d</description></channel>
<item rdf:about="https://old.example/a"><title>RDF item</title><link>https://old.example/a</link>
<description>Short.</description></item></rdf:RDF>"""

RSS091 = b"""<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Vintage</title><link>https://v.example/</link><description>v</description>
<language>fr</language><item><title>Un article</title><link>https://v.example/1</link></item></channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de"><title>Atom Zeitung</title><id>urn:x</id>
<updated>2026-11-03T10:00:00Z</updated>
<entry><title>Hafen wieder offen</title><id>tag:zeitung.example,2026:42</id>
<link rel="alternate" href="https://zeitung.example/hafen"/><updated>2026-11-03T09:00:00Z</updated>
<published>2026-11-03T08:00:00Z</published><author><name>Jonas Berg</name></author>
<summary>Kurz.</summary></entry></feed>"""

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://s.example/old</loc><lastmod>2026-10-01</lastmod></url>
<url><loc>https://s.example/new</loc><lastmod>2026-11-02T10:00:00+00:00</lastmod></url></urlset>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://n.example/2026/quake</loc><news:news><news:publication><news:name>N</news:name>
<news:language>es</news:language></news:publication><news:publication_date>2026-11-03T07:00:00Z</news:publication_date>
<news:title>Terremoto en la costa</news:title></news:news></url></urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://s.example/news.xml</loc></sitemap><sitemap><loc>https://s.example/2026.xml</loc></sitemap>
</sitemapindex>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>x</title><link>https://b.example/</link></item></channel></rss>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title></channel></rss>"""


def test_rss2_entries_carry_guid_link_dates_author_content_and_language() -> None:
    feed = parse_feed(RSS20, url="https://gazette.example/rss")
    assert feed.kind == "rss20"
    assert feed.title == "Harbour Gazette"
    assert feed.language == "en"
    first, second = feed.entries
    assert first.key == "gz-1001"
    assert first.url == "https://gazette.example/ferry?utm_source=rss"
    assert first.published_at == "2026-11-03T07:15:00+00:00"
    assert first.authors == ("Ana Ruiz",)
    assert first.content is not None and "Crews of the island ferries" in first.content
    assert first.summary == "Crews return on Monday."
    assert second.key == "https://gazette.example/second"  # no guid: the link is its identity


def test_rss1_rss091_with_a_doctype_and_atom_are_read() -> None:
    assert [e.title for e in parse_feed(RSS10, url="https://old.example/").entries] == ["RDF item"]
    vintage = parse_feed(RSS091, url="https://v.example/")
    assert vintage.kind.startswith("rss09") and vintage.language == "fr"
    atom = parse_feed(ATOM, url="https://zeitung.example/atom")
    assert atom.kind == "atom10"
    (e,) = atom.entries
    assert (e.key, e.url, e.authors, e.language) == (
        "tag:zeitung.example,2026:42", "https://zeitung.example/hafen", ("Jonas Berg",), "de",
    )  # fmt: skip
    assert e.published_at == "2026-11-03T08:00:00+00:00" and e.updated_at == "2026-11-03T09:00:00+00:00"


def test_json_feed_11() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1", "title": "J", "language": "pt-BR",
        "items": [
            {"id": "1", "url": "https://j.example/1", "title": "Chuva forte", "content_html": "<p>Texto</p>",
             "date_published": "2026-11-03T06:00:00-03:00", "authors": [{"name": "Rita Lobo"}]},
            {"url": "https://j.example/no-id"},  # no id: not a valid item
        ],
    }  # fmt: skip
    feed = parse_feed(orjson.dumps(doc), url="https://j.example/feed.json", content_type="application/feed+json")
    (e,) = feed.entries
    assert feed.kind == "jsonfeed" and e.language == "pt"
    assert (e.key, e.content, e.authors, e.published_at) == (
        "1", "<p>Texto</p>", ("Rita Lobo",), "2026-11-03T09:00:00+00:00",
    )  # fmt: skip


def test_sitemaps_news_sitemaps_and_indexes() -> None:
    plain = parse_feed(SITEMAP, url="https://s.example/sitemap.xml")
    assert plain.kind == "sitemap"
    assert [e.url for e in plain.entries] == ["https://s.example/new", "https://s.example/old"]  # newest first
    news = parse_feed(NEWS_SITEMAP, url="https://n.example/news.xml")
    (e,) = news.entries
    assert news.kind == "news-sitemap"
    assert (e.title, e.language, e.published_at) == ("Terremoto en la costa", "es", "2026-11-03T07:00:00+00:00")
    index = parse_feed(INDEX, url="https://s.example/index.xml")
    assert index.kind == "sitemapindex" and index.sitemaps == [
        "https://s.example/news.xml",
        "https://s.example/2026.xml",
    ]


@pytest.mark.parametrize("doc", [BOMB, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_entity_declarations_are_refused_before_feedparser(doc: bytes) -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(doc, url="https://b.example/rss")
    assert err.value.code == "xml_forbidden"


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        (b"", "empty"),
        (b"<html><body><p>Not a feed at all</p></body></html>", "broken_feed"),
        (b'{"hello": "world"}', "not_a_feed"),
        (b"{not json", "broken_feed"),
    ],
)
def test_documents_that_are_not_feeds_say_why(doc: bytes, code: str) -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(doc, url="https://x.example/")
    assert err.value.code == code


def test_broken_xml_is_read_leniently_when_entries_survive() -> None:
    broken = RSS20.replace(b"</channel></rss>", b"<item><title>unclosed</item>")
    feed = parse_feed(broken, url="https://gazette.example/rss")
    assert "Ferry strike ends" in [e.title for e in feed.entries]


def test_non_utf8_feeds_are_decoded_by_their_declaration() -> None:
    latin = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>Caf\xe9</title>'
        "<item><title>Sa\xfade p\xfablica</title><link>https://l.example/1</link></item></channel></rss>"
    )
    feed = parse_feed(latin.encode("iso-8859-1"), url="https://l.example/rss")
    assert feed.entries[0].title == "Saúde pública"
