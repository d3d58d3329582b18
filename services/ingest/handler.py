"""The ingest handler: a batch of raw records in, their outputs out.

Every record read from ``news.raw`` yields exactly one output: an article on
``news.ingested``, a duplicate record on ``news.duplicates`` or a dead letter
on ``news.dlq``. The handler has no Kafka in it; the Faust agent in
``app.py`` moves records in and out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared.models import Article, DuplicateRecord
from shared.records import InRecord, OutRecord, dead_letter, model_record
from shared.settings import Settings

from .dedup import DedupDecision, DedupItem, DedupStore
from .errors import RejectedInput
from .fingerprint import article_id, comparison_text, hash_comparison_text, url_hash
from .parsing import ParsedArticle, parse_raw

__all__ = ["IngestHandler", "Prepared"]

log = logging.getLogger(__name__)

# comparison text -> (MinHash signature, LSH band keys); see minhash.py
Signer = Callable[[str], tuple[bytes, tuple[str, ...]]]


@dataclass(frozen=True)
class Prepared:
    """A parsed raw record with its fingerprints, ready for the dedup decision."""

    record: InRecord
    parsed: ParsedArticle
    item: DedupItem


class IngestHandler:
    """Parse, fingerprint, deduplicate; build the output records."""

    def __init__(self, settings: Settings, store: DedupStore, signer: Signer | None = None) -> None:
        self.settings = settings
        self.store = store
        self.signer = signer
        self.source = f"{settings.source_name}/ingest"

    def prepare(self, rec: InRecord) -> Prepared | OutRecord:
        """Parse one record; a rejected one becomes its dead letter."""
        try:
            parsed = parse_raw(rec.value, max_bytes=self.settings.max_article_bytes)
            text = comparison_text(parsed.title, parsed.body)
            chash = hash_comparison_text(text)
            uhash = url_hash(parsed.canonical_url)
            sig, bands = self.signer(text) if self.signer else (b"", ())
        except RejectedInput as exc:
            return self._dlq(rec, exc.code, exc.message)
        except Exception as exc:  # a bug must not lose the record: dead-letter it with the reason
            log.exception("ingest failed on %s/%s/%s", rec.topic, rec.partition, rec.offset)
            return self._dlq(rec, "internal_error", f"{type(exc).__name__}: {exc}")
        item = DedupItem(
            owner=rec.origin.token(),
            article_id=article_id(parsed.canonical_url, chash),
            content_hash=chash,
            url_hash=uhash,
            signature=sig,
            bands=bands,
        )
        return Prepared(rec, parsed, item)

    async def handle(self, records: list[InRecord]) -> list[OutRecord]:
        """One output per input record, in input order.

        Raises only when the dedup store is unreachable; the caller retries the
        whole batch (decisions are replay-safe) without committing offsets.
        """
        staged = [self.prepare(r) for r in records]
        todo = [p for p in staged if isinstance(p, Prepared)]
        decisions = iter(await self.store.decide([p.item for p in todo]))
        return [s if isinstance(s, OutRecord) else self._output(s, next(decisions)) for s in staged]

    def _dlq(self, rec: InRecord, code: str, message: str) -> OutRecord:
        return dead_letter(
            rec,
            topic=self.settings.topics.dlq,
            stage="ingest",
            code=code,
            message=message,
            source=self.settings.source_name,
        )

    def _output(self, p: Prepared, d: DedupDecision) -> OutRecord:
        rec, parsed = p.record, p.parsed
        trace = rec.headers.get("traceparent")
        topics = self.settings.topics
        if d.duplicate_of is not None and not (d.kind == "near" and self.settings.near_dedup_action == "mark"):
            dup = DuplicateRecord(
                id=d.article_id,
                source=parsed.source,
                url=parsed.canonical_url or parsed.url,
                title=parsed.title,
                duplicate_of=d.duplicate_of,
                kind=d.kind or "exact",
                reason=d.reason or "content",
                similarity=round(d.similarity if d.similarity is not None else 1.0, 4),
                origin=rec.origin,
                detected_at=rec.time,
            )
            return model_record(
                topics.duplicates, d.article_id, dup, event_type="article.duplicate", source=self.source,
                event_id=f"dup:{rec.origin.token()}", time=rec.time, traceparent=trace,
            )  # fmt: skip
        article = Article(
            id=d.article_id,
            version=d.version,
            content_hash=p.item.content_hash,
            title=parsed.title,
            dateline=parsed.dateline,
            body=parsed.body,
            url=parsed.url,
            canonical_url=parsed.canonical_url,
            source=parsed.source,
            published_at=parsed.published_at,
            language=parsed.language,
            authors=list(parsed.authors),
            raw_format=parsed.raw_format,
            ingested_at=rec.time,
            origin=rec.origin,
            duplicate_of=d.duplicate_of,
        )
        return model_record(
            topics.ingested, article.id, article, event_type="article.ingested", source=self.source,
            event_id=f"{article.id}:v{article.version}", time=rec.time, traceparent=trace,
        )  # fmt: skip
