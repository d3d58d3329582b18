"""Reading the enrichment object of an enriched article: what publish matches on and shows (pure).

The shapes are the models of ``shared/models.py`` (:class:`~shared.models.Enrichment`); a field that
is absent, or was not computed (``{"value": null, "reason": ...}``), reads as empty.
"""

from __future__ import annotations

from shared.models import CategoryItem, CountryItem, Enrichment, EntityItem

__all__ = ["categories", "countries", "entity_items", "language", "tone"]


def language(e: Enrichment) -> str | None:
    """The processing language's code, lower case."""
    return e.language.code.lower() if e.language and e.language.code else None


def tone(e: Enrichment) -> float | None:
    return e.sentiment.score if e.sentiment else None


def countries(e: Enrichment) -> list[CountryItem]:
    """The article's countries, most salient first."""
    return (e.countries.value or []) if e.countries else []


def categories(e: Enrichment) -> list[CategoryItem]:
    """The article's IPTC categories, best first."""
    return (e.category.value or []) if e.category else []


def entity_items(e: Enrichment) -> list[EntityItem]:
    """Every named entity (people, organisations, places, groups)."""
    return [item for item in e.entities.all_entities() if item.name] if e.entities else []
