"""The archive's PostgreSQL adapter: a psycopg 3 connection pool, batched upserts, search, size.

:meth:`ArchiveStore.write` takes a batch in one transaction: the rows are copied (``COPY``) into a
temporary table and upserted from it with one ``INSERT ... ON CONFLICT (id, version) DO UPDATE ...
WHERE`` the incoming enrichment is newer, so a redelivered, replayed or concurrently written batch never
makes a second row and never puts an older enrichment over a newer one; then ``latest`` is set on the
newest version of each article the batch touched. A PostgreSQL that is down raises
``psycopg.OperationalError`` (or the pool's ``PoolTimeout``, one of them): the batch loop retries with
back-off and the offsets stay uncommitted (:func:`shared.failures.classify`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from .query import Cursor, QueryError, SearchQuery, facets_sql, page_sql
from .rows import ArchiveRow
from .schema import migrate

__all__ = ["ArchiveStats", "ArchiveStore", "ensure_database", "open_store"]

log = logging.getLogger(__name__)
CONFIGS_MAX_AGE_S = 10.0  # a language first archived is searchable in its own stemming within this

_COPY_COLUMNS = (
    "id, version, enrichment_revision, enriched_at, at, title, body, source, url, language, ts_config, story_id, "
    "category, category_name, category_keys, countries, entities, entity_keys, doc"
)
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS archive_in (
    id text, version integer, enrichment_revision integer, enriched_at timestamptz, at timestamptz, title text,
    body text, source text, url text, language text, ts_config text, story_id text, category text,
    category_name text, category_keys text[], countries text[], entities text[], entity_keys text[], doc jsonb
) ON COMMIT DELETE ROWS
"""
_UPSERT = f"""
INSERT INTO articles ({_COPY_COLUMNS.replace("body, ", "")}, tsv, latest)
SELECT id, version, enrichment_revision, enriched_at, at, title, source, url, language, ts_config::regconfig,
       story_id, category, category_name, category_keys, countries, entities, entity_keys, doc,
       setweight(to_tsvector(ts_config::regconfig, title), 'A')
           || setweight(to_tsvector(ts_config::regconfig, body), 'B'),
       false
FROM archive_in
ON CONFLICT (id, version) DO UPDATE SET
    enrichment_revision = excluded.enrichment_revision, enriched_at = excluded.enriched_at, at = excluded.at,
    title = excluded.title, source = excluded.source, url = excluded.url, language = excluded.language,
    ts_config = excluded.ts_config, story_id = excluded.story_id, category = excluded.category,
    category_name = excluded.category_name, category_keys = excluded.category_keys,
    countries = excluded.countries, entities = excluded.entities, entity_keys = excluded.entity_keys,
    doc = excluded.doc, tsv = excluded.tsv, archived_at = now()
WHERE (excluded.enrichment_revision, excluded.enriched_at) > (articles.enrichment_revision, articles.enriched_at)
"""
# the newest version of each article of the batch is the one searched
_LATEST = """
UPDATE articles a SET latest = (a.version = m.top)
FROM (SELECT id, max(version) AS top FROM articles WHERE id = ANY(%(ids)s) GROUP BY id) m
WHERE a.id = m.id AND a.latest IS DISTINCT FROM (a.version = m.top)
"""


@dataclass(frozen=True)
class ArchiveStats:
    rows: int  # PostgreSQL's estimate (pg_class.reltuples; counted until the table was first analysed)
    bytes: int  # the table with its indexes and TOAST


