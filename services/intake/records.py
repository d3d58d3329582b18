"""A feed entry -> the raw record intake sends to ``news.raw``, and what it remembers of it (pure).

- An entry that carries its full content is sent as ``{"title", "body": <the content's text, a paragraph per
  block>, "url", "published_at", "authors", "language", "source"}``.
- An entry with only a summary, from a source with ``fetch_pages``, gets its page fetched and is sent as
  ``{"html": <the page>, "url", ...}`` with the feed's title, date, authors and language: ingest's extractor
  does the rest.
- Otherwise the summary is the body (``{"title", "body", ...}``); ingest dead-letters it as ``too_short`` when
  it is a teaser, with the reason.

:func:`entry_key` names an entry across polls (its GUID, else its canonical link) and
:func:`entry_version` changes when the entry does (title, summary, content, dates): a known key with a new
version is sent again, so a correction reaches ingest, which makes it a new version of the same article.
"""

from __future__ import annotations

import hashlib
from typing import Any

import lxml.html
import orjson
from lxml.etree import ParserError

from shared.sources import Source

from .feeds import Entry

__all__ = ["MIN_CONTENT_CHARS", "entry_key", "entry_version", "html_to_text", "needs_page", "raw_record"]

#: content shorter than this (characters of HTML) is a teaser, not the article
MIN_CONTENT_CHARS = 400


_BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "section", "article"}


def html_to_text(html: str) -> str:
    """A feed's HTML (content or summary) as text: a paragraph per block element, scripts and styles dropped."""
    if "<" not in html:
        return html.strip()
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ParserError, ValueError):
        return html.strip()
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for el in root.iter(*_BLOCKS):
        el.tail = "\n\n" + (el.tail or "")
    text = root.text_content()
    paragraphs = [
        "\n".join(" ".join(line.split()) for line in p.split("\n") if line.strip()) for p in text.split("\n\n")
    ]
    return "\n\n".join(p for p in paragraphs if p)


def _digest(*parts: str | None) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update((part or "").encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def entry_key(source: Source, entry: Entry) -> str:
    """An entry's identity within its source (GUID or link), hashed to a fixed size."""
    return _digest(source.id, entry.key)


def entry_version(entry: Entry) -> str:
    """Changes when the entry's visible content does."""
    return _digest(entry.title, entry.summary, entry.content, entry.updated_at, entry.url)


def needs_page(source: Source, entry: Entry) -> bool:
    """Whether the entry's page must be fetched to get the article text."""
    return source.fetch_pages and bool(entry.url) and len(entry.content or "") < MIN_CONTENT_CHARS


def raw_record(
    source: Source, entry: Entry, *, page_html: str | None = None, feed_language: str | None = None
) -> bytes:
    """The ``news.raw`` value for an entry (see the module doc)."""
    meta: dict[str, Any] = {
        "title": entry.title,
        "url": entry.url,
        "published_at": entry.published_at,
        "authors": list(entry.authors) or None,
        "language": source.language or entry.language or feed_language,
        "source": source.id,
    }
    meta = {k: v for k, v in meta.items() if v}
    if page_html is not None:
        return orjson.dumps({"html": page_html, **meta})
    return orjson.dumps({"body": html_to_text(entry.content or entry.summary or ""), **meta})
