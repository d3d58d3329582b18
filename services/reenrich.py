"""``newsflow reenrich``: archived articles sent back through enrich, so a new model or rule set reaches
history.

Each match (the newest version of each archived article, oldest first) goes to ``news.ingested`` as the
article it was, with ``enrichment_revision`` one higher than the archived one. Enrich gives it a new
enrichment and an event id with that revision (``<id>:v<version>r<revision>:enriched``); the archive
keeps the newer enrichment of the same article version (no new row, no new article version); publish
sends it to the routed Kafka topics again under a new delivery id, while the live stream, the recent
stories and webhooks, which already announced that article version, are not sent it again.

Resumable: a run is a row of ``reenrich_runs`` (its filters, how many were sent, the last one sent);
each chunk is acknowledged by the broker before the run's position is saved, so a run stopped (Ctrl-C,
a crash) and started again with the same ``--since`` and ``--where`` continues where it stopped; at
worst a chunk is sent twice, which the archive and publish take as a repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from psycopg.rows import dict_row

from shared.archive.query import count_sql, parse_search, scan_sql
from shared.archive.store import open_store
from shared.events import cloudevent_headers
from shared.kafka import make_producer
from shared.models import Article
from shared.settings import Settings

__all__ = ["ReenrichRun", "parse_where", "reenrich"]

CHUNK = 500


@dataclass
class ReenrichRun:
    id: str
    total: int
    sent: int
    resumed: bool


def parse_where(where: list[str]) -> dict[str, list[str]]:
    """``["country=JP", "entity=ECB", "q=rates"]`` -> the search's parameters (checked by the search)."""
    params: dict[str, list[str]] = {}
    for item in where:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--where {item!r}: write it name=value (country=JP, entity=ECB, q=...)")
        params.setdefault(name.strip(), []).append(value)
    return params


def _run_id(since: datetime, params: dict[str, list[str]]) -> str:
    spec = orjson.dumps([since.isoformat(), sorted(params.items())])
    return hashlib.sha256(spec).hexdigest()[:16]


def _article(doc: Any, revision: int) -> Article:
    data = dict(doc if isinstance(doc, dict) else orjson.loads(doc))
    data.pop("enrichment", None)
    data.pop("story_id", None)
    data["enrichment_revision"] = revision
    return Article.model_validate(data)


async def reenrich(
    settings: Settings,
    since: datetime,
    where: dict[str, list[str]],
    *,
    restart: bool = False,
    progress: Callable[[ReenrichRun], object] | None = None,
) -> ReenrichRun:
    """Send the matches to ``news.ingested`` (module doc); returns the run. ``restart`` starts a run with
    the same filters over from the beginning instead of continuing it."""
    params = {**where, "from": [since.isoformat()]}
    query = parse_search(params)  # a QueryError (ValueError) says what is wrong with a filter
    run_id = _run_id(since, where)
    store = await open_store(settings.archive_conninfo(), max_size=1)
    producer = make_producer(settings)
    await producer.start()
    try:
        configs = await store.configs()
        async with store.pool.connection() as conn:
            cur = await conn.cursor(row_factory=dict_row).execute(
                "SELECT sent, total, after_at, after_id, finished_at FROM reenrich_runs WHERE id = %s", (run_id,)
            )
            saved = await cur.fetchone()
            resumed = saved is not None and saved["finished_at"] is None and not restart
            if not resumed:
                total_cur = await conn.execute(*count_sql(query, configs))
                counted = await total_cur.fetchone()
                total = int(counted[0]) if counted else 0
                await conn.execute(
                    "INSERT INTO reenrich_runs (id, filters, total) VALUES (%s, %s, %s) ON CONFLICT (id) DO UPDATE "
                    "SET total = excluded.total, sent = 0, after_at = NULL, after_id = NULL, started_at = now(), "
                    "finished_at = NULL",
                    (run_id, orjson.dumps(params).decode(), total),
                )
                await conn.commit()
                run = ReenrichRun(run_id, total, 0, resumed=False)
                after: tuple[datetime, str] | None = None
            else:
                assert saved is not None
                run = ReenrichRun(run_id, int(saved["total"]), int(saved["sent"]), resumed=True)
                after = (saved["after_at"], saved["after_id"]) if saved["after_id"] else None
        while True:
            async with store.pool.connection() as conn:
                cur = await conn.cursor(row_factory=dict_row).execute(*scan_sql(query, configs, after, CHUNK))
                rows = await cur.fetchall()
            if not rows:
                break
            futures = []
            for r in rows:
                article = _article(r["doc"], int(r["enrichment_revision"]) + 1)
                headers = cloudevent_headers(
                    event_type="article.reenrich", source=f"{settings.source_name}/reenrich", subject=article.id,
                    event_id=f"{article.id}:{article.revision_tag}",
                )  # fmt: skip
                value = article.model_dump_json().encode()
                futures.append(await producer.send(settings.topics.ingested, value, key=article.id.encode(),
                                                   headers=list(headers.items())))  # fmt: skip
            for f in futures:
                await f
            after = (rows[-1]["at"], rows[-1]["id"])
            run.sent += len(rows)
            async with store.pool.connection() as conn:
                await conn.execute(
                    "UPDATE reenrich_runs SET sent = %s, after_at = %s, after_id = %s WHERE id = %s",
                    (run.sent, after[0], after[1], run_id),
                )
            if progress:
                progress(run)
        async with store.pool.connection() as conn:
            await conn.execute("UPDATE reenrich_runs SET finished_at = now() WHERE id = %s", (run_id,))
        return run
    finally:
        await producer.stop()
        await store.close()
