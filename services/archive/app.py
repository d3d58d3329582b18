"""The archive service: ``news.enriched`` -> PostgreSQL, its own consumer group (``<prefix>-archive``).

settings -> bootstrap (schema migrated first, then the store and handler) -> Faust app -> agent, plus
two timers: the archive's size in ``/metrics`` and, with ``NEWSFLOW_ARCHIVE_RETENTION_DAYS``, the
deletion of older articles.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime, timedelta

import faust

from shared.agent import add_batch_agent
from shared.archive.schema import SchemaTooNew
from shared.kafka import make_app, raw_topic, run_worker
from shared.metrics import ARCHIVE_BYTES, ARCHIVE_ROWS
from shared.settings import Settings, get_settings
from shared.web import add_health

from .bootstrap import LazyStore, build_handler, prepare_database

__all__ = ["build_app", "main"]

log = logging.getLogger(__name__)
STATS_EVERY_S = 30.0
RETENTION_EVERY_S = 3600.0


def build_app(settings: Settings) -> tuple[faust.App, LazyStore]:
    app = make_app("archive", settings)
    handler, store = build_handler(settings)
    add_batch_agent(
        app, "archive", raw_topic(app, settings.topics.enriched), handler.handle,
        batch_size=settings.batch_size, batch_wait_s=settings.batch_wait_s, settings=settings,
    )  # fmt: skip
    add_health(app, None, checks={"postgresql": store.ping})

    @app.timer(STATS_EVERY_S, on_leader=False)
    async def size() -> None:
        try:
            stats = await (await store.get()).stats()
        except Exception as exc:  # PostgreSQL down: the gauges keep their last values
            log.warning("archive: could not read the table size: %s", exc)
            return
        ARCHIVE_ROWS.set(stats.rows)
        ARCHIVE_BYTES.set(stats.bytes)

    if settings.archive_retention_days > 0:

        @app.timer(RETENTION_EVERY_S, on_leader=True)
        async def retention() -> None:
            cutoff = datetime.now(UTC) - timedelta(days=settings.archive_retention_days)
            try:
                n = await (await store.get()).delete_older_than(cutoff)
            except Exception as exc:
                log.warning("archive: retention failed (retried in %.0fs): %s", RETENTION_EVERY_S, exc)
                return
            log.info("archive: deleted %d article version(s) older than %s", n, cutoff.isoformat())

    return app, store


def main() -> None:
    settings = get_settings()
    try:
        ran = asyncio.run(prepare_database(settings))
    except SchemaTooNew as exc:
        log.error("archive: %s", exc)
        print(f"archive: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    log.info("archive: schema current (%d migration(s) run)", ran)
    app, _ = build_app(settings)
    run_worker(app, settings, settings.topics.all())