async def ensure_database(url: str) -> bool:
    """Create the database ``url`` names when it does not exist (connecting to ``postgres`` on the same
    server); True when it was created."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = str(info.get("dbname") or "")
    if not name:
        return False
    try:
        conn = await AsyncConnection.connect(url, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if f'database "{name}" does not exist' not in str(exc):
            raise
    else:
        await conn.close()
        return False
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    async with await AsyncConnection.connect(admin, autocommit=True, connect_timeout=5) as conn:
        try:
            await conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False
    return True


class ArchiveStore:
    """One pool; every method borrows a connection for one transaction."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]], *, search_timeout_ms: int = 3000) -> None:
        self.pool = pool
        self.search_timeout_ms = search_timeout_ms
        self._configs: list[str] = []
        self._configs_read = 0.0

    async def close(self) -> None:
        await self.pool.close()

    async def ping(self) -> None:
        """One ``SELECT 1`` (readiness): raises when no connection answers within the pool's timeout."""
        async with self.pool.connection(timeout=2.0) as conn:
            await conn.execute("SELECT 1")

    async def migrate(self) -> int:
        async with self.pool.connection() as conn:
            return await migrate(conn)

    # -- writing -------------------------------------------------------------------------------------------

    async def write(self, rows: Sequence[ArchiveRow]) -> None:
        """Upsert ``rows`` (module doc); of two rows of one article version in the batch the newer wins."""
        newest: dict[tuple[str, int], ArchiveRow] = {}
        for r in rows:
            if r.key not in newest or r.enrichment_key > newest[r.key].enrichment_key:
                newest[r.key] = r
        if not newest:
            return
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(_STAGE)
            async with conn.cursor().copy(f"COPY archive_in ({_COPY_COLUMNS}) FROM STDIN") as copy:
                for r in newest.values():
                    await copy.write_row((
                        r.id, r.version, r.enrichment_revision, r.enriched_at, r.at, r.title, r.body, r.source,
                        r.url, r.language, r.ts_config, r.story_id, r.category, r.category_name, r.category_keys,
                        r.countries, r.entities, r.entity_keys, r.doc,
                    ))  # fmt: skip
            await conn.execute(_UPSERT)
            await conn.execute(_LATEST, {"ids": sorted({k[0] for k in newest})})
            configs = sorted({r.ts_config for r in newest.values()} - set(self._configs))
            if configs:
                await conn.execute(
                    "INSERT INTO archive_ts_configs SELECT unnest(%s::text[])::regconfig ON CONFLICT DO NOTHING",
                    (configs,),
                )
        self._configs = sorted({*self._configs, *(r.ts_config for r in newest.values())})

    async def write_plain(self, rows: Sequence[ArchiveRow]) -> None:
        """One ``INSERT`` per row, one transaction each: the baseline ``make bench-archive`` measures against."""
        for r in rows:
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO articles (id, version, enrichment_revision, enriched_at, at, title, source, url, "
                    "language, ts_config, story_id, category, category_name, category_keys, countries, entities, "
                    "entity_keys, doc, tsv) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::regconfig, %s, %s, %s, "
                    "%s, %s, %s, %s, %s, setweight(to_tsvector(%s::regconfig, %s), 'A') || "
                    "setweight(to_tsvector(%s::regconfig, %s), 'B')) ON CONFLICT (id, version) DO NOTHING",
                    (r.id, r.version, r.enrichment_revision, r.enriched_at, r.at, r.title, r.source, r.url,
                     r.language, r.ts_config, r.story_id, r.category, r.category_name, r.category_keys, r.countries,
                     r.entities, r.entity_keys, r.doc, r.ts_config, r.title, r.ts_config, r.body),
                )  # fmt: skip

    async def delete_older_than(self, cutoff: datetime, batch: int = 5000) -> int:
        """Delete the article versions older than ``cutoff`` (by the article's time), ``batch`` rows per
        transaction; returns how many went."""
        total = 0
        while True:
            async with self.pool.connection() as conn, conn.transaction():
                cur = await conn.execute(
                    "DELETE FROM articles WHERE ctid = ANY(ARRAY(SELECT ctid FROM articles WHERE at < %s LIMIT %s))",
                    (cutoff, batch),
                )
                total += cur.rowcount
            if cur.rowcount < batch:
                return total

    # -- reading -------------------------------------------------------------------------------------------

    async def configs(self, max_age_s: float = 0.0) -> list[str]:
        """The text-search configurations of the archived articles (what a text query is parsed in); read
        again when the last read is older than ``max_age_s``."""
        if self._configs_read and time.monotonic() - self._configs_read < max_age_s:
            return self._configs
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT ts_config::text FROM archive_ts_configs ORDER BY 1")
            self._configs = [str(r[0]) for r in await cur.fetchall()]
        self._configs_read = time.monotonic()
        return self._configs

    async def search(self, query: SearchQuery) -> dict[str, Any]:
        """The page of hits (``results``), ``next_cursor`` (None on the last page) and ``facets``.
        A query PostgreSQL cancels after ``search_timeout_ms`` is a :class:`QueryError`."""
        configs = await self.configs(max_age_s=CONFIGS_MAX_AGE_S) if query.has_text else []
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL statement_timeout = {int(self.search_timeout_ms)}")
            cur = conn.cursor(row_factory=dict_row)
            try:
                await cur.execute(*page_sql(query, configs))
                rows = await cur.fetchall()
                facets: dict[str, Any] | None = None
                if query.facets:
                    await cur.execute(*facets_sql(query, configs))
                    row = await cur.fetchone()
                    facets = next(iter(row.values())) if row else None
            except psycopg.errors.QueryCanceled:
                raise QueryError(
                    f"the search took over {self.search_timeout_ms} ms and was stopped: narrow it (a time range, "
                    "a filter, fewer common words)"
                ) from None
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            rank = float(last["rank"]) if query.sort == "relevance" else None
            next_cursor = query.encode_cursor(Cursor(at=last["at"], id=last["id"], rank=rank))
        return {"results": [_hit(r, query) for r in rows], "next_cursor": next_cursor, "facets": facets}

    async def story(self, story_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """A story's articles (the newest version of each), oldest first."""
        async with self.pool.connection() as conn:
            cur = await conn.cursor(row_factory=dict_row).execute(
                f"SELECT {_STORY_COLUMNS} FROM articles WHERE latest AND story_id = %s ORDER BY at, id LIMIT %s",
                (story_id, limit),
            )
            return [_hit(r, None) for r in await cur.fetchall()]

    async def stats(self) -> ArchiveStats:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT CASE WHEN reltuples < 0 THEN (SELECT count(*) FROM articles) ELSE reltuples::bigint END, "
                "pg_total_relation_size(oid) FROM pg_class WHERE oid = 'articles'::regclass"
            )
            row = await cur.fetchone()
        return ArchiveStats(rows=int(row[0]), bytes=int(row[1])) if row else ArchiveStats(0, 0)


