"""Subscriptions (saved searches): a named filter over the enriched article and where matches go (pure).

A filter field left empty matches everything; every field that is set must match (AND), and a list
matches when any of its values does (OR). A subscription delivers to a Kafka topic, a webhook (Standard
Webhooks, signed) or the live stream (``GET /v1/stream?subscription=<id>``).
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    SerializationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from shared.models import EnrichedArticle

from .enrichment import categories, countries, entity_items, language, tone

__all__ = [
    "ArticleFacts",
    "KafkaTarget",
    "StreamTarget",
    "Subscription",
    "SubscriptionFilter",
    "Target",
    "WebhookTarget",
    "matches",
    "new_secret",
]

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TOPIC = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]+={0,2}$")
REVEAL = {"reveal_secrets": True}  # serialisation context that writes secrets in clear (the store only)


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


class SubscriptionFilter(BaseModel):
    """What an article must have to match; empty fields match anything."""

    model_config = ConfigDict(extra="forbid")
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes, e.g. en")
    countries: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2 codes, e.g. JP")
    categories: list[str] = Field(
        default_factory=list, description="IPTC Media Topics codes, e.g. medtop:16000000 (or 16000000)"
    )
    entities: list[str] = Field(
        default_factory=list, description="people, organisations, places or groups, by name or an alias"
    )
    terms: list[str] = Field(default_factory=list, description="words or phrases in the headline or body")
    sources: list[str] = Field(default_factory=list, description="outlet names as in the article's source")
    story_ids: list[str] = Field(default_factory=list, description="story ids (enrich's story grouping)")
    tone_min: float | None = Field(default=None, ge=-1, le=1, description="lowest sentiment score, -1..1")
    tone_max: float | None = Field(default=None, ge=-1, le=1, description="highest sentiment score, -1..1")

    @field_validator("languages")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [x.strip().lower() for x in v if x.strip()]

    @field_validator("countries")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        out = [x.strip().upper() for x in v if x.strip()]
        if bad := [x for x in out if not re.fullmatch(r"[A-Z]{2}", x)]:
            raise ValueError(f"countries are ISO 3166-1 alpha-2 codes such as JP; got {bad}")
        return out

    @field_validator("categories")
    @classmethod
    def _medtop(cls, v: list[str]) -> list[str]:
        out = [x.strip() if x.strip().startswith("medtop:") else f"medtop:{x.strip()}" for x in v if x.strip()]
        if bad := [x for x in out if not re.fullmatch(r"medtop:\d{8}", x)]:
            raise ValueError(f"categories are IPTC Media Topics codes such as medtop:16000000; got {bad}")
        return out

    @field_validator("entities", "terms", "sources", "story_ids")
    @classmethod
    def _strip(cls, v: list[str]) -> list[str]:
        return [x.strip() for x in v if x.strip()]

    @model_validator(mode="after")
    def _tone_range(self) -> SubscriptionFilter:
        if self.tone_min is not None and self.tone_max is not None and self.tone_min > self.tone_max:
            raise ValueError(f"tone_min {self.tone_min} is above tone_max {self.tone_max}")
        return self


class KafkaTarget(BaseModel):
    """Deliver matches to a Kafka topic."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["kafka"] = "kafka"
    topic: str

    @field_validator("topic")
    @classmethod
    def _topic_name(cls, v: str) -> str:
        if not _TOPIC.fullmatch(v):
            raise ValueError(f"{v!r} is not a Kafka topic name (letters, digits, '.', '_', '-')")
        return v


class WebhookTarget(BaseModel):
    """POST matches to ``url``, signed with every secret (two during a rotation)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["webhook"] = "webhook"
    url: HttpUrl
    secrets: list[SecretStr] = Field(
        default_factory=list, max_length=2,
        description="whsec_ + base64; generated (and shown once) when none is given",
    )  # fmt: skip

    @field_validator("secrets")
    @classmethod
    def _secret_format(cls, v: list[SecretStr]) -> list[SecretStr]:
        for s in v:
            raw = s.get_secret_value()
            if not _SECRET.fullmatch(raw) or len(base64.b64decode(raw[6:] + "==")) < 16:
                raise ValueError("a webhook secret is whsec_ followed by base64 of at least 16 bytes")
        return v

    @field_serializer("secrets")
    def _dump_secrets(self, v: list[SecretStr], info: SerializationInfo) -> list[str]:
        if info.context and info.context.get("reveal_secrets"):
            return [s.get_secret_value() for s in v]
        return ["**********" for _ in v]


class StreamTarget(BaseModel):
    """Matches are read live over ``GET /v1/stream?subscription=<id>``."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["stream"] = "stream"


