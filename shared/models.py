"""The message contract: one pydantic model per record on every topic.

These models are the only definition of what flows between services; the
services validate at the edge (parsing bytes into these models) and never
define parallel record classes.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SCHEMA_VERSION",
    "Article",
    "Dateline",
    "DeadLetter",
    "DuplicateRecord",
    "EnrichedArticle",
    "Enrichment",
    "ErrorInfo",
    "Field_",
    "Origin",
    "RawFields",
    "RawHtml",
    "RawNinjs",
    "RawText",
]

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# --------------------------------------------------------------------------
# Raw shapes accepted on news.raw (validated at the edge of ingest)
# --------------------------------------------------------------------------


class RawText(BaseModel):
    """``{"text": "..."}``: a whole wire story as plain text."""

    model_config = ConfigDict(extra="allow")
    text: str
    url: str | None = None
    source: str | None = None
    published_at: str | None = None
    language: str | None = None


class RawFields(BaseModel):
    """``{"title", "body", "url", "source", "published_at", "language", "authors"}``."""

    model_config = ConfigDict(extra="allow")
    title: str | None = None
    body: str
    url: str | None = None
    source: str | None = None
    published_at: str | None = None
    language: str | None = None
    authors: list[str] = Field(default_factory=list)


class RawHtml(BaseModel):
    """``{"html": "<html>...", "url": "..."}``: a web page."""

    model_config = ConfigDict(extra="allow")
    html: str
    url: str | None = None
    source: str | None = None


class RawNinjs(BaseModel):
    """IPTC ninjs: ``uri``, ``headline``, ``body_text`` / ``body_html``, ..."""

    model_config = ConfigDict(extra="allow")
    uri: str | None = None
    headline: str | None = None
    body_text: str | None = None
    body_html: str | None = None
    versioncreated: str | None = None
    language: str | None = None
    byline: str | None = None


# --------------------------------------------------------------------------
# news.ingested
# --------------------------------------------------------------------------


class Origin(_Model):
    """Where a record was read: the identity of a raw record for replays."""

    topic: str
    partition: int
    offset: int

    def token(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


class Dateline(_Model):
    """A parsed dateline such as ``AFP , Sunday 14 Apr 2024``."""

    raw: str
    agency: str | None = None
    location: str | None = None
    date: dt.date | None = None


class Article(_Model):
    """A normalised article (value of ``news.ingested``)."""

    schema_version: int = SCHEMA_VERSION
    id: str
    version: int = 1
    content_hash: str
    title: str
    dateline: Dateline | None = None
    body: str
    url: str | None = None
    canonical_url: str | None = None
    uri: str | None = None  # a ninjs item's non-web uri (URN): its identity across versions
    source: str | None = None
    published_at: datetime | None = None
    language: str | None = None  # as declared by the sender, if any
    authors: list[str] = Field(default_factory=list)
    raw_format: Literal["text", "fields", "html", "ninjs", "plain"]
    ingested_at: datetime
    origin: Origin
    # Set when near-duplicates are passed through marked instead of dropped.
    duplicate_of: str | None = None


# --------------------------------------------------------------------------
# news.enriched
# --------------------------------------------------------------------------


class Field_(BaseModel):
    """Base of every enrichment field: which method and version produced it.

    ``value`` is ``None`` with a ``reason`` when the field could not be
    computed (for example an unsupported language), never a silent guess.
    """

    model_config = ConfigDict(extra="allow")
    method: str
    version: str
    reason: str | None = None


class Enrichment(BaseModel):
    """The ``enrichment`` object: one entry per enricher output field.

    Known fields are listed in the README; each is a :class:`Field_` subclass
    payload (a dict with ``method``/``version``) so new enrichers add fields
    without changing this model.
    """

    model_config = ConfigDict(extra="allow")
    enriched_at: datetime
    duration_ms: float | None = None


class EnrichedArticle(Article):
    """An article plus its enrichment (value of ``news.enriched``)."""

    enrichment: dict[str, Any]
    story_id: str | None = None


# --------------------------------------------------------------------------
# news.duplicates and news.dlq
# --------------------------------------------------------------------------


class DuplicateRecord(_Model):
    schema_version: int = SCHEMA_VERSION
    id: str
    source: str | None = None
    url: str | None = None
    title: str | None = None
    duplicate_of: str
    kind: Literal["exact", "near"]
    reason: str  # "content" | "url" | "minhash"
    similarity: float
    origin: Origin
    detected_at: datetime


class ErrorInfo(_Model):
    code: str
    message: str


class DeadLetter(_Model):
    schema_version: int = SCHEMA_VERSION
    error: ErrorInfo
    stage: Literal["ingest", "enrich", "publish"]
    original_key_b64: str | None = None
    original_value_b64: str
    original_size: int | None = None  # bytes of the original value (before any truncation)
    original_sha256: str | None = None  # of the whole original value
    original_truncated: bool = False  # the original was too long to keep whole: not re-drivable
    original_headers: dict[str, str] = Field(default_factory=dict)
    source_topic: str
    source_partition: int
    source_offset: int
    failed_at: datetime
    attempts: int = 1
