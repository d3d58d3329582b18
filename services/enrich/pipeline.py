"""Run the enrichers over a batch of articles (pure: no Kafka, no Redis)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shared import tracing
from shared.metrics import enricher_timer
from shared.models import Article, Origin

from .enrichers.base import Doc, Enricher

__all__ = ["EnrichmentPipeline"]

log = logging.getLogger(__name__)


class EnrichmentPipeline:
    """Enrichers in order; each sees the fields of those before it."""

    def __init__(self, enrichers: Sequence[Enricher]) -> None:
        self.enrichers = list(enrichers)

    def warm(self) -> None:
        """Run every enricher once on a small article, so lazy set-up (gazetteers, lexicons, first model
        calls) happens at start-up and not in the first batch, which would stall that batch for seconds."""
        now = datetime.now(UTC)
        article = Article(
            id="nf_warmup", content_hash="warmup", title="Warm-up article",
            body='The minister said in Paris on Monday that talks with Germany would resume. "We are ready," '
            "she told reporters.",
            raw_format="fields", ingested_at=now, origin=Origin(topic="warmup", partition=0, offset=0),
        )  # fmt: skip
        self.run([article])

    def run(self, articles: list[Article]) -> list[Doc]:
        docs = [Doc(article=a) for a in articles]
        for enricher in self.enrichers:
            try:
                with enricher_timer(enricher.name, len(docs)), tracing.span(f"enrich.{enricher.name}"):
                    results = enricher.enrich(docs)
            except Exception as exc:  # one broken enricher must not lose the article
                log.exception("enricher %s failed on a batch of %d", enricher.name, len(docs))
                results = [_failed(enricher, exc) for _ in docs]
            for doc, fields in zip(docs, results, strict=True):
                doc.fields.update(fields)
        for doc in docs:
            doc.cache.clear()
        return docs


def _failed(enricher: Enricher, exc: Exception) -> dict[str, dict[str, Any]]:
    reason = f"enricher failed: {type(exc).__name__}: {exc}"
    return {f: {"value": None, "method": enricher.name, "version": "?", "reason": reason} for f in enricher.provides}
