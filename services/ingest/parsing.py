"""Raw bytes from ``news.raw`` -> :class:`ParsedArticle`, or :class:`RejectedInput` with a reason.

Pure: no broker, no Redis, no clock. Steps of :func:`parse_raw`:

1. ``None`` / no bytes -> ``empty``; more than ``max_bytes`` -> ``too_large``;
   a UTF-8 BOM is dropped; invalid UTF-8 -> ``invalid_utf8``; only
   whitespace -> ``empty``.
2. The text is parsed as JSON. Text that is not JSON is an article's raw text
   (``raw_format="plain"``), except text that starts with ``{`` (or with
   ``[`` followed by a JSON value) and fails to parse: ``invalid_json``. A
   JSON value that is not an object -> ``not_an_object``.
3. A JSON object's shape is chosen by its keys, first match wins:

   ===============================  ==========  ==============================
   key present                      shape       model
   ===============================  ==========  ==============================
   ``body``                         ``fields``  :class:`~shared.models.RawFields`
   ``body_text`` or ``body_html``   ``ninjs``   :class:`~shared.models.RawNinjs`
   ``text``                         ``text``    :class:`~shared.models.RawText`
   ``html``                         ``html``    :class:`~shared.models.RawHtml`
   ===============================  ==========  ==============================

   None of them -> ``unknown_shape``. A field of the wrong type (per the
   model, plus ``published_at`` that is not a date-time) -> ``invalid_field``
   naming the field. Numbers (epoch seconds or milliseconds) are accepted for
   date-times and a single string for ``authors``.
4. Title and body are normalised (:mod:`services.ingest.text`,
   :mod:`services.ingest.boilerplate`, :mod:`services.ingest.wirestory`): Unicode
   NFC, control characters, whitespace, paragraphs, site chrome ("Short
   link:", "Share this article", ...) and photo captions. A dateline line or
   a dateline that starts the body is parsed and stripped, for every shape.
   An empty body -> ``no_text`` (``html_no_text`` for HTML).
   HTML whose extracted text is only navigation or boilerplate (the words are
   not in the page once its ``nav``, ``header``, ``footer``, ``aside``,
   ``form``, menus, cookie banners... are removed) -> ``html_no_text``.
   Headline and body with fewer than ``min_words`` words (:func:`count_words`;
   ``NEWSFLOW_MIN_ARTICLE_WORDS``) -> ``too_short``.
5. ``source`` is the sender's, else (HTML) the site name, else the dateline
   agency, else the URL's host. ``published_at`` is UTC (a value without a
   zone is taken as UTC). The dateline's date does not set ``published_at``.

A plain-text value (or ``{"text": ...}``) that is HTML (it opens with
``<!doctype html>``, ``<html>`` or another HTML element and closes one) is not
read as text with markup in it: a document is the HTML shape; a fragment is
turned into paragraphs (:func:`html_fragment_to_text`, page chrome dropped) and
read as a wire story, ``html_no_text`` when nothing is left.

Only the HTML shape uses trafilatura (imported on first use); ninjs
``body_html`` is a body fragment with no page chrome, turned into paragraphs
with lxml (:func:`html_fragment_to_text`). Other shapes parse no HTML.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, NoReturn, TypeVar
from urllib.parse import urlsplit

import orjson
import regex
from dateutil import parser as _dateparser
from pydantic import BaseModel, ValidationError

from shared.models import Dateline, RawFields, RawHtml, RawNinjs, RawText
from shared.textfold import fold_for_comparison

from . import errors
from .datelines import parse_byline
from .errors import RejectedInput
from .text import clean_text, normalize_title
from .urls import canonicalize_url
from .wirestory import split_wire_story

__all__ = [
    "ACCEPTED_SHAPES",
    "ParsedArticle",
    "RawFormat",
    "count_words",
    "html_fragment_to_text",
    "parse_raw",
]

RawFormat = Literal["text", "fields", "html", "ninjs", "plain"]

ACCEPTED_SHAPES = (
    '{"text": "<whole article>"}; '
    '{"title", "body", "url", "source", "published_at", "language", "authors"}; '
    '{"html": "<html>...", "url": "..."}; '
    'IPTC ninjs {"uri", "headline", "body_text" or "body_html", "versioncreated", "language", "byline"}; '
    "or plain UTF-8 text (not JSON)"
)
"""The accepted raw shapes, as quoted in ``unknown_shape`` messages."""

_BOM = b"\xef\xbb\xbf"
_JSON_TYPES = {list: "array", dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}
_JSON_ARRAY_START_RE = re.compile(r"\[\s*(?:[\[{\"\]\-\d]|true\b|false\b|null\b)")
_YEAR_RE = re.compile(r"\d{4}")
_HTML_LANG_RE = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)", re.IGNORECASE)
_DATE_FIELDS = ("published_at", "versioncreated", "firstcreated")
_MAX_EPOCH_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
_LEAP_SECOND_RE = re.compile(r"(\d\d:\d\d):60(?![0-9])")

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ParsedArticle:
    """An article parsed from one raw record, before deduplication and ids.

    ``title`` may be ``""`` (a plain text with no headline line); ``body`` is
    never empty (paragraphs separated by one blank line). ``canonical_url``
    is :func:`services.ingest.urls.canonicalize_url` of ``url`` (``None``
    when ``url`` is missing or not an ``http(s)`` URL). ``published_at`` is
    timezone-aware UTC. ``uri`` is a ninjs item's ``uri`` when it is not a
    web URL (a URN such as ``urn:newsml:afp.com:20240414:TX-PAR-ABC12``): the
    item's identity across its versions, which the article id is built from.
    """

    title: str
    body: str
    dateline: Dateline | None
    url: str | None
    canonical_url: str | None
    source: str | None
    published_at: datetime | None
    language: str | None
    authors: tuple[str, ...]
    raw_format: RawFormat
    uri: str | None = None


def parse_raw(value: bytes | None, *, max_bytes: int, min_words: int = 0) -> ParsedArticle:
    """Parse one ``news.raw`` record value (see the module docstring for the rules).

    ``min_words``: fewer words in headline + body -> ``too_short`` (0: no minimum; the ingest service passes
    ``NEWSFLOW_MIN_ARTICLE_WORDS``, default 8: a headline and one sentence pass, a one-paragraph brief has
    20-60 words; "Page not found", "Subscribe to read the full article" or "Please enable JavaScript to view
    this page" do not).

    Raises :class:`~services.ingest.errors.RejectedInput` with one of the codes
    in :data:`services.ingest.errors.REJECT_CODES`.
    """
    article = _parse_shape(_decode(value, max_bytes))
    words = count_words(article.title, min_words) if min_words else 0
    if words < min_words:
        words += count_words(article.body, min_words - words)
    if words < min_words:
        preview = " / ".join(part for part in (article.title, article.body) if part)
        raise RejectedInput(
            errors.TOO_SHORT,
            f"the article text is {words} word{'s' if words != 1 else ''} (headline and body: "
            f"{_preview(preview)}), under the minimum of {min_words}; send the whole article, or lower "
            f"NEWSFLOW_MIN_ARTICLE_WORDS if items this short are news for you",
        )
    return article


def _parse_shape(text: str) -> ParsedArticle:
    parsed = _load_json(text)
    if parsed is _NOT_JSON:
        if _looks_like_html(text):
            return _from_html({"html": text}) if _is_html_document(text) else _from_html_fragment(text, None, {})
        return _from_wire_text(text, None, {}, raw_format="plain")
    if not isinstance(parsed, dict):
        kind = "null" if parsed is None else _JSON_TYPES.get(type(parsed), type(parsed).__name__)
        raise RejectedInput(
            errors.NOT_AN_OBJECT,
            f"value is a JSON {kind}, not a JSON object; send one article per record as a JSON object "
            f'(for example {{"text": "..."}}) or as plain UTF-8 text',
        )
    obj = _coerce_friendly(parsed)
    if "body" in obj:
        return _from_fields(obj)
    if "body_text" in obj or "body_html" in obj:
        return _from_ninjs(obj)
    if "text" in obj:
        raw = _validate(RawText, obj)
        if _looks_like_html(raw.text):
            if _is_html_document(raw.text):
                return _from_html({**{k: v for k, v in obj.items() if k != "text"}, "html": raw.text})
            return _from_html_fragment(raw.text, raw, obj)
        return _from_wire_text(raw.text, raw, obj, raw_format="text")
    if "html" in obj:
        return _from_html(obj)
    keys = ", ".join(sorted(obj)[:10]) or "none"
    raise RejectedInput(
        errors.UNKNOWN_SHAPE,
        f"JSON object has none of the fields that carry article text (body, body_text, body_html, text, html; "
        f"it has: {keys}); accepted shapes: {ACCEPTED_SHAPES}",
    )


# ---------------------------------------------------------------------------
# bytes -> text -> JSON
# ---------------------------------------------------------------------------


def _decode(value: bytes | None, max_bytes: int) -> str:
    if value is None:
        raise RejectedInput(errors.EMPTY, "value is null (a tombstone); send the article as JSON or UTF-8 text")
    if not value:
        raise RejectedInput(errors.EMPTY, "value is empty (0 bytes); send the article as JSON or UTF-8 text")
    if len(value) > max_bytes:
        raise RejectedInput(
            errors.TOO_LARGE,
            f"value is {len(value):,} bytes, over the {max_bytes:,}-byte limit; send a smaller article "
            f"(for example without embedded images) or raise NEWSFLOW_MAX_ARTICLE_BYTES",
        )
    offset = 0
    if value.startswith(_BOM):
        value, offset = value[len(_BOM) :], len(_BOM)
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = value[exc.start]
        raise RejectedInput(
            errors.INVALID_UTF8,
            f"value is not valid UTF-8 (byte 0x{bad:02x} at position {exc.start + offset}); send UTF-8 text or JSON",
        ) from None
    if not text.strip():
        raise RejectedInput(
            errors.EMPTY, f"value is only whitespace ({len(value):,} bytes); send the article as JSON or UTF-8 text"
        )
    return text


_NOT_JSON = object()


def _load_json(text: str) -> Any:
    """The parsed JSON value, or ``_NOT_JSON`` for text that is not (and does not look like) JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        stripped = text.strip()
        # "{..." is always meant as JSON; "[" only when JSON follows it ("[UPDATE] Headline" is text)
        looks_like_json = stripped.startswith("{") or _JSON_ARRAY_START_RE.match(stripped) is not None
        if looks_like_json:
            raise RejectedInput(
                errors.INVALID_JSON,
                f"value starts like JSON but is not valid JSON ({exc}); fix the JSON, or send plain text "
                f"that does not start with '{{'",
            ) from None
        return _NOT_JSON


def _coerce_friendly(obj: dict[str, Any]) -> dict[str, Any]:
    """Accept epoch numbers for date-times and one string for ``authors`` (a shallow copy when changed)."""
    changes: dict[str, Any] = {}
    for name in _DATE_FIELDS:
        stamp = obj.get(name)
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            # seconds whenever the number can be seconds (up to 9999-12-31); milliseconds only past that
            seconds = stamp / 1000 if abs(stamp) > _MAX_EPOCH_SECONDS else stamp
            try:
                changes[name] = datetime.fromtimestamp(seconds, UTC).isoformat()
            except (OverflowError, OSError, ValueError):
                _invalid(name, f"field '{name}' is a number out of range ({stamp}); send ISO 8601 or epoch seconds")
    if isinstance(obj.get("authors"), str):
        changes["authors"] = [obj["authors"]]
    return {**obj, **changes} if changes else obj


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _invalid(name: str, message: str) -> NoReturn:
    raise RejectedInput(errors.INVALID_FIELD, message, field=name)


def _validate(model: type[M], obj: dict[str, Any]) -> M:
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first.get("loc", ())
        name = ".".join(str(part) for part in loc) or "?"
        top = str(loc[0]) if loc else "?"
        got = _json_kind(first.get("input")) if first.get("type") != "missing" else "nothing"
        raise RejectedInput(
            errors.INVALID_FIELD,
            f"field '{name}' is invalid: {first.get('msg', 'wrong type')} (got {got}); fix the field or leave it out",
            field=top,
        ) from None


# ---------------------------------------------------------------------------
# field helpers
# ---------------------------------------------------------------------------


def _parse_datetime(value: str | None, name: str) -> datetime | None:
    """ISO 8601, RFC 2822 (RSS) or another unambiguous date-time with a year -> aware UTC datetime."""
    if value is None or not value.strip():
        return None
    text = _LEAP_SECOND_RE.sub(r"\1:59", value.strip()[:200])  # a leap second (23:59:60) is read as :59
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            if _YEAR_RE.search(text):
                try:
                    parsed = _dateparser.parse(text)
                except (ValueError, OverflowError):
                    parsed = None
    if parsed is None:
        _invalid(
            name,
            f"field '{name}' is not a date-time ({text[:60]!r}); send ISO 8601 such as 2024-04-14T10:00:00Z",
        )
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        _invalid(name, f"field '{name}' is out of range in UTC ({text[:60]!r}); send a date between years 1 and 9999")


def _opt_str(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = " ".join(clean_text(value).split())
    return cleaned or None


def _authors(value: Any) -> tuple[str, ...]:
    names: list[str] = []
    for item in value or ():
        name = _opt_str(item)
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _explicit_authors(obj: dict[str, Any]) -> tuple[str, ...]:
    value = obj.get("authors")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _invalid("authors", f"field 'authors' must be a list of strings (got {_json_kind(value)})")
    return _authors(value)


def _reference(published_at: datetime | None) -> date | None:
    return published_at.date() if published_at else None


def _split_body(cleaned: str, title: str, reference: date | None) -> tuple[Dateline | None, str]:
    """Dateline and normalised body of a body (already :func:`clean_text` output) that comes with a separate title.

    A first body line repeating the title (as HTML extraction often gives) is dropped.
    """
    if title:
        first, sep, rest = cleaned.partition("\n")
        if sep and fold_for_comparison(first) == fold_for_comparison(title):
            cleaned = clean_text(rest)
    story = split_wire_story(cleaned, reference=reference, has_headline=False, precleaned=True)
    return story.dateline, story.body


def _finish(
    *,
    title: str,
    body: str,
    dateline: Dateline | None,
    url: str | None,
    source: str | None,
    published_at: datetime | None,
    language: str | None,
    authors: tuple[str, ...],
    raw_format: RawFormat,
    uri: str | None = None,
) -> ParsedArticle:
    if not body:
        if raw_format == "html":
            raise RejectedInput(
                errors.HTML_NO_TEXT,
                "no article text could be extracted from the HTML (only navigation, scripts, captions or "
                'boilerplate); send the full page HTML, or the text as {"title", "body"}',
            )
        raise RejectedInput(
            errors.NO_TEXT,
            f"the {raw_format} article has no body text after normalisation (it is empty, or only a headline, "
            f"dateline, boilerplate or photo captions); send the article text",
        )
    url = _opt_str(url)
    canonical = canonicalize_url(url)
    if not source and dateline is not None:
        source = dateline.agency
    if not source and canonical:
        source = urlsplit(canonical).hostname
    if dateline is not None and not authors and dateline.raw[:3].lower() == "by ":
        authors = parse_byline(dateline.raw.split("\n", 1)[0])[0]
    return ParsedArticle(
        title=title,
        body=body,
        dateline=dateline,
        url=url,
        canonical_url=canonical,
        source=_opt_str(source),
        published_at=published_at,
        language=_opt_str(language),
        authors=authors,
        raw_format=raw_format,
        uri=uri,
    )


# ---------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------


def _from_wire_text(
    text: str, meta: RawText | None, obj: dict[str, Any], *, raw_format: Literal["text", "plain"]
) -> ParsedArticle:
    """``{"text": ...}`` (``meta`` its validated model) or plain text: headline line, dateline, body."""
    published_at = _parse_datetime(meta.published_at, "published_at") if meta else None
    reference = _reference(published_at)
    explicit_title = normalize_title(obj["title"]) if isinstance(obj.get("title"), str) else ""
    cleaned = clean_text(text)
    title, dateline, body = split_wire_story(cleaned, reference=reference, precleaned=True)
    if explicit_title and fold_for_comparison(explicit_title) != fold_for_comparison(title):
        # the sender named the title: the text's first line is not a headline unless it repeats it
        title = explicit_title
        dateline, body = _split_body(cleaned, explicit_title, reference)
    return _finish(
        title=title,
        body=body,
        dateline=dateline,
        url=meta.url if meta else None,
        source=meta.source if meta else None,
        published_at=published_at,
        language=meta.language if meta else None,
        authors=_explicit_authors(obj),
        raw_format=raw_format,
    )


def _from_html_fragment(html: str, meta: RawText | None, obj: dict[str, Any]) -> ParsedArticle:
    """Plain text or ``{"text"}`` that is an HTML fragment (no ``<html>``): its text, read as a wire story."""
    text = html_fragment_to_text(html, drop_chrome=True)
    if not clean_text(text):
        raise RejectedInput(
            errors.HTML_NO_TEXT,
            f"the HTML fragment ({len(html):,} characters) has no article text, only navigation, scripts or "
            f'boilerplate, if anything; send the article\'s HTML or its text, e.g. as {{"title", "body"}}',
        )
    return _from_wire_text(text, meta, obj, raw_format="text" if meta else "plain")


def _from_fields(obj: dict[str, Any]) -> ParsedArticle:
    raw = _validate(RawFields, obj)
    published_at = _parse_datetime(raw.published_at, "published_at")
    title = normalize_title(raw.title or "")
    dateline, body = _split_body(clean_text(raw.body), title, _reference(published_at))
    return _finish(
        title=title,
        body=body,
        dateline=dateline,
        url=raw.url,
        source=raw.source,
        published_at=published_at,
        language=raw.language,
        authors=_authors(raw.authors),
        raw_format="fields",
    )


def _ninjs_authors(raw: RawNinjs, obj: dict[str, Any]) -> tuple[str, ...]:
    names: list[str] = []
    if raw.byline:
        names.extend(parse_byline(raw.byline)[0])
    bylines = obj.get("bylines")
    if isinstance(bylines, list):  # ninjs 2.x: [{"byline": "...", "name": "..."}]
        for entry in bylines:
            if isinstance(entry, dict):
                text = entry.get("name") or entry.get("byline")
                if isinstance(text, str):
                    names.extend(parse_byline(text)[0])
    return _authors(names)


def _from_ninjs(obj: dict[str, Any]) -> ParsedArticle:
    raw = _validate(RawNinjs, obj)
    stamp = raw.versioncreated or (obj["firstcreated"] if isinstance(obj.get("firstcreated"), str) else None)
    published_at = _parse_datetime(stamp, "versioncreated" if raw.versioncreated else "firstcreated")
    title = normalize_title(raw.headline or "")
    from_html = not (raw.body_text and raw.body_text.strip())
    text = html_fragment_to_text(raw.body_html or "") if from_html else raw.body_text or ""
    dateline, body = _split_body(clean_text(text), title, _reference(published_at))
    if not body and from_html and (raw.body_html or "").strip():
        raise RejectedInput(
            errors.HTML_NO_TEXT,
            "the ninjs body_html has no article text (only navigation, scripts, captions or boilerplate); "
            "send the story's body in body_html or body_text",
        )
    web_uri = bool(raw.uri and canonicalize_url(raw.uri))
    url = raw.uri if web_uri else _opt_str(obj.get("url"))
    source = _opt_str(obj.get("source")) or _opt_str(obj.get("copyrightholder"))
    return _finish(
        title=title,
        body=body,
        dateline=dateline,
        url=url,
        source=source,
        published_at=published_at,
        language=raw.language,
        authors=_explicit_authors(obj) or _ninjs_authors(raw, obj),
        raw_format="ninjs",
        uri=None if web_uri else _opt_str(raw.uri),
    )


def _from_html(obj: dict[str, Any]) -> ParsedArticle:
    raw = _validate(RawHtml, obj)
    for name in ("title", "published_at", "language"):
        if obj.get(name) is not None and not isinstance(obj[name], str):
            _invalid(name, f"field '{name}' must be a string (got {_json_kind(obj[name])})")
    published_at = _parse_datetime(obj.get("published_at"), "published_at")
    extracted = _extract_html(raw.html, raw.url)
    if extracted is None:
        raise RejectedInput(
            errors.HTML_NO_TEXT,
            f"no article text could be extracted from the HTML ({len(raw.html):,} characters): no main text, "
            f"only navigation, scripts or boilerplate, if anything; send the article page's full HTML, or the "
            f'text as {{"title", "body"}}',
        )
    if published_at is None and extracted.get("date"):
        try:
            published_at = _parse_datetime(extracted["date"], "published_at")
        except RejectedInput:
            published_at = None
    title = normalize_title(obj.get("title") or extracted.get("title") or "")
    # trafilatura writes one paragraph per line
    text = (extracted.get("text") or "").replace("\n", "\n\n")
    if _only_boilerplate(text, raw.html):
        raise RejectedInput(
            errors.HTML_NO_TEXT,
            f"the page's only text is navigation or boilerplate ({_preview(text)}), not an article; "
            f'send the article page\'s full HTML, or the text as {{"title", "body"}}',
        )
    dateline, body = _split_body(clean_text(text), title, _reference(published_at))
    authors = _explicit_authors(obj) or (parse_byline(extracted["author"])[0] if extracted.get("author") else ())
    language = obj.get("language")
    if not language and (match := _HTML_LANG_RE.search(raw.html[:4096])):
        language = match[1]
    return _finish(
        title=title,
        body=body,
        dateline=dateline,
        url=raw.url or extracted.get("url"),
        source=raw.source or extracted.get("sitename"),
        published_at=published_at,
        language=language,
        authors=_authors(authors),
        raw_format="html",
    )


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

_HTML_DATE_PARAMS = {"original_date": True, "extensive_search": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


def _extract_html(html: str, url: str | None) -> dict[str, Any] | None:
    """Main text and metadata of a web page with trafilatura, favouring precision, without comments."""
    if not html.strip():
        return None
    import trafilatura  # imported here: only the HTML shape pays for it

    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_images=False,
            include_links=False,
            favor_precision=True,
            date_extraction_params=dict(_HTML_DATE_PARAMS),  # trafilatura mutates it
        )
    except (ValueError, TypeError):
        return None
    if document is None:
        return None
    data = document if isinstance(document, dict) else document.as_dict()
    return data if (data.get("text") or "").strip() else None


_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "aside", "main", "blockquote", "pre", "ul", "ol",
        "li", "dl", "dt", "dd", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address", "figure",
    }
)  # fmt: skip
_DROP_TAGS = (
    "script", "style", "noscript", "iframe", "object", "embed", "template", "svg", "figcaption", "button", "nav",
    "menu",
)  # fmt: skip
_HTML_WS_RE = re.compile(r"\s+")
# Page chrome: never an article's text (what is left of a page without it is where its article can be).
_CHROME_TAGS = ("header", "footer", "aside", "form", "dialog", "select")
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "menu", "menubar", "search", "dialog", "alert"})
_CHROME_CLASS_RE = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|breadcrumbs?|cookies?|consent|gdpr|footer|masthead|sidebar|"
    r"skip|share|sharing|social|subscribe|newsletter|paywall|promo|related)(?:$|[\s_-])",
    re.IGNORECASE,
)
_HTML_START_RE = re.compile(
    r"\s*<(?:!doctype\s+html|!--|(?:html|head|body|nav|header|footer|main|article|section|div|p|span|a|ul|ol|"
    r"table|h[1-6]|aside|form|meta|title|link|script|style)(?=[\s>/]))",
    re.IGNORECASE,
)
_HTML_DOCUMENT_RE = re.compile(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)(?=[\s>/])", re.I | re.S)
_HTML_CLOSE_RE = re.compile(r"</[A-Za-z][A-Za-z0-9]*\s*>|/>")
_WORD_RE = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}'’\-]*")
_UNSPACED_RE = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
# Characters XML (and so lxml) refuses: C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF; raw or as
# numeric character references (``&#0;``, ``&#xD800;``, ``&#1;``), which lxml would decode into the text.
_XML_BAD_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHAR_REF_RE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")


