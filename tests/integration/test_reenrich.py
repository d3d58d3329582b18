"""Re-enrichment: an article enriched and archived, the enrich rules changed, ``reenrich`` run: the archive
holds the new enrichment (revision 1) of the same article version, in the same row; a second run of the
same command resumes nothing (finished) and ``--restart`` sends it again."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import orjson
import psycopg
import pytest

from services.reenrich import reenrich
from shared.models import Article, Origin
from shared.settings import Settings
from tests.conftest import Workers
from tests.kafkautil import produce

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BODY = (
    "The European Central Bank held interest rates steady on Thursday, President Christine Lagarde told "
    "reporters in Frankfurt, as inflation in the euro area slowed for a third month. Economists had expected "
    "the pause after ten consecutive increases. Bond markets rallied and the euro slipped against the dollar."
)


def archived(url: str) -> list[tuple[int, int, int]]:
    """(version, enrichment_revision, number of keywords) of each archived row."""
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            rows = conn.execute("SELECT version, enrichment_revision, doc FROM articles ORDER BY version").fetchall()
    except psycopg.Error:
        return []
    return [(v, r, len(doc["enrichment"]["keywords"]["value"])) for v, r, doc in rows]


async def wait_for(url: str, want: list[tuple[int, int, int]], workers: Workers, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if archived(url) == want:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"archive holds {archived(url)}, want {want}\n{workers.logs()}")


async def test_reenrich_with_a_changed_rule_replaces_the_enrichment_of_the_same_version(
    settings: Settings, workers: Workers, pg_url: str
) -> None:
    article = Article(
        id="nf_reenrich", content_hash="h", title="ECB holds rates as inflation slows", body=BODY,
        raw_format="fields", source="Example Wire", language="en", ingested_at=datetime.now(UTC),
        published_at=datetime.now(UTC) - timedelta(hours=1), origin=Origin(topic="raw", partition=0, offset=0),
    )  # fmt: skip
    workers.start("archive", NEWSFLOW_ARCHIVE_URL=pg_url)
    enrich = workers.start("enrich", NEWSFLOW_KEYWORDS_TOP_N="6")
    await produce(settings, [article.model_dump_json().encode()], settings.topics.ingested, keys=[b"nf_reenrich"])
    await wait_for(pg_url, [(1, 0, 6)], workers)

    enrich.terminate()  # the rule changes: three keywords per article from now on
    enrich.wait(30)
    workers.start("enrich", NEWSFLOW_KEYWORDS_TOP_N="3")
    s = settings.model_copy(update={"archive_url": pg_url})
    run = await reenrich(s, datetime.now(UTC) - timedelta(days=1), {"entity": ["christine lagarde"]})
    assert (run.total, run.sent, run.resumed) == (1, 1, False)
    await wait_for(pg_url, [(1, 1, 3)], workers)  # same row, same version, the newer enrichment

    again = await reenrich(s, datetime.now(UTC) - timedelta(days=1), {"entity": ["christine lagarde"]})
    assert again.sent == 1 and not again.resumed  # a finished run starts afresh: revision 2
    await wait_for(pg_url, [(1, 2, 3)], workers)
    with psycopg.connect(pg_url) as conn:
        doc = conn.execute("SELECT doc FROM articles").fetchone()
    assert doc is not None and orjson.loads(orjson.dumps(doc[0]))["enrichment_revision"] == 2
    none = await reenrich(s, datetime.now(UTC) - timedelta(days=1), {"country": ["NZ"]})
    assert (none.total, none.sent) == (0, 0)
