"""``GET /v1/search``: its parameters checked into a :class:`SearchQuery`, and the SQL that answers it (pure).

Every limit is checked before any SQL runs, so a hostile request (a 100 kB ``q``, thousands of filters,
a cursor of another query, an unknown parameter) is a :class:`QueryError` (HTTP 400) with a message, never
a database error. Values reach PostgreSQL only as bound parameters; the text-search configuration names
spliced into the SQL come from :data:`shared.archive.rows.TS_CONFIGS` only.

``q``: words (all must match, stemmed in each article's language), ``"quoted phrases"`` and
``-excluded`` words or ``-"phrases"``. Filters: ``entity`` (every one given must be in the article),
``country``, ``category``, ``language``, ``source``, ``story`` (any of the values given), ``from`` /
``to`` (the article's time: published, else ingested; ``to`` excluded). Sort ``relevance`` (default
with ``q``) or ``time`` (newest first). ``cursor``: the ``next_cursor`` of the previous page of the same
query. ``relevance`` ranks the newest :data:`RANK_WINDOW` matches and facets count the newest
:data:`FACET_SAMPLE`, so a broad query never reads the whole archive.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import orjson

from .rows import TS_CONFIGS

__all__ = [
    "FACET_SAMPLE",
    "FILTERS",
    "Cursor",
    "QueryError",
    "SearchQuery",
    "count_sql",
    "facets_sql",
    "page_sql",
    "parse_q",
    "parse_search",
    "scan_sql",
]

MAX_Q_CHARS: Final = 500
MAX_TERMS: Final = 16
MAX_VALUES: Final = 20  # per filter
MAX_FILTER_VALUES: Final = 50  # all filters together
MAX_VALUE_CHARS: Final = 200
MAX_LIMIT: Final = 100
FACET_SAMPLE: Final = 1000
FACET_TOP: Final = 10
FILTERS: Final = ("entity", "country", "category", "language", "source", "story")
_PARAMS: Final = {*FILTERS, "q", "from", "to", "sort", "limit", "cursor", "facets"}
_CONFIG_NAME = re.compile(r"^[a-z_]+$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')


class QueryError(ValueError):
    """A request the search refuses (HTTP 400); the message says what to change."""


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last hit's sort key."""

    at: datetime
    id: str
    rank: float | None = None


@dataclass(frozen=True)
class SearchQuery:
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None
    sort: Literal["relevance", "time"] = "time"
    limit: int = 20
    cursor: Cursor | None = None
    facets: bool = True

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)

    def fingerprint(self) -> str:
        """Names the query a cursor belongs to: everything but the cursor, the page size and facets."""
        spec = [self.words, self.phrases, self.excluded, sorted(self.filters.items()), self.since, self.until,
                self.sort]  # fmt: skip
        return hashlib.sha256(orjson.dumps(spec, default=str)).hexdigest()[:16]

    def encode_cursor(self, last: Cursor) -> str:
        body = {"q": self.fingerprint(), "at": last.at.isoformat(), "id": last.id, "r": last.rank}
        return base64.urlsafe_b64encode(orjson.dumps(body)).decode().rstrip("=")


