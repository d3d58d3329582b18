"""An enriched article as the archive stores it: one row per article version (pure, no I/O).

The row keeps the whole ``news.enriched`` value (``doc``, what re-enrichment sends back) and the
columns a search filters on: the article's time (``published_at``, else when it was ingested), its
language and text-search configuration, story, top category, countries and entity names.
Idempotency is by (article id, version); of two enrichments of the same version the newer one wins,
ordered by :attr:`ArchiveRow.enrichment_key` (the enrichment revision, then ``enriched_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ..models import EnrichedArticle

__all__ = ["MAX_TEXT_CHARS", "TS_CONFIGS", "ArchiveRow", "row_of", "ts_config", "without_nul"]

# ISO 639-1 -> the PostgreSQL text-search configuration that stems it (PostgreSQL 15's built-in ones);
# any other language is indexed with "simple" (lower-cased words, no stemming, no stop words).
TS_CONFIGS: dict[str, str] = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish", "nl": "dutch",
    "en": "english", "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi",
    "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian", "ne": "nepali",
    "no": "norwegian", "nb": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
MAX_TEXT_CHARS = 200_000  # of the body indexed for full text (PostgreSQL's tsvector holds at most 1 MB)


def ts_config(language: str | None) -> str:
    """The text-search configuration of an ISO 639-1 language code (``simple`` when none stems it)."""
    return TS_CONFIGS.get((language or "").lower(), "simple")


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold U+0000: it is dropped."""
    return text.replace("\x00", "") if "\x00" in text else text


@dataclass(frozen=True)
class ArchiveRow:
    """The columns of one archived article version."""

    id: str
    version: int
    enrichment_revision: int
    enriched_at: datetime
    at: datetime
    title: str
    body: str
    source: str | None
    url: str | None
    language: str | None
    ts_config: str
    story_id: str | None
    category: str | None
    category_name: str | None
    countries: list[str]
    entities: list[str]
    doc: str  # the news.enriched value (JSON text)

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    @property
    def enrichment_key(self) -> tuple[int, datetime]:
        """Orders the enrichments of one article version: the greater is the newer."""
        return (self.enrichment_revision, self.enriched_at)

    @property
    def entity_keys(self) -> list[str]:
        """The entity names folded for filtering (``entity=christine lagarde`` finds ``Christine Lagarde``)."""
        return sorted({e.casefold() for e in self.entities})

    @property
    def category_keys(self) -> list[str]:
        """What ``category=`` matches: the IPTC code and the folded name."""
        return [k.casefold() for k in (self.category, self.category_name) if k]


def row_of(article: EnrichedArticle, doc: str) -> ArchiveRow:
    """The row of a validated enriched article; ``doc`` is its JSON text as it came off the topic."""
    e = article.enrichment
    language = (e.language.code if e.language else None) or article.language
    top = e.category.value[0] if e.category and e.category.value else None
    countries = [c.code.upper() for c in (e.countries.value or [])] if e.countries else []
    entities = [without_nul(x.name) for x in e.entities.all_entities()] if e.entities else []
    return ArchiveRow(
        id=article.id,
        version=article.version,
        enrichment_revision=article.enrichment_revision,
        enriched_at=e.enriched_at,
        at=article.published_at or article.ingested_at,
        title=without_nul(article.title),
        body=without_nul(article.body[:MAX_TEXT_CHARS]),
        source=without_nul(article.source) if article.source else None,
        url=without_nul(article.url) if article.url else None,
        language=language,
        ts_config=ts_config(language),
        story_id=article.story_id,
        category=top.code if top else None,
        category_name=top.name if top else None,
        countries=list(dict.fromkeys(countries)),
        entities=list(dict.fromkeys(entities)),
        doc=_jsonb_text(doc),
    )


def _jsonb_text(doc: str) -> str:
    """``doc`` as PostgreSQL's jsonb takes it: without U+0000 (which jsonb refuses, escaped or not)."""
    if "\\u0000" not in doc and "\x00" not in doc:
        return doc
    return orjson.dumps(_strip_nul(orjson.loads(doc))).decode()


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return without_nul(value)
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): _strip_nul(v) for k, v in value.items()}
    return value
