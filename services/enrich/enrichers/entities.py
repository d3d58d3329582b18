"""The ``entities`` field: people, organisations, places and groups, merged per article.

The merging is :mod:`services.enrich.analysis.entities` (:attr:`Doc.entities`);
this field lists each entity under its group with its name, mention count,
first mention (``{"in": "title"|"body", "start", "end"}``), the other forms it
appeared in (``aliases``: for a person, also a mention as written with the
title the name was cut from, "Mme Roux") and, for a place or group naming a
country, its ISO code.
"""

from __future__ import annotations

from typing import ClassVar

from shared.models import EntitiesField, EntityItem

from ..analysis.doc import Doc
from ..analysis.entities import ENTITY_TYPES, Entity, method_of
from ..analysis.nlp import SpacyPool
from .base import Fields

__all__ = ["EntitiesEnricher"]


class EntitiesEnricher:
    """People, organisations, places and groups of each article (see the module doc)."""

    name: ClassVar[str] = "entities"
    provides: ClassVar[tuple[str, ...]] = ("entities",)
    requires: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self, pool: SpacyPool) -> None:
        self._pool = pool

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        self._pool.parse(docs)
        out: list[Fields] = []
        for doc in docs:
            method, version = method_of(doc.model)
            ents = doc.entities
            if ents is None:
                reason = f"no spaCy model for language {doc.processing_language!r}"
                nulls = EntitiesField.unavailable(
                    method, version, reason, people=None, organizations=None, places=None, groups=None
                )
                out.append({"entities": nulls})
                continue
            groups: dict[str, list[EntityItem]] = {k: [] for k in ENTITY_TYPES.values()}
            for e in ents:
                groups[ENTITY_TYPES[e.type]].append(_item(doc, e))
            found = EntitiesField(
                people=groups["people"], organizations=groups["organizations"], places=groups["places"],
                groups=groups["groups"], method=method, version=version,
            )  # fmt: skip
            out.append({"entities": found})
        return out


def _item(doc: Doc, e: Entity) -> EntityItem:
    """One entity of ``doc`` as the field lists it: ``aliases`` and ``country`` written only when it has them."""
    aliases = sorted(e.forms - {e.name})
    item = EntityItem(name=e.name, mentions=e.mentions, first=doc.locate(*e.first))
    if aliases:
        item.aliases = aliases
    if e.country:
        item.country = e.country
    return item
