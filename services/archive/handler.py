"""The archive handler: ``news.enriched`` records in, rows upserted into PostgreSQL, nothing produced
but the dead letters of records that are not enriched articles.

The batch is one transaction (:meth:`shared.archive.store.ArchiveStore.write`): when PostgreSQL is down
the write raises, the batch loop backs off and retries, and the offsets stay uncommitted until the rows
are committed; a replay writes the same rows again, which changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from pydantic import ValidationError

from shared.archive.rows import ArchiveRow, row_of
from shared.metrics import ARCHIVED
from shared.models import EnrichedArticle
from shared.records import InRecord, OutRecord, dead_letter
from shared.settings import Settings

__all__ = ["ArchiveHandler", "RowWriter"]

log = logging.getLogger(__name__)


class RowWriter(Protocol):
    async def write(self, rows: Sequence[ArchiveRow]) -> None: ...


class ArchiveHandler:
    def __init__(self, settings: Settings, writer: RowWriter) -> None:
        self.settings = settings
        self.writer = writer

    async def handle(self, records: list[InRecord]) -> list[OutRecord]:
        """Archive every enriched article of ``records``; a record that is not one is a dead letter."""
        rows: list[ArchiveRow] = []
        letters: list[OutRecord] = []
        for rec in records:
            raw = rec.value or b""
            try:
                article = EnrichedArticle.model_validate_json(raw)
                rows.append(row_of(article, raw.decode("utf-8")))
            except (ValidationError, UnicodeDecodeError) as exc:
                first = exc.errors()[0] if isinstance(exc, ValidationError) else None
                where = ".".join(map(str, first["loc"])) if first else "bytes"
                letters.append(dead_letter(
                    rec, topic=self.settings.topics.dlq, stage="archive", code="invalid_article",
                    message=f"not an enriched newsflow article: {first['msg'] if first else exc} at {where or 'root'}",
                    source=self.settings.source_name, max_article_bytes=self.settings.max_article_bytes,
                ))  # fmt: skip
        await self.writer.write(rows)
        ARCHIVED.inc(len(rows))
        return letters
