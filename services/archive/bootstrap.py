"""The archive's composition root: the PostgreSQL store (opened in the worker's event loop on first
use, its schema migrated before the worker starts) and the handler around it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from shared.archive.rows import ArchiveRow
from shared.archive.schema import SchemaTooNew
from shared.archive.store import ArchiveStore, ensure_database, open_store
from shared.failures import classify
from shared.settings import Settings

from .handler import ArchiveHandler

__all__ = ["LazyStore", "build_handler", "prepare_database"]

log = logging.getLogger(__name__)


class LazyStore:
    """The store, opened on first use in the running event loop (a psycopg pool belongs to one loop)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: ArchiveStore | None = None
        self._lock: asyncio.Lock | None = None

    async def get(self) -> ArchiveStore:
        if self._store is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._store is None:
                    s = self.settings
                    self._store = await open_store(
                        s.archive_conninfo(), max_size=s.archive_pool_size,
                        search_timeout_ms=s.archive_search_timeout_ms,
                    )  # fmt: skip
        return self._store

    async def write(self, rows: Sequence[ArchiveRow]) -> None:
        await (await self.get()).write(rows)

    async def ping(self) -> None:
        """For ``/readyz``: one ``SELECT 1`` on a pooled connection (raises when PostgreSQL does not answer)."""
        await (await self.get()).ping()

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None


def build_handler(settings: Settings, store: LazyStore | None = None) -> tuple[ArchiveHandler, LazyStore]:
    store = store or LazyStore(settings)
    return ArchiveHandler(settings, store), store


async def prepare_database(settings: Settings, *, wait_s: float = 300.0) -> int:
    """Create the database if missing and run the migrations; waits (with back-off) up to ``wait_s`` for a
    PostgreSQL that does not answer yet. Raises :class:`SchemaTooNew` on a newer schema."""
    delay, waited = 0.5, 0.0
    while True:
        try:
            await ensure_database(settings.archive_conninfo())
            store = await open_store(settings.archive_conninfo(), max_size=1)
            try:
                return await store.migrate()
            finally:
                await store.close()
        except SchemaTooNew:
            raise
        except Exception as exc:
            if classify(exc) is not None or waited >= wait_s:
                raise
            log.warning("archive: PostgreSQL not ready (%s); retrying in %.1fs", exc, delay)
        await asyncio.sleep(delay)
        waited += delay
        delay = min(delay * 2, 10.0)
