"""What the HTTP API and the live page show: an article card and a story summary (pure)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.models import EnrichedArticle, Enrichment

from .enrichment import categories, countries, entity_items, language, tone

__all__ = ["ArticleCard", "Category", "Count", "StoryCard", "card_of"]


class Category(BaseModel):
    code: str = Field(description="IPTC Media Topics code, e.g. medtop:16000000")
    name: str


class Count(BaseModel):
    name: str
    count: float


class ArticleCard(BaseModel):
    """One article as the live stream and the story page show it."""

    id: str
    version: int
    title: str
    url: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    ingested_at: datetime
    language: str | None = None
    story_id: str | None = None
    countries: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2, most salient first")
    category: Category | None = None
    entities: list[str] = Field(default_factory=list, description="the most mentioned people, organisations, places")
    summary: str | None = None
    tone: float | None = Field(default=None, description="sentiment score, -1..1")


class StoryCard(BaseModel):
    """A story (articles grouped by enrich) as it forms: what /v1/stories lists."""

    id: str
    headline: str = Field(description="the first article's title")
    first_seen: datetime
    last_update: datetime
    article_count: int
    outlets: list[Count]
    countries: list[Count]
    entities: list[Count]
    category: Category | None = None
    articles: list[ArticleCard] = Field(default_factory=list, description="newest first")


def _entities(e: Enrichment, limit: int = 8) -> list[str]:
    items = sorted(entity_items(e), key=lambda it: -(it.mentions or 1))
    return list(dict.fromkeys(it.name for it in items))[:limit]


def card_of(article: EnrichedArticle) -> ArticleCard:
    e = article.enrichment
    top = categories(e)[:1]
    return ArticleCard(
        id=article.id,
        version=article.version,
        title=article.title,
        url=article.url,
        source=article.source,
        published_at=article.published_at,
        ingested_at=article.ingested_at,
        language=language(e),
        story_id=article.story_id,
        countries=[c.code for c in countries(e) if c.code],
        category=Category(code=top[0].code, name=top[0].name) if top and top[0].code else None,
        entities=_entities(e),
        summary=e.summary.text if e.summary else None,
        tone=tone(e),
    )
