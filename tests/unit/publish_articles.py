"""Enriched articles for the publish tests, built the way enrich writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pycountry

from shared.models import EnrichedArticle, Enrichment, Origin

__all__ = ["enriched"]


def enriched(
    article_id: str = "nf_1",
    *,
    version: int = 1,
    title: str = "Strong earthquake shakes northern Japan",
    body: str = "A magnitude 6.8 earthquake struck off the coast. Tsunami advisory lifted.",
    language: str | None = "en",
    countries: tuple[str, ...] = ("JP",),
    categories: tuple[tuple[str, str], ...] = (("medtop:03000000", "disaster, accident and emergency incident"),),
    people: tuple[tuple[str, tuple[str, ...]], ...] = (("Yoshimasa Hayashi", ("Hayashi",)),),
    organizations: tuple[str, ...] = ("Japan Meteorological Agency",),
    source: str | None = "Example Wire",
    story_id: str | None = "st_jp",
    tone: float | None = -0.02,
) -> EnrichedArticle:
    e: dict[str, object] = {"enriched_at": datetime.now(UTC)}
    if language:
        e["language"] = {"code": language, "confidence": 0.99, "method": "py3langid", "version": "0.4.0"}
    e["countries"] = {
        "value": [{"code": c, "name": _country_name(c), "score": 1.0, "mentions": 1} for c in countries],
        "method": "gazetteer",
        "version": "1",
    }
    e["category"] = {
        "value": [{"code": c, "name": n, "score": 0.6} for c, n in categories],
        "method": "iptc-lexicon",
        "version": "1",
    }
    e["entities"] = {
        "people": [
            {"name": n, "mentions": 2, "first": _first(body, n), **({"aliases": list(a)} if a else {})}
            for n, a in people
        ],
        "organizations": [{"name": n, "mentions": 1, "first": _first(body, n)} for n in organizations],
        "places": [],
        "groups": [],
        "method": "spacy-ner",
        "version": "3.8",
    }
    if tone is not None:
        e["sentiment"] = {"score": tone, "label": "neutral", "method": "vader", "version": "3.3.2"}
    e["summary"] = {"text": body[:80], "method": "lead", "version": "1"}
    return EnrichedArticle(
        id=article_id, version=version, content_hash="h", title=title, body=body, raw_format="fields",
        source=source, url=f"https://example.org/{article_id}", ingested_at=datetime.now(UTC),
        origin=Origin(topic="raw", partition=0, offset=0), enrichment=Enrichment.model_validate(e),
        story_id=story_id,
    )  # fmt: skip


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def _first(body: str, name: str) -> dict[str, object]:
    """Where ``name`` is first in the body (its start when it is not in it)."""
    start = max(body.find(name), 0)
    return {"in": "body", "start": start, "end": start + len(name)}
