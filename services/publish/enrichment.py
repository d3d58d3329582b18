"""Reading the enrichment object of an enriched article: the one place publish knows its shapes (pure).

Fields that were not computed (``{"value": null, "reason": ...}``) read as empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["ENTITY_GROUPS", "entity_items", "language", "tone", "values"]

ENTITY_GROUPS = ("people", "organizations", "places", "groups")


def values(payload: Any) -> list[dict[str, Any]]:
    """The list in an enrichment field's ``value`` (empty when it was not computed)."""
    value = payload.get("value") if isinstance(payload, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def language(e: dict[str, Any]) -> str | None:
    lang = e.get("language")
    return str(lang["code"]).lower() if isinstance(lang, dict) and lang.get("code") else None


def tone(e: dict[str, Any]) -> float | None:
    sentiment = e.get("sentiment")
    score = sentiment.get("score") if isinstance(sentiment, dict) else None
    return float(score) if isinstance(score, int | float) else None


def entity_items(e: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every entity entry (``name``, ``mentions``, ``aliases``...) of every group."""
    ents = e.get("entities")
    if not isinstance(ents, dict):
        return
    for group in ENTITY_GROUPS:
        for item in ents.get(group) or []:
            if isinstance(item, dict) and item.get("name"):
                yield item