Target = Annotated[KafkaTarget | WebhookTarget | StreamTarget, Field(discriminator="kind")]


class Subscription(BaseModel):
    """A saved search and where its matches go."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="lower-case letters, digits, '.', '_', '-'; generated when omitted")
    name: str = ""
    filter: SubscriptionFilter = Field(default_factory=SubscriptionFilter)
    target: Target = Field(default_factory=StreamTarget)
    origin: Literal["api", "config"] = "api"
    owner: str | None = Field(
        default=None, description="the name of the API key that made it (set by the server; null: the routing file)"
    )
    disabled: str | None = Field(default=None, description="why deliveries stopped (a 410 Gone), else null")

    @field_validator("id")
    @classmethod
    def _id_format(cls, v: str) -> str:
        if not _ID.fullmatch(v):
            raise ValueError(f"id {v!r}: use 1-64 lower-case letters, digits, '.', '_', '-'")
        return v


# --------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleFacts:
    """What filters match on, read once per article from its enrichment."""

    language: str | None
    countries: frozenset[str]
    categories: frozenset[str]
    entities: frozenset[str]  # folded names and aliases of every entity
    text: str  # folded headline + body
    source: str | None
    story_id: str | None
    tone: float | None

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "language": self.language, "countries": sorted(self.countries), "categories": sorted(self.categories),
                "entities": sorted(self.entities), "text": self.text, "source": self.source,
                "story_id": self.story_id, "tone": self.tone,
            }
        )  # fmt: skip

    @classmethod
    def from_json(cls, data: bytes) -> ArticleFacts:
        d = orjson.loads(data)
        return cls(
            language=d["language"], countries=frozenset(d["countries"]), categories=frozenset(d["categories"]),
            entities=frozenset(d["entities"]), text=d["text"], source=d["source"], story_id=d["story_id"],
            tone=d["tone"],
        )  # fmt: skip

    @classmethod
    def of(cls, article: EnrichedArticle) -> ArticleFacts:
        e = article.enrichment
        names: set[str] = set()
        for item in entity_items(e):
            names.add(_fold(item.name))
            names.update(_fold(a) for a in item.aliases or [])
        return cls(
            language=language(e),
            countries=frozenset(c.code.upper() for c in countries(e) if c.code),
            categories=frozenset(c.code for c in categories(e) if c.code),
            entities=frozenset(names),
            text=_fold(f"{article.title}\n{article.body}"),
            source=_fold(article.source) if article.source else None,
            story_id=article.story_id,
            tone=tone(e),
        )


@lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(_fold(term)) + r"(?!\w)")


def matches(f: SubscriptionFilter, facts: ArticleFacts) -> bool:
    """True when the article has everything ``f`` asks for."""
    if f.languages and facts.language not in f.languages:
        return False
    if f.countries and not facts.countries.intersection(f.countries):
        return False
    if f.categories and not facts.categories.intersection(f.categories):
        return False
    if f.entities and not any(_fold(x) in facts.entities for x in f.entities):
        return False
    if f.terms and not any(_term_pattern(t).search(facts.text) for t in f.terms):
        return False
    if f.sources and (facts.source is None or facts.source not in {_fold(s) for s in f.sources}):
        return False
    if f.story_ids and facts.story_id not in f.story_ids:
        return False
    if f.tone_min is not None or f.tone_max is not None:
        if facts.tone is None:
            return False
        if f.tone_min is not None and facts.tone < f.tone_min:
            return False
        if f.tone_max is not None and facts.tone > f.tone_max:
            return False
    return True
