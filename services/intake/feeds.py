"""A fetched feed or sitemap -> its entries (pure: bytes in, entries out).

- RSS 0.9x / 1.0 / 2.0 and Atom 1.0: ``feedparser``, after the document has been through ``defusedxml``: a
  document that declares entities (the billion-laughs bomb), or reaches for an external one, is refused before
  feedparser sees it. A document that is not well-formed XML still goes to feedparser, whose lenient parser
  expands no entity at all.
- JSON Feed 1.0 / 1.1: ``json``, checked against the spec's required fields.
- Sitemaps (``urlset``), Google News sitemaps (``news:news``) and sitemap indexes (``sitemapindex``, whose
  child sitemaps the poller follows): ``defusedxml.ElementTree``.

Never a hand-written XML parser.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import feedparser  # type: ignore[import-untyped]  # feedparser ships no type information
from defusedxml import DefusedXmlException

__all__ = ["Entry", "Feed", "FeedError", "parse_feed"]

_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_MAX_ENTRIES = 5_000  # per document: a sitemap may list 50,000 URLs; newsflow takes the newest this many


class FeedError(ValueError):
    """A document that is not a feed or sitemap newsflow can read, with the reason (``code``: a short slug)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Entry:
    """One item of a feed or URL of a sitemap, as intake carries it to ``news.raw``."""

    key: str  # the entry's identity: its GUID / id, else its link
    url: str | None
    title: str | None = None
    summary: str | None = None  # HTML or text, as the feed gives it
    content: str | None = None  # the full content (HTML), when the feed carries it
    published_at: str | None = None  # ISO 8601, UTC
    updated_at: str | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True)
class Feed:
    """A parsed document: its kind, its entries (newest first when dated), and child sitemaps to follow."""

    kind: str  # rss20, rss10, rss09x, atom10, jsonfeed, sitemap, news-sitemap, sitemapindex, ...
    title: str | None = None
    language: str | None = None
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # a sitemap index's children


def _iso(value: Any) -> str | None:
    """feedparser's ``*_parsed`` struct_time (UTC) or an ISO string -> ISO 8601 UTC, or None."""
    if value is None:
        return None
    if isinstance(value, time.struct_time):
        try:
            return datetime(*value[:6], tzinfo=UTC).isoformat()
        except (ValueError, OverflowError):
            return None
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).isoformat()
    return None


def _language(value: Any) -> str | None:
    if not isinstance(value, str) or len(value.strip()) < 2:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if len(code) == 2 and code.isalpha() else None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _check_xml(body: bytes) -> Element | None:
    """The document's root through defusedxml; None when it is not well-formed (feedparser may still read it).
    Entities or external references refuse it."""
    try:
        root: Element = SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FeedError(
            "xml_forbidden", f"refused: the document declares entities or external references ({exc})"
        ) from None
    except (ParseError, ValueError):
        return None
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sitemap(root: Element) -> Feed:
    if _local(root.tag) == "sitemapindex":
        children = [loc.text.strip() for loc in root.iter(f"{{{_SITEMAP_NS}}}loc") if loc.text and loc.text.strip()]
        return Feed(kind="sitemapindex", sitemaps=children[:_MAX_ENTRIES])
    entries: list[Entry] = []
    news_kind = False
    for url in root.findall(f"{{{_SITEMAP_NS}}}url"):
        loc = _text(url.findtext(f"{{{_SITEMAP_NS}}}loc"))
        if not loc:
            continue
        lastmod = _iso(url.findtext(f"{{{_SITEMAP_NS}}}lastmod"))
        news = url.find(f"{{{_NEWS_NS}}}news")
        title = published = language = None
        if news is not None:
            news_kind = True
            title = _text(news.findtext(f"{{{_NEWS_NS}}}title"))
            published = _iso(news.findtext(f"{{{_NEWS_NS}}}publication_date"))
            language = _language(news.findtext(f"{{{_NEWS_NS}}}publication/{{{_NEWS_NS}}}language"))
        entries.append(
            Entry(key=loc, url=loc, title=title, published_at=published or lastmod, updated_at=lastmod,
                  language=language)
        )  # fmt: skip
    entries.sort(key=lambda e: e.published_at or "", reverse=True)
    return Feed(kind="news-sitemap" if news_kind else "sitemap", entries=entries[:_MAX_ENTRIES])


def _json_feed(body: bytes) -> Feed:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError("broken_feed", f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/1"):
        raise FeedError("not_a_feed", "a JSON document that is not a JSON Feed (no https://jsonfeed.org/version/1)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("broken_feed", "a JSON Feed without an 'items' list")
    language = _language(doc.get("language"))
    entries: list[Entry] = []
    for item in items[:_MAX_ENTRIES]:
        if not isinstance(item, dict) or item.get("id") is None:
            continue  # the spec requires an id
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        names = tuple(str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name"))
        url = _text(item.get("url")) or _text(item.get("external_url"))
        entries.append(
            Entry(
                key=str(item["id"]), url=url, title=_text(item.get("title")), summary=_text(item.get("summary")),
                content=_text(item.get("content_html")) or _text(item.get("content_text")),
                published_at=_iso(item.get("date_published")), updated_at=_iso(item.get("date_modified")),
                authors=names, language=_language(item.get("language")) or language,
            )
        )  # fmt: skip
    return Feed(kind="jsonfeed", title=_text(doc.get("title")), language=language, entries=entries)


def _feedparser(body: bytes, url: str, content_type: str | None) -> Feed:
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    d = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    if not d.entries and (d.get("bozo") or not d.get("version")):
        reason = d.get("bozo_exception") or "no feed elements"
        raise FeedError("broken_feed", f"not a readable RSS or Atom feed: {reason}")
    feed = d.get("feed", {})
    language = _language(feed.get("language"))
    entries: list[Entry] = []
    for e in d.entries[:_MAX_ENTRIES]:
        link = _text(e.get("link"))
        key = _text(e.get("id")) or link
        if not key:
            continue
        contents: list[str] = [str(c["value"]) for c in e.get("content", []) if isinstance(c, dict) and c.get("value")]
        authors = tuple(a["name"] for a in e.get("authors", []) if isinstance(a, dict) and a.get("name"))
        if not authors and _text(e.get("author")):
            authors = (e["author"].strip(),)
        entries.append(
            Entry(
                key=key, url=link, title=_text(e.get("title")), summary=_text(e.get("summary")),
                content=_text(max(contents, key=len)) if contents else None,
                published_at=_iso(dict.get(e, "published_parsed")) or _iso(dict.get(e, "updated_parsed")),
                updated_at=_iso(dict.get(e, "updated_parsed")), authors=authors,
                language=_language(e.get("language")) or language,
            )
        )  # fmt: skip
    return Feed(kind=d.get("version") or "feed", title=_text(feed.get("title")), language=language, entries=entries)


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> Feed:
    """Read a fetched document (see the module doc). Raises :class:`FeedError` with a reason."""
    head = body.lstrip()[:1]
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not head:
        raise FeedError("empty", "the response was empty")
    if head == b"{" or ctype in ("application/feed+json", "application/json"):
        return _json_feed(body)
    root = _check_xml(body)
    if root is not None and _local(root.tag) in ("urlset", "sitemapindex"):
        return _sitemap(root)
    return _feedparser(body, url, content_type)
