"""The archive against a real PostgreSQL: migrations, idempotent batched upserts, the newest enrichment
kept, versions, search (text in the article's language, phrases, exclusion, filters, facets, cursors)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from shared.archive.query import QueryError, parse_search
from shared.archive.rows import ArchiveRow, row_of
from shared.archive.schema import SCHEMA_VERSION, SchemaTooNew, migrate
from shared.archive.store import ArchiveStore, open_store
from shared.models import EnrichedArticle
from tests.unit.publish_articles import enriched

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[ArchiveStore]:
    s = await open_store(pg_url, max_size=2)
    await s.migrate()
    yield s
    await s.close()


def row(a: EnrichedArticle) -> ArchiveRow:
    return row_of(a, a.model_dump_json())


async def count(store: ArchiveStore, where: str = "true") -> int:
    async with store.pool.connection() as conn:
        cur = await conn.execute(f"SELECT count(*) FROM articles WHERE {where}")
        r = await cur.fetchone()
        assert r is not None
        return int(r[0])


def q(**params: str | list[str]) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in params.items()}


async def test_migrations_run_once_and_refuse_a_newer_schema(pg_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(pg_url) as conn:
        assert await migrate(conn) == SCHEMA_VERSION
        assert await migrate(conn) == 0  # a second start finds nothing to do
        await conn.execute("INSERT INTO archive_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
        await conn.commit()
        with pytest.raises(SchemaTooNew, match="newer than this newsflow"):
            await migrate(conn)


async def test_two_replicas_migrating_at_once_both_succeed(pg_url: str) -> None:
    async def one() -> int:
        async with await psycopg.AsyncConnection.connect(pg_url) as conn:
            return await migrate(conn)

    assert sorted(await asyncio.gather(one(), one())) == [0, SCHEMA_VERSION]


async def test_redelivery_and_a_second_replica_make_no_second_row(store: ArchiveStore) -> None:
    rows = [row(enriched(f"nf_{i}", story_id=f"st_{i % 3}")) for i in range(50)]
    await store.write(rows)
    await store.write(rows)  # redelivered
    await asyncio.gather(store.write(rows[:30]), store.write(rows[20:]))  # two replicas during a rebalance
    assert await count(store) == 50
    assert await count(store, "latest") == 50


async def test_the_newest_enrichment_is_kept_whatever_the_order(store: ArchiveStore) -> None:
    old = enriched("nf_a", title="Old title")
    new = old.model_copy(update={"enrichment_revision": 1, "title": "Re-enriched title"})
    await store.write([row(new)])
    await store.write([row(old)])  # the older enrichment arriving late changes nothing
    async with store.pool.connection() as conn:
        cur = await conn.execute("SELECT title, enrichment_revision FROM articles WHERE id = 'nf_a'")
        assert await cur.fetchall() == [("Re-enriched title", 1)]


async def test_corrections_keep_their_versions_and_search_finds_the_latest(store: ArchiveStore) -> None:
    await store.write([row(enriched("nf_c", version=2, title="Quake toll rises to 12"))])
    await store.write([row(enriched("nf_c", version=1, title="Quake toll rises to 9"))])
    assert await count(store, "id = 'nf_c'") == 2
    found = await store.search(parse_search(q(q="quake")))
    assert [(h["id"], h["version"]) for h in found["results"]] == [("nf_c", 2)]


async def test_text_search_stems_in_the_articles_language_with_phrases_and_exclusion(store: ArchiveStore) -> None:
    await store.write([
        row(enriched("en_1", title="Earthquakes shake northern Japan", body="Buildings swayed in Sendai.")),
        row(enriched("en_2", title="Earthquake drill in Tokyo", body="A planned drill, no damage.")),
        row(enriched("fr_1", language="fr", title="Les élections législatives en France",
                     body="Les électeurs votent dimanche.", countries=("FR",))),
    ])  # fmt: skip
    ids = lambda res: sorted(h["id"] for h in res["results"])  # noqa: E731
    assert ids(await store.search(parse_search(q(q="earthquake")))) == ["en_1", "en_2"]  # English stems
    assert ids(await store.search(parse_search(q(q="élection")))) == ["fr_1"]  # French stems
    assert ids(await store.search(parse_search(q(q='"shake northern"')))) == ["en_1"]
    assert ids(await store.search(parse_search(q(q="earthquake -drill")))) == ["en_1"]
    assert ids(await store.search(parse_search(q(q="earthquake", language="fr")))) == []


async def test_filters_facets_and_time_range(store: ArchiveStore) -> None:
    now = datetime.now(UTC)
    articles = [
        enriched("a1", countries=("JP",), organizations=("ECB",), source="Wire A"),
        enriched("a2", countries=("FR", "DE"), organizations=("ECB",), source="Wire B",
                 people=(("Christine Lagarde", ()),), title="ECB holds rates", body="Lagarde spoke."),
        enriched("a3", countries=("FR",), organizations=("UN",), source="Wire B", story_id="st_x"),
    ]  # fmt: skip
    articles[2] = articles[2].model_copy(update={"published_at": now - timedelta(days=10)})
    await store.write([row(a) for a in articles])
    ids = lambda res: sorted(h["id"] for h in res["results"])  # noqa: E731
    assert ids(await store.search(parse_search(q(entity="ecb")))) == ["a1", "a2"]
    assert ids(await store.search(parse_search(q(entity=["ECB", "christine lagarde"])))) == ["a2"]  # all of them
    assert ids(await store.search(parse_search(q(country=["fr", "jp"])))) == ["a1", "a2", "a3"]  # any of them
    assert ids(await store.search(parse_search(q(source="Wire B", story="st_x")))) == ["a3"]
    assert ids(await store.search(parse_search(q(category="medtop:03000000")))) == ["a1", "a2", "a3"]
    since = (now - timedelta(days=1)).isoformat()
    assert ids(await store.search(parse_search(q(**{"from": since})))) == ["a1", "a2"]
    res = await store.search(parse_search(q(country="FR")))
    facets = res["facets"]
    assert facets["hits"] == 2
    assert {"value": "Wire B", "count": 2} in facets["sources"]
    assert {"value": "FR", "count": 2} in facets["countries"]
    assert {"value": "ECB", "count": 1} in facets["entities"]


async def test_cursor_pages_through_every_hit_once_in_both_orders(store: ArchiveStore) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    arts = [enriched(f"p{i:02d}", title=f"Flood warning number {i}", body="flood " * (1 + i % 4))
            .model_copy(update={"published_at": base + timedelta(minutes=i // 2)}) for i in range(25)]  # fmt: skip
    await store.write([row(a) for a in arts])
    for sort in ("time", "relevance"):
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = q(q="flood", sort=sort, limit="7", **({"cursor": cursor} if cursor else {}))
            res = await store.search(parse_search(params))
            seen += [h["id"] for h in res["results"]]
            cursor = res["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(a.id for a in arts), sort
        assert len(seen) == len(set(seen))
    first = await store.search(parse_search(q(q="flood", limit="5")))
    with pytest.raises(QueryError, match="another query"):
        parse_search(q(q="drought", limit="5", cursor=first["next_cursor"]))


async def test_story_timeline_oldest_first(store: ArchiveStore) -> None:
    base = datetime(2026, 3, 1, tzinfo=UTC)
    arts = [enriched(f"s{i}", story_id="st_t").model_copy(update={"published_at": base + timedelta(hours=-i)})
            for i in range(3)]  # fmt: skip
    await store.write([row(a) for a in arts])
    assert [h["id"] for h in await store.story("st_t")] == ["s2", "s1", "s0"]


async def test_retention_deletes_older_articles_and_stats_report_the_size(store: ArchiveStore) -> None:
    old = enriched("old").model_copy(update={"published_at": datetime.now(UTC) - timedelta(days=40)})
    await store.write([row(old), row(enriched("new"))])
    assert await store.delete_older_than(datetime.now(UTC) - timedelta(days=30)) == 1
    assert await count(store) == 1
    async with store.pool.connection() as conn:
        await conn.execute("ANALYZE articles")
    stats = await store.stats()
    assert stats.rows == 1 and stats.bytes > 0


async def test_text_with_nul_characters_is_archived(store: ArchiveStore) -> None:
    a = enriched("nul", title="Bad\x00 title", body="body with \x00 inside")
    await store.write([row(a)])
    assert (await store.search(parse_search(q(q="inside"))))["results"][0]["title"] == "Bad title"
