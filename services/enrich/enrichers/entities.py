"""The ``entities`` field: people, organisations, places and groups, merged per article.

The merging is :mod:`services.enrich.analysis.entities` (:attr:`Doc.entities`);
this field lists each entity under its group with its name, mention count,
first mention (``{"in": "title"|"body", "start", "end"}``), the other forms it
appeared in (``aliases``) and, for a place or group naming a country, its
ISO code.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..analysis.doc import Doc
from ..analysis.entities import ENTITY_TYPES, method_of
from ..analysis.nlp import SpacyPool
from .base import field, unavailable

__all__ = ["EntitiesEnricher"]


class EntitiesEnricher:
    """People, organisations, places and groups of each article (see the module doc)."""

    name: ClassVar[str] = "entities"
    provides: ClassVar[tuple[str, ...]] = ("entities",)
    requires: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self, pool: SpacyPool) -> None:
        self._pool = pool

    def enrich(self, docs: list[Doc]) -> list[dict[str, dict[str, Any]]]:
        self._pool.parse(docs)
        out = []
        for doc in docs:
            method, version = method_of(doc.model)
            ents = doc.entities
            if ents is None:
                reason = f"no spaCy model for language {doc.processing_language!r}"
                out.append(
                    {"entities": unavailable(method, version, reason, **{k: None for k in ENTITY_TYPES.values()})}
                )
                continue
            groups: dict[str, list[dict[str, Any]]] = {k: [] for k in ENTITY_TYPES.values()}
            for e in ents:
                item: dict[str, Any] = {"name": e.name, "mentions": e.mentions, "first": doc.locate(*e.first)}
                aliases = sorted({s for s in e.surfaces if s != e.name})
                if aliases:
                    item["aliases"] = aliases
                if e.country:
                    item["country"] = e.country
                groups[ENTITY_TYPES[e.type]].append(item)
            out.append({"entities": field(method, version, **groups)})
        return out
