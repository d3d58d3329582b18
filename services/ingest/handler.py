"""The ingest handler: a batch of raw records in, their outputs out.

Every record read from ``news.raw`` yields exactly one output: an article on
``news.ingested``, a duplicate record on ``news.duplicates`` or a dead letter
on ``news.dlq``. The handler has no Kafka in it; the Faust agent in
``app.py`` moves records in and out.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared.logs import record_fields
from shared.models import Article, DuplicateRecord
from shared.rebuild import input_offsets
from shared.records import InRecord, OutRecord, dead_letter, model_record
from shared.settings import Settings

from .dedup import DedupDecision, DedupItem, DedupStore
from .errors import RejectedInput
from .fingerprint import article_id, comparison_text, hash_comparison_text, url_hash
from .parsing import ParsedArticle, parse_raw

__all__ = ["DECIDE_CHUNK", "SIGNATURE_HEADER", "IngestHandler", "Prepared"]

log = logging.getLogger(__name__)

DECIDE_CHUNK = 100
"""Records per dedup store call within a batch (see :meth:`IngestHandler.handle`)."""
SIGNATURE_HEADER = "newsflow_minhash"
"""Header of a passed article on ``news.ingested``: its MinHash signature (base64), the one dedup indexed."""
_YIELD_EVERY = 10  # records parsed between two yields to the event loop

# comparison texts -> (MinHash signature, LSH band keys) of each, in order; see minhash.py
Signer = Callable[[list[str]], list[tuple[bytes, tuple[str, ...]]]]


@dataclass(frozen=True)
class Prepared:
    """A parsed raw record with its fingerprints, ready for the dedup decision."""

    record: InRecord
    parsed: ParsedArticle
    item: DedupItem


@dataclass(frozen=True)
class _Parsed:
    """A parsed raw record with its comparison text and hashes, before the signature."""

    record: InRecord
    parsed: ParsedArticle
    text: str
    content_hash: str
    url_hash: str


def _publish_order(rec: InRecord) -> tuple[int, int, int]:
    """Sort key: broker timestamp (records without one last), partition, offset."""
    return (rec.timestamp_ms if rec.timestamp_ms is not None else 1 << 62, rec.partition, rec.offset)


class IngestHandler:
    """Parse, fingerprint, deduplicate; build the output records."""

    def __init__(self, settings: Settings, store: DedupStore, signer: Signer | None = None) -> None:
        self.settings = settings
        self.store = store
        self.signer = signer
        self.source = f"{settings.source_name}/ingest"

    def prepare(self, rec: InRecord) -> Prepared | OutRecord:
        """Parse one record; a rejected one becomes its dead letter."""
        return self.prepare_batch([rec])[0]

    def prepare_batch(self, records: list[InRecord]) -> list[Prepared | OutRecord]:
        """:meth:`prepare` for each record, in order, with the signatures computed for the batch at once."""
        return self._sign_staged([self._parse(r) for r in records])

    def _sign_staged(self, staged: list[_Parsed | OutRecord]) -> list[Prepared | OutRecord]:
        signed = iter(self._sign([p for p in staged if isinstance(p, _Parsed)]))
        return [p if isinstance(p, OutRecord) else next(signed) for p in staged]

    def _parse(self, rec: InRecord) -> _Parsed | OutRecord:
        try:
            parsed = parse_raw(
                rec.value, max_bytes=self.settings.max_article_bytes, min_words=self.settings.min_article_words
            )
            text = comparison_text(parsed.title, parsed.body)
            return _Parsed(
                rec, parsed, text, hash_comparison_text(text), url_hash(parsed.canonical_url, uri=parsed.uri)
            )
        except RejectedInput as exc:
            return self._dlq(rec, exc.code, exc.message)
        except Exception as exc:  # a bug must not lose the record: dead-letter it with the reason
            return self._internal_error(rec, exc)

    def _sign(self, parsed: list[_Parsed]) -> list[Prepared | OutRecord]:
        if not parsed:
            return []
        if self.signer is None:
            return [self._prepared(p, b"", ()) for p in parsed]
        try:
            signed = self.signer([p.text for p in parsed])
        except Exception as exc:  # a bug must not lose the record: dead-letter the one that fails
            if len(parsed) == 1:
                return [self._internal_error(parsed[0].record, exc)]
            return [out for p in parsed for out in self._sign([p])]
        return [self._prepared(p, sig, bands) for p, (sig, bands) in zip(parsed, signed, strict=True)]

    def _prepared(self, p: _Parsed, sig: bytes, bands: tuple[str, ...]) -> Prepared:
        item = DedupItem(
            owner=p.record.origin.token(),
            article_id=article_id(p.parsed.canonical_url, p.content_hash, uri=p.parsed.uri),
            content_hash=p.content_hash,
            url_hash=p.url_hash,
            signature=sig,
            bands=bands,
        )
        return Prepared(p.record, p.parsed, item)

    async def handle(self, records: list[InRecord]) -> list[OutRecord]:
        """One output per input record, in broker-timestamp order (then partition, offset).

        Records are decided in that order, so of two copies of an article in one batch (on different
        partitions, fetched in any order) the one published first is the original.

        The batch goes to the store in chunks of :data:`DECIDE_CHUNK` records,
        one chunk after the other (decisions keep the input order). While the
        store decides a chunk, this process parses the next one (yielding to
        the event loop every few records, so the store's request goes out at
        once) and builds the outputs of the one before: the store's time is
        mostly hidden.

        Raises only when the dedup store is unreachable; the caller retries the
        whole batch (decisions are replay-safe) without committing offsets.
        """
        records = sorted(records, key=_publish_order)
        chunks = [records[i : i + DECIDE_CHUNK] for i in range(0, len(records), DECIDE_CHUNK)]
        # the first call checks the state holds the decisions up to here, the last records the batch's offsets
        first, last = input_offsets(records)
        outs: list[OutRecord] = []
        staged = await self._prepare_chunk(chunks[0]) if chunks else []
        decided: list[Prepared | OutRecord] = []
        decisions: list[DedupDecision] = []
        for k in range(len(chunks)):
            pending = asyncio.ensure_future(self.store.decide(
                [p.item for p in staged if isinstance(p, Prepared)],
                first=first if k == 0 else None, last=last if k == len(chunks) - 1 else None,
            ))  # fmt: skip
            try:
                upcoming = await self._prepare_chunk(chunks[k + 1]) if k + 1 < len(chunks) else []
                outs += self._outputs(decided, decisions)
                decisions = await pending
            finally:
                pending.cancel()  # only when something above failed: no-op on a finished future
            decided, staged = staged, upcoming
        return outs + self._outputs(decided, decisions)

    async def _prepare_chunk(self, records: list[InRecord]) -> list[Prepared | OutRecord]:
        """:meth:`prepare_batch`, yielding to the event loop every :data:`_YIELD_EVERY` records."""
        staged: list[_Parsed | OutRecord] = []
        for i in range(0, len(records), _YIELD_EVERY):
            await asyncio.sleep(0)
            staged += map(self._parse, records[i : i + _YIELD_EVERY])
        return self._sign_staged(staged)

    def _outputs(self, staged: list[Prepared | OutRecord], decisions: list[DedupDecision]) -> list[OutRecord]:
        decided = iter(decisions)
        return [s if isinstance(s, OutRecord) else self._output(s, next(decided)) for s in staged]

    def _internal_error(self, rec: InRecord, exc: Exception) -> OutRecord:
        log.exception(
            "ingest failed on %s/%s/%s", rec.topic, rec.partition, rec.offset, exc_info=exc, extra=record_fields(rec)
        )
        return self._dlq(rec, "internal_error", f"{type(exc).__name__}: {exc}")

    def _dlq(self, rec: InRecord, code: str, message: str) -> OutRecord:
        return dead_letter(
            rec,
            topic=self.settings.topics.dlq,
            stage="ingest",
            code=code,
            message=message,
            source=self.settings.source_name,
            max_article_bytes=self.settings.max_article_bytes,
        )

    def _output(self, p: Prepared, d: DedupDecision) -> OutRecord:
        rec, parsed = p.record, p.parsed
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
                content_hash=p.item.content_hash,
            )
            return model_record(
                topics.duplicates, d.article_id, dup, event_type="article.duplicate", source=self.source,
                event_id=f"dup:{rec.origin.token()}", time=rec.time, parent=rec,
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
            uri=parsed.uri,
            source=parsed.source,
            published_at=parsed.published_at,
            language=parsed.language,
            authors=list(parsed.authors),
            raw_format=parsed.raw_format,
            ingested_at=rec.time,
            origin=rec.origin,
            duplicate_of=d.duplicate_of,
        )
        out = model_record(
            topics.ingested, article.id, article, event_type="article.ingested", source=self.source,
            event_id=f"{article.id}:v{article.version}", time=rec.time, parent=rec,
        )  # fmt: skip
        if p.item.signature and d.duplicate_of is None:  # what a dedup state rebuild needs, not computed again
            out.headers[SIGNATURE_HEADER] = base64.b64encode(p.item.signature)
        return out