def parse_q(q: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """``q`` -> (words, phrases, excluded): ``-word`` and ``-"a phrase"`` exclude, ``"a phrase"`` is a phrase."""
    if len(q) > MAX_Q_CHARS:
        raise QueryError(f"q is {len(q):,} characters; at most {MAX_Q_CHARS} are searched")
    if "\x00" in q:
        raise QueryError("q holds a NUL character")
    words: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    for m in _TERM.finditer(q):
        if m.group(2) is not None:  # a quoted phrase, maybe excluded
            text = " ".join(m.group(2).split())
            if text:
                (excluded if m.group(1) else phrases).append(text)
        else:
            token = m.group(3)
            if token.startswith("-") and len(token) > 1:
                excluded.append(token[1:])
            elif token.strip("-"):
                words.append(token)
    if len(words) + len(phrases) + len(excluded) > MAX_TERMS:
        raise QueryError(f"q has {len(words) + len(phrases) + len(excluded)} terms; at most {MAX_TERMS}")
    if excluded and not (words or phrases):
        raise QueryError("q excludes words but searches for none: add a word or a quoted phrase")
    return tuple(words), tuple(phrases), tuple(excluded)


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise QueryError(f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


def _time(name: str, text: str | None) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"{name}={text[:40]!r} is not a date or time (ISO 8601, e.g. 2026-12-01 or "
                         "2026-12-01T08:00:00Z)") from None  # fmt: skip
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _filter_values(name: str, values: Sequence[str]) -> tuple[str, ...]:
    if len(values) > MAX_VALUES:
        raise QueryError(f"{name} is given {len(values)} times; at most {MAX_VALUES}")
    out: list[str] = []
    for v in values:
        v = " ".join(v.split())
        if not v:
            continue
        if len(v) > MAX_VALUE_CHARS or "\x00" in v:
            raise QueryError(f"a {name} value is over {MAX_VALUE_CHARS} characters or holds a NUL")
        if name == "country":
            if not _COUNTRY.match(v):
                raise QueryError(f"country={v[:40]!r} is not an ISO 3166-1 alpha-2 code (e.g. JP)")
            v = v.upper()
        elif name == "language":
            if not _LANGUAGE.match(v.lower()):
                raise QueryError(f"language={v[:40]!r} is not an ISO 639-1 code (e.g. en)")
            v = v.lower()
        elif name in ("entity", "category"):
            v = v.casefold()
        out.append(v)
    return tuple(dict.fromkeys(out))


def _cursor(text: str, query: SearchQuery) -> Cursor:
    try:
        body = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(body, dict):
            raise ValueError("not an object")
        at = datetime.fromisoformat(str(body["at"]))
        rank = body.get("r")
        cursor = Cursor(at=at, id=str(body["id"]), rank=float(rank) if rank is not None else None)
        fingerprint = body["q"]
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise QueryError("cursor is not one this search gave") from None
    if fingerprint != query.fingerprint():
        raise QueryError("cursor belongs to another query: repeat the query it came from, or drop it")
    if (query.sort == "relevance") != (cursor.rank is not None):
        raise QueryError("cursor belongs to another sort order")
    return cursor


def parse_search(params: Mapping[str, Sequence[str]]) -> SearchQuery:
    """The checked query of ``/v1/search``'s parameters (each name -> its values, in order)."""
    unknown = sorted(set(params) - _PARAMS)
    if unknown:
        shown = ", ".join(repr(u[:40]) for u in unknown[:5])
        raise QueryError(f"unknown parameter(s) {shown}; known: {', '.join(sorted(_PARAMS))}")
    words, phrases, excluded = parse_q(_one(params, "q") or "")
    filters: dict[str, tuple[str, ...]] = {}
    for name in FILTERS:
        values = _filter_values(name, params.get(name) or [])
        if values:
            filters[name] = values
    total = sum(len(v) for v in filters.values())
    if total > MAX_FILTER_VALUES:
        raise QueryError(f"{total} filter values; at most {MAX_FILTER_VALUES} in all")
    since, until = _time("from", _one(params, "from")), _time("to", _one(params, "to"))
    if since and until and since >= until:
        raise QueryError("from must be before to")
    sort = _one(params, "sort") or ("relevance" if words or phrases else "time")
    if sort not in ("relevance", "time"):
        raise QueryError(f"sort={sort[:40]!r}: relevance or time")
    if sort == "relevance" and not (words or phrases):
        raise QueryError("sort=relevance needs q")
    limit_text = _one(params, "limit") or "20"
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise QueryError(f"limit is a number from 1 to {MAX_LIMIT}")
    facets = (_one(params, "facets") or "true").lower()
    if facets not in ("true", "false", "1", "0"):
        raise QueryError("facets is true or false")
    query = SearchQuery(
        words=words, phrases=phrases, excluded=excluded, filters=filters, since=since, until=until,
        sort="relevance" if sort == "relevance" else "time", limit=int(limit_text), facets=facets in ("true", "1"),
    )  # fmt: skip
    for name in ("from", "to", "sort", "limit", "facets", "cursor"):
        if "\x00" in (_one(params, name) or ""):
            raise QueryError(f"{name} holds a NUL character")
    cursor_text = _one(params, "cursor")
    if cursor_text:
        if len(cursor_text) > 1000:
            raise QueryError("cursor is not one this search gave")
        query = SearchQuery(**{**query.__dict__, "cursor": _cursor(cursor_text, query)})
    return query


# -- SQL -------------------------------------------------------------------------------------------------


def _tsquery(config: str, query: SearchQuery) -> str:
    """The tsquery of ``query``'s text in one configuration (a SQL expression over the bound parameters)."""
    if not _CONFIG_NAME.match(config):
        raise ValueError(f"not a text-search configuration name: {config!r}")
    c = f"'{config}'::regconfig"
    parts = []
    if query.words:
        parts.append(f"plainto_tsquery({c}, %(words)s)")
    parts += [f"phraseto_tsquery({c}, %(p{i})s)" for i in range(len(query.phrases))]
    parts += [f"!! phraseto_tsquery({c}, %(x{i})s)" for i in range(len(query.excluded))]
    return "(" + " && ".join(parts) + ")"


def _where(query: SearchQuery, configs: Sequence[str], params: dict[str, Any]) -> tuple[list[str], str | None]:
    """The conditions (without the cursor) and the rank expression (None without text)."""
    conds = ["latest"]
    rank: str | None = None
    if query.has_text:
        params["words"] = " ".join(query.words)
        params.update({f"p{i}": p for i, p in enumerate(query.phrases)})
        params.update({f"x{i}": x for i, x in enumerate(query.excluded)})
        wanted = [c for c in dict.fromkeys([*configs, "simple"]) if c in _KNOWN_CONFIGS]
        if "language" in query.filters:  # only the configurations of the languages asked for
            asked = {TS_CONFIGS.get(lang, "simple") for lang in query.filters["language"]}
            wanted = [c for c in wanted if c in asked]
        branches = [f"(ts_config = '{c}'::regconfig AND tsv @@ {_tsquery(c, query)})" for c in wanted]
        conds.append("(" + (" OR ".join(branches) or "false") + ")")
        whens = " ".join(f"WHEN '{c}'::regconfig THEN {_tsquery(c, query)}" for c in wanted)
        rank = f"ts_rank(tsv, CASE ts_config {whens} END)" if wanted else "0"
    f = query.filters
    if "entity" in f:
        params["entity"] = list(f["entity"])
        conds.append("entity_keys @> %(entity)s::text[]")
    if "country" in f:
        params["country"] = list(f["country"])
        conds.append("countries && %(country)s::text[]")
    if "category" in f:
        params["category"] = list(f["category"])
        conds.append("category_keys && %(category)s::text[]")
    for name, column in (("language", "language"), ("source", "source"), ("story", "story_id")):
        if name in f:
            params[name] = list(f[name])
            conds.append(f"{column} = ANY(%({name})s::text[])")
    if query.since:
        params["since"] = query.since
        conds.append("at >= %(since)s")
    if query.until:
        params["until"] = query.until
        conds.append("at < %(until)s")
    return conds, rank


_KNOWN_CONFIGS: Final = {*TS_CONFIGS.values(), "simple"}
RANK_WINDOW: Final = 2000  # sort=relevance ranks the newest this many matches
_COLUMNS: Final = (
    "id, version, enrichment_revision, title, source, url, at, language, story_id, category, category_name, "
    "countries, entities, doc->'enrichment'->'summary'->>'text' AS summary"
)
_COLUMNS_OUT: Final = (
    "id, version, enrichment_revision, title, source, url, at, language, story_id, category, category_name, "
    "countries, entities, summary"
)


def page_sql(query: SearchQuery, configs: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """One page of hits (one more than ``limit``, to know whether there is a next page)."""
    params: dict[str, Any] = {"limit": query.limit + 1}
    conds, rank = _where(query, configs, params)
    if query.sort == "relevance" and rank is not None:
        # ranked among the newest RANK_WINDOW matches: ts_rank reads each candidate's tsvector, so a common
        # word over the whole archive would cost a read of every match
        params["window"] = RANK_WINDOW
        window = (f"SELECT *, {rank}::real AS rank FROM (SELECT {_COLUMNS}, tsv, ts_config FROM articles WHERE "
                  f"{' AND '.join(conds)} ORDER BY at DESC, id DESC LIMIT %(window)s) newest")  # fmt: skip
        inner = f"SELECT {_COLUMNS_OUT}, rank FROM ({window}) ranked"
        outer = ""
        if query.cursor is not None:
            params.update(c_rank=query.cursor.rank, c_at=query.cursor.at, c_id=query.cursor.id)
            outer = "WHERE (rank, at, id) < (%(c_rank)s::real, %(c_at)s, %(c_id)s)"
        return (f"SELECT * FROM ({inner}) hits {outer} ORDER BY rank DESC, at DESC, id DESC LIMIT %(limit)s",
                params)  # fmt: skip
    if query.cursor is not None:
        params.update(c_at=query.cursor.at, c_id=query.cursor.id)
        conds.append("(at, id) < (%(c_at)s, %(c_id)s)")
    score = f"{rank}::real" if rank else "NULL::real"
    return (f"SELECT {_COLUMNS}, {score} AS rank FROM articles WHERE {' AND '.join(conds)} "
            "ORDER BY at DESC, id DESC LIMIT %(limit)s", params)  # fmt: skip


def facets_sql(query: SearchQuery, configs: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The facet counts of the newest :data:`FACET_SAMPLE` hits, and how many hits there are up to that
    many: one row, a JSON object."""
    params: dict[str, Any] = {"sample": FACET_SAMPLE, "top": FACET_TOP}
    conds, _ = _where(query, configs, params)
    hits = (f"SELECT entities, countries, category_name, source FROM articles WHERE {' AND '.join(conds)} "
            "ORDER BY at DESC, id DESC LIMIT %(sample)s")  # fmt: skip

    def top(expr: str, source: str) -> str:
        return (f"(SELECT coalesce(json_agg(json_build_object('value', v, 'count', n)), '[]') FROM "
                f"(SELECT {expr} AS v, count(*) AS n FROM {source} WHERE {expr} IS NOT NULL GROUP BY 1 "
                "ORDER BY 2 DESC, 1 LIMIT %(top)s) t)")  # fmt: skip

    return (
        f"WITH hits AS MATERIALIZED ({hits}) SELECT json_build_object("
        "'hits', (SELECT count(*) FROM hits), "
        f"'entities', {top('e', 'hits, unnest(hits.entities) e')}, "
        f"'countries', {top('c', 'hits, unnest(hits.countries) c')}, "
        f"'categories', {top('category_name', 'hits')}, "
        f"'sources', {top('source', 'hits')})",
        params,
    )


def scan_sql(query: SearchQuery, configs: Sequence[str], after: tuple[datetime, str] | None,
             batch: int) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """The next ``batch`` matches (newest version of each article) oldest first, after ``after``
    (time, id): what ``newsflow reenrich`` walks through, resumably."""
    params: dict[str, Any] = {"batch": batch}
    conds, _ = _where(query, configs, params)
    if after is not None:
        params.update(a_at=after[0], a_id=after[1])
        conds.append("(at, id) > (%(a_at)s, %(a_id)s)")
    return (f"SELECT id, version, enrichment_revision, at, doc FROM articles WHERE {' AND '.join(conds)} "
            "ORDER BY at, id LIMIT %(batch)s", params)  # fmt: skip


def count_sql(query: SearchQuery, configs: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """How many articles (newest versions) match ``query``."""
    params: dict[str, Any] = {}
    conds, _ = _where(query, configs, params)
    return f"SELECT count(*) FROM articles WHERE {' AND '.join(conds)}", params
