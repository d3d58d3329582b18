"""The archive's schema and its migrations, run on start-up (by every archive replica, safely at once).

``MIGRATIONS[n - 1]`` takes the schema from version ``n - 1`` to ``n``; the version reached is kept in
``archive_schema``. :func:`migrate` applies the missing ones in one transaction under an advisory lock
(two replicas starting together: one migrates, the other then finds nothing to do) and refuses, with
:class:`SchemaTooNew`, a database a newer newsflow already migrated: an older binary must not write into
a schema it does not know.

Index plan (``docs/archive.md`` shows the EXPLAIN of each search shape): every search filters on
``latest`` (the newest version of each article), so the text, entity, country and category indexes are
partial on it; time order and the range filters use ``articles_at``; a story's timeline ``articles_story``.
"""

from __future__ import annotations

from typing import Any, Final

from psycopg import AsyncConnection

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SchemaTooNew", "current_version", "migrate"]

_LOCK_ID: Final = 0x6E657773  # pg_advisory_xact_lock key of the migrations ("news")

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: articles, the configurations present, re-enrichment runs
    """
    CREATE TABLE articles (
        id text NOT NULL,
        version integer NOT NULL,
        enrichment_revision integer NOT NULL,
        enriched_at timestamptz NOT NULL,
        latest boolean NOT NULL DEFAULT true,
        at timestamptz NOT NULL,
        archived_at timestamptz NOT NULL DEFAULT now(),
        title text NOT NULL,
        source text,
        url text,
        language text,
        ts_config regconfig NOT NULL,
        story_id text,
        category text,
        category_name text,
        category_keys text[] NOT NULL DEFAULT '{}',
        countries text[] NOT NULL DEFAULT '{}',
        entities text[] NOT NULL DEFAULT '{}',
        entity_keys text[] NOT NULL DEFAULT '{}',
        tsv tsvector NOT NULL,
        doc jsonb NOT NULL,
        PRIMARY KEY (id, version)
    );
    CREATE INDEX articles_at ON articles (at DESC, id DESC);
    CREATE INDEX articles_tsv ON articles USING gin (tsv) WHERE latest;
    CREATE INDEX articles_entities ON articles USING gin (entity_keys) WHERE latest;
    CREATE INDEX articles_countries ON articles USING gin (countries) WHERE latest;
    CREATE INDEX articles_categories ON articles USING gin (category_keys) WHERE latest;
    CREATE INDEX articles_story ON articles (story_id, at) WHERE latest;
    CREATE INDEX articles_source ON articles (source, at DESC) WHERE latest;
    CREATE INDEX articles_language ON articles (language, at DESC) WHERE latest;
    CREATE TABLE archive_ts_configs (ts_config regconfig PRIMARY KEY);
    CREATE TABLE reenrich_runs (
        id text PRIMARY KEY,
        filters jsonb NOT NULL,
        total bigint NOT NULL,
        sent bigint NOT NULL DEFAULT 0,
        after_at timestamptz,
        after_id text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
    );
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer newsflow than this one."""


async def current_version(conn: AsyncConnection[Any]) -> int:
    """The schema version of the connected database (0: never migrated)."""
    cur = await conn.execute("SELECT to_regclass('archive_schema') IS NOT NULL")
    row = await cur.fetchone()
    if row is None or not row[0]:
        return 0
    cur = await conn.execute("SELECT coalesce(max(version), 0) FROM archive_schema")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: AsyncConnection[Any], migrations: tuple[str, ...] = MIGRATIONS) -> int:
    """Bring the schema to ``len(migrations)``; returns how many migrations ran. Raises
    :class:`SchemaTooNew` when the database is at a higher version than this code knows."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS archive_schema (version integer PRIMARY KEY, applied_at timestamptz "
            "NOT NULL DEFAULT now())"
        )
        have = await current_version(conn)
        if have > len(migrations):
            raise SchemaTooNew(
                f"the archive database is at schema version {have}, newer than this newsflow's "
                f"{len(migrations)}: run a newsflow at least as new as the one that migrated it "
                "(or point NEWSFLOW_ARCHIVE_URL at another database)"
            )
        for version in range(have + 1, len(migrations) + 1):
            await conn.execute(migrations[version - 1])  # several statements, no parameters: one simple query
            await conn.execute("INSERT INTO archive_schema (version) VALUES (%s)", (version,))
        return len(migrations) - have