_STORY_COLUMNS = (
    "id, version, enrichment_revision, title, source, url, at, language, story_id, category, category_name, "
    "countries, entities, doc->'enrichment'->'summary'->>'text' AS summary, NULL::real AS rank"
)


def _hit(r: dict[str, Any], query: SearchQuery | None) -> dict[str, Any]:
    return {
        "id": r["id"], "version": r["version"], "enrichment_revision": r["enrichment_revision"],
        "title": r["title"], "source": r["source"], "url": r["url"], "time": r["at"].isoformat(),
        "language": r["language"], "story_id": r["story_id"],
        "category": {"code": r["category"], "name": r["category_name"]} if r["category"] else None,
        "countries": r["countries"], "entities": r["entities"][:20], "summary": r["summary"],
        **({"rank": round(float(r["rank"]), 6)} if query is not None and query.sort == "relevance" else {}),
    }  # fmt: skip


async def open_store(url: str, *, min_size: int = 1, max_size: int = 4, search_timeout_ms: int = 3000,
                     timeout_s: float = 10.0) -> ArchiveStore:  # fmt: skip
    """A store on a pool that opens without waiting for PostgreSQL (connections are made on demand and
    checked before use, so a restarted server is reconnected to)."""
    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
        url, min_size=min_size, max_size=max_size, open=False, timeout=timeout_s,
        check=AsyncConnectionPool.check_connection, kwargs={"connect_timeout": 5},
    )  # fmt: skip
    await pool.open(wait=False)
    return ArchiveStore(pool, search_timeout_ms=search_timeout_ms)
