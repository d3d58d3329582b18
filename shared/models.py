"""The message contract: one pydantic model per record on every topic.

These models are the only definition of what flows between services; the
services validate at the edge (parsing bytes into these models) and never
define parallel record classes.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any, Literal, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    field_serializer,
    model_serializer,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

__all__ = [
    "FIELD_MODELS",
    "SCHEMA_VERSION",
    "Article",
    "CategoryField",
    "CategoryItem",
    "CountriesField",
    "CountryItem",
    "Dateline",
    "DatelineField",
    "DeadLetter",
    "DeliveryRecord",
    "DuplicateRecord",
    "EnrichedArticle",
    "Enrichment",
    "EnrichmentField",
    "EntitiesField",
    "EntityItem",
    "ErrorInfo",
    "GenreField",
    "GenreItem",
    "KeywordItem",
    "KeywordsField",
    "LanguageField",
    "Origin",
    "OutboxRecord",
    "QuoteItem",
    "QuotesField",
    "RawFields",
    "RawHtml",
    "RawNinjs",
    "RawText",
    "ReadingTimeField",
    "SentenceCounts",
    "SentimentField",
    "SummaryField",
    "TextSpan",
    "WordCountField",
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
    # 0 as ingested; `newsflow reenrich` sends an archived article version back with this one higher, so its
    # new enrichment is a new enrichment version of the same article version (ids: :func:`Article.revision_tag`)
    enrichment_revision: int = Field(default=0, ge=0)

    @property
    def revision_tag(self) -> str:
        """``v<version>``, or ``v<version>r<enrichment revision>`` for a re-enrichment: what names one
        enrichment of one article version in event and delivery ids."""
        return f"v{self.version}" + (f"r{self.enrichment_revision}" if self.enrichment_revision else "")


# --------------------------------------------------------------------------
# news.enriched
# --------------------------------------------------------------------------


class _Payload(BaseModel):
    """Base of every model inside the ``enrichment`` object: a tolerant reader that writes back what it read.

    ``extra="allow"`` on every one of them (fields, their items, the object itself): a producer can be
    upgraded before its consumers (or a consumer never), so a newer enricher may write a key or a whole
    field this model does not know yet; a reader keeps it in ``model_extra`` and writes it back
    unchanged instead of dead-lettering the article. (The article around it forbids extra keys: that
    shape is ingest's and versioned by ``schema_version``.) Enrich's own
    outputs are checked to be fully modelled (``tests/unit/test_enrichment_models.py``), so a key an
    enricher adds without a model change fails a test, not a consumer.

    Only the keys that were written are serialised (``model_fields_set``): a field that was set to
    ``null`` stays ``null``, a key that was never written does not appear. An unavailable field is
    ``{"value": null, ..., "reason"}`` and a found one has no ``value``/``reason`` key, so absent and
    ``null`` say different things on the wire. The JSON Schema is the validation one (what may be
    written), not the serializer's return type.
    """

    model_config = ConfigDict(extra="allow", serialize_by_alias=True)

    @model_serializer(mode="wrap")
    def _written_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        fields = type(self).model_fields
        written = {fields[n].alias or n if n in fields else n for n in self.model_fields_set}
        out = {k: v for k, v in data.items() if k in written and k not in _PROVENANCE}
        out.update((k, data[k]) for k in _PROVENANCE if k in written and k in data)
        return out  # the values first, then which method produced them (as enrich has always written them)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # without this, the serialization schema would be the serializer's return type (any object)
        return handler({k: v for k, v in core_schema.items() if k != "serialization"})


_PROVENANCE = ("method", "version", "reason")


class EnrichmentField(_Payload):
    """Base of every enrichment field: which method and version produced it.

    When a field could not be computed (an unsupported language, an enricher that failed or ran over
    its budget) its ``value`` is ``null`` with a ``reason``, never a silent guess; its other keys are
    then ``null`` or absent. ``reason`` may also be a note on a computed field (``language``).
    """

    method: str
    version: str = Field(description='the method\'s version; "?" when the enricher failed before saying')
    reason: str | None = Field(default=None, description="why the value is null, or a note on how it was chosen")
    value: Any = None  # each field says what its value is (a field this version does not know: anything)

    @classmethod
    def unavailable(cls, method: str, version: str, reason: str, **nulls: None) -> Self:
        """This field when it could not be computed: a null ``value`` and the ``reason``; ``nulls`` names the
        other keys it writes as ``null`` (``people=None``), the keys not named are not written."""
        return cls(value=None, **nulls, method=method, version=version, reason=reason)


class TextSpan(_Payload):
    """Where a text is: character offsets into the article's title or body."""

    in_: Literal["title", "body"] = Field(alias="in")
    start: int
    end: int


class LanguageField(EnrichmentField):
    """``language``: the ISO 639-1 code the article is processed in, and how it was decided."""

    value: None = None
    code: str | None = Field(default=None, description="ISO 639-1: what the other enrichers read")
    detected: str | None = Field(default=None, description='py3langid\'s answer if confident enough, else "und"')
    confidence: float | None = None
    guess: str | None = Field(default=None, description="py3langid's best guess; null when there was no text")
    declared: str | None = Field(default=None, description="the declared language's ISO 639-1 code, if declared")
    declared_by: Literal["article", "source"] | None = None


class DatelineField(EnrichmentField):
    """``dateline``: the dateline ingest parsed (agency, place, date)."""

    value: None = None
    raw: str | None = None
    agency: str | None = None
    location: str | None = None
    date: dt.date | None = None


class WordCountField(EnrichmentField):
    """``word_count``: words in the body."""

    value: int | None = None


class ReadingTimeField(EnrichmentField):
    """``reading_time``: at 230 words a minute."""

    value: None = None
    seconds: int | None = None
    minutes: int | None = Field(default=None, description="rounded, at least 1")


class EntityItem(_Payload):
    """One person, organisation, place or group, its mentions merged."""

    name: str
    mentions: int
    first: TextSpan = Field(description="its first mention")
    aliases: list[str] | None = Field(default=None, description="its other surface forms (absent when none)")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 of a place or group (absent if none)")


class EntitiesField(EnrichmentField):
    """``entities``: named entities by kind; each kind ``null`` when the language has no NER model."""

    value: None = None
    people: list[EntityItem] | None = None
    organizations: list[EntityItem] | None = None
    places: list[EntityItem] | None = None
    groups: list[EntityItem] | None = None

    def all_entities(self) -> list[EntityItem]:
        """Every entity, people first, then organisations, places and groups."""
        return [*(self.people or []), *(self.organizations or []), *(self.places or []), *(self.groups or [])]

    def by_kind(self) -> dict[str, list[EntityItem] | None]:
        """Each kind's entities by its key: ``people``, ``organizations``, ``places``, ``groups``."""
        return {
            "people": self.people,
            "organizations": self.organizations,
            "places": self.places,
            "groups": self.groups,
        }


class CountryItem(_Payload):
    """A country the article is about."""

    code: str = Field(description="ISO 3166-1 alpha-2")
    name: str
    score: float = Field(description="salience relative to the most salient country (1.0)")
    mentions: int


class CountriesField(EnrichmentField):
    """``countries``: most salient first."""

    value: list[CountryItem] | None = None


class KeywordItem(_Payload):
    """A key phrase as it is in the text."""

    text: str
    score: float = Field(description="relative to the best keyword (1.0)")


class KeywordsField(EnrichmentField):
    """``keywords``: YAKE key phrases, best first."""

    value: list[KeywordItem] | None = None
    language: str | None = Field(default=None, description="the YAKE stopword list used")


class SummaryField(EnrichmentField):
    """``summary``: extractive, sentences of the body."""

    value: None = None
    text: str | None = None
    sentences: list[str] | None = None


class SentenceCounts(_Payload):
    """Sentences by VADER label."""

    negative: int
    neutral: int
    positive: int


class SentimentField(EnrichmentField):
    """``sentiment``: VADER's tone, English only."""

    value: None = None
    score: float | None = Field(default=None, description="mean compound score of the sentences, -1..1")
    label: Literal["negative", "neutral", "positive"] | None = None
    sentences: SentenceCounts | None = None


class CategoryItem(_Payload):
    """An IPTC Media Topics top-level category."""

    code: str = Field(description="IPTC Media Topics code, e.g. medtop:16000000")
    name: str
    score: float = Field(description="share of the article's category evidence, 0..1")


class CategoryField(EnrichmentField):
    """``category``: IPTC Media Topics top-level categories, best first."""

    value: list[CategoryItem] | None = None
    language: str | None = Field(default=None, description="the lexicon language used")


class QuoteItem(_Payload):
    """A direct quote and who said it."""

    text: str
    speaker: str | None = Field(description="the speaker's entity name, null when unresolved")
    speaker_type: str | None = Field(description="the speaker's entity kind (person, organization)")
    verb: str | None
    partial: bool = Field(description="a fragment quoted inside a sentence")
    resolution: str | None = Field(description="how the speaker was found (entity, pronoun, description, ...)")
    at: TextSpan


class QuotesField(EnrichmentField):
    """``quotes``: direct quotes with their speakers."""

    value: list[QuoteItem] | None = None


class GenreItem(_Payload):
    """An IPTC genre."""

    code: str | None = Field(default=None, description="IPTC genre code, e.g. genre:Interview")
    name: str | None = None


class GenreField(EnrichmentField):
    """``genre``: written by no shipped enricher; the ninjs format maps it when one does (one genre or a list)."""

    value: list[GenreItem] | None = None
    code: str | None = None
    name: str | None = None


class Enrichment(_Payload):
    """The ``enrichment`` object: when enrich ran, then one entry per enricher output field.

    Every field is optional: a message from an older enrich may not have it, and a field that could
    not be computed is there with a null ``value`` and a ``reason``. A reader keeps the fields and
    keys it does not know (a newer enrich's) and ignores them.
    """

    enriched_at: datetime = Field(json_schema_extra={"format": "date-time"})
    language: LanguageField | None = None
    dateline: DatelineField | None = None
    word_count: WordCountField | None = None
    reading_time: ReadingTimeField | None = None
    entities: EntitiesField | None = None
    countries: CountriesField | None = None
    keywords: KeywordsField | None = None
    summary: SummaryField | None = None
    sentiment: SentimentField | None = None
    category: CategoryField | None = None
    quotes: QuotesField | None = None
    genre: GenreField | None = None

    @field_serializer("enriched_at", when_used="json")
    def _isoformat(self, value: datetime) -> str:
        return value.isoformat()  # as enrich has always written it (``+00:00``, where pydantic writes ``Z``)


def _field_model(annotation: Any) -> type[EnrichmentField]:
    (model,) = (t for t in get_args(annotation) if isinstance(t, type) and issubclass(t, EnrichmentField))
    return model


FIELD_MODELS: dict[str, type[EnrichmentField]] = {
    name: _field_model(info.annotation) for name, info in Enrichment.model_fields.items() if name != "enriched_at"
}
"""The model of each field :class:`Enrichment` knows, by name (``FIELD_MODELS["entities"] is EntitiesField``)."""


class EnrichedArticle(Article):
    """An article plus its enrichment (value of ``news.enriched``)."""

    enrichment: Enrichment
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
    content_hash: str | None = None  # of the dropped copy: lets a lost dedup state be rebuilt from the log


class DeliveryRecord(_Model):
    """A delivery its receiver acknowledged, on the compacted ``news.deliveries`` (key: the delivery id).

    The log of publish's delivery ledger for the sinks that leave no record of their own on Kafka (a
    webhook endpoint's 2xx, the live stream): a ledger lost with Redis is rebuilt from it and from the
    routed topics' ``ce_id`` headers.
    """

    schema_version: int = SCHEMA_VERSION
    id: str  # "webhook/<subscription>:<article id>:v<version>" or "stream:<article id>:v<version>"
    delivered_at: datetime


class OutboxRecord(_Model):
    """A webhook delivery entering publish's outbox, or leaving it as a dead letter, on ``news.deliveries``
    (key: the delivery id, as the :class:`DeliveryRecord` of its acknowledgement: the latest record of a
    key tells where the delivery is).

    ``enqueued`` is written before the delivery enters the outbox (in Redis) and carries what the outbox
    holds, so deliveries pending when Redis lost the outbox (an endpoint in its retry schedule) are put
    back into it from the log; ``dead_lettered`` is written with its dead letter.
    """

    schema_version: int = SCHEMA_VERSION
    id: str  # "webhook/<subscription>:<article id>:v<version>"
    state: Literal["enqueued", "dead_lettered"]
    webhook_id: str
    subscription: str
    article: str
    version: int
    origin: Origin  # the news.enriched record the delivery came from
    origin_key_b64: str | None = None
    origin_headers: dict[str, str] = {}
    value_b64: str | None = None  # the enriched article as read from news.enriched (enqueued only)
    at: datetime


class ErrorInfo(_Model):
    code: str
    message: str


class DeadLetter(_Model):
    schema_version: int = SCHEMA_VERSION
    error: ErrorInfo
    stage: Literal["ingest", "enrich", "publish", "archive"]
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
