"""The enrich handler: ``news.ingested`` records in, ``news.enriched`` records out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from shared.models import Article, EnrichedArticle, Enrichment
from shared.records import InRecord, OutRecord, dead_letter, model_record
from shared.settings import Settings

from .analysis.doc import Doc
from .pipeline import EnrichmentPipeline

__all__ = ["EnrichHandler"]

log = logging.getLogger(__name__)

StoryAssigner = Callable[[list[Doc]], Awaitable[list[str]]]


class EnrichHandler:
    def __init__(self, settings: Settings, pipeline: EnrichmentPipeline, stories: StoryAssigner | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.stories = stories
        self.source = f"{settings.source_name}/enrich"

    async def handle(self, records: list[InRecord]) -> list[OutRecord]:
        """One output per input: the enriched article, or a dead letter."""
        outs: list[OutRecord | None] = [None] * len(records)
        articles: list[tuple[int, Article]] = []
        for i, rec in enumerate(records):
            try:
                articles.append((i, Article.model_validate_json(rec.value or b"")))
            except ValidationError as exc:
                outs[i] = dead_letter(
                    rec, topic=self.settings.topics.dlq, stage="enrich", code="invalid_article",
                    message=f"not a newsflow article (schema_version 1): {exc.errors()[0]['msg']} "
                    f"at {'.'.join(map(str, exc.errors()[0]['loc'])) or 'root'}",
                    source=self.settings.source_name, max_article_bytes=self.settings.max_article_bytes,
                )  # fmt: skip
        size = self.settings.enrich_batch_size
        for start in range(0, len(articles), size):
            chunk = articles[start : start + size]
            started = datetime.now(UTC)
            docs = await asyncio.to_thread(self.pipeline.run, [a for _, a in chunk])
            story_ids = await self.stories(docs) if self.stories else [None] * len(docs)
            for (i, _), doc, story in zip(chunk, docs, story_ids, strict=True):
                outs[i] = self._output(records[i], doc, story, started)
        return [o for o in outs if o is not None]

    def _output(self, rec: InRecord, doc: Doc, story_id: str | None, started: datetime) -> OutRecord:
        a = doc.article
        # the fields are their models already: validating checks each is the model of its name, it does not
        # validate their contents again (pydantic's revalidate_instances="never")
        enrichment = Enrichment.model_validate({"enriched_at": started, **doc.fields})
        enriched = EnrichedArticle(**a.model_dump(), enrichment=enrichment, story_id=story_id)
        return model_record(
            self.settings.topics.enriched, a.id, enriched, event_type="article.enriched", source=self.source,
            event_id=f"{a.id}:{a.revision_tag}:enriched", time=rec.time, parent=rec,
        )  # fmt: skip