def _xml_compatible(html: str) -> str:
    """``html`` with every XML-incompatible character, raw or referenced, replaced by U+FFFD."""

    def ref(match: re.Match[str]) -> str:
        digits = (match[1] or match[2]).lstrip("0") or "0"
        code = (int(digits, 16) if match[1] else int(digits)) if len(digits) <= 8 else 0  # 0: refused
        code = 0 if code > 0x10FFFF else code
        ok = (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10_FFFF
        )
        return match[0] if ok else "\ufffd"

    return _XML_BAD_CHARS_RE.sub("\ufffd", _CHAR_REF_RE.sub(ref, html))


def count_words(text: str, stop: int | None = None) -> int:
    """Words with a letter in ``text`` (numbers alone are not words); in scripts written without spaces
    (Chinese, Japanese, Thai...) two characters count as one word. Stops counting at ``stop`` if given."""
    count = 0
    for match in _WORD_RE.finditer(text):
        token = match[0]
        if token.isascii():
            count += not token.isdigit() and any(c.isalpha() for c in token)
        elif unspaced := len(_UNSPACED_RE.findall(token)):
            count += max(1, unspaced // 2) + (len(token) > unspaced)
        else:
            count += any(c.isalpha() for c in token)
        if stop is not None and count >= stop:
            break
    return count


def _preview(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")


def _looks_like_html(text: str) -> bool:
    """True for an HTML document or fragment: it opens with a doctype, a comment or an HTML element and
    closes an element somewhere."""
    return _HTML_START_RE.match(text) is not None and _HTML_CLOSE_RE.search(text, 0, 100_000) is not None


def _is_html_document(text: str) -> bool:
    return _HTML_DOCUMENT_RE.match(text) is not None


def _drop_chrome(root: Any) -> None:
    """Remove headers, footers, sidebars, forms and what an ARIA role or a class / id names as navigation,
    menus, cookie, sharing or subscription banners."""
    from lxml import etree

    etree.strip_elements(root, *_CHROME_TAGS, with_tail=False)
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:
            continue
        role = (element.get("role") or "").strip().lower()
        names = f"{element.get('class') or ''} {element.get('id') or ''}"
        if role in _CHROME_ROLES or _CHROME_CLASS_RE.search(names):
            element.drop_tree()


def _only_boilerplate(text: str, html: str) -> bool:
    """True when most words of the extracted ``text`` are not in the page once its chrome is removed: the
    extractor fell back on navigation or boilerplate (a page whose only text is "Home")."""
    words = [w.casefold() for w in _WORD_RE.findall(text)]
    if not words:
        return False
    kept = {w.casefold() for w in _WORD_RE.findall(html_fragment_to_text(html, drop_chrome=True))}
    return sum(w in kept for w in words) < 0.5 * len(words)


def html_fragment_to_text(html: str, *, drop_chrome: bool = False) -> str:
    """Text of an HTML body fragment (ninjs ``body_html``), one paragraph per block element.

    Scripts, styles, figure captions, embeds, ``nav`` and ``menu`` are dropped;
    whitespace inside a block collapses to one space; ``<br>`` is a line break.
    ``drop_chrome`` also drops page chrome (:func:`_drop_chrome`). Returns
    ``""`` for markup with no text.
    """
    if not html.strip():
        return ""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.document_fromstring(_xml_compatible(html))
    except (etree.ParserError, ValueError):
        return ""
    etree.strip_elements(root, *_DROP_TAGS, with_tail=False)
    if drop_chrome:
        _drop_chrome(root)
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments, processing instructions
            continue
        tag = element.tag.lower()
        if tag != "pre":
            if element.text:
                element.text = _HTML_WS_RE.sub(" ", element.text)
            if element.tail:
                element.tail = _HTML_WS_RE.sub(" ", element.tail)
        if tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif tag in _BLOCK_TAGS:
            element.text = "\n\n" + (element.text or "")
            element.tail = "\n\n" + (element.tail or "")
    body = root.find("body")
    text: str = (body if body is not None else root).text_content()
    return text
