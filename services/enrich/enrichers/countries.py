"""The ``countries`` field: ISO 3166-1 alpha-2 codes ranked by salience.

The ranking is :mod:`services.enrich.analysis.countries` (mentions of places,
nationalities and institutions resolved by the gazetteer, weighted by kind and
position); the field lists each country's ``code``, ``name``, ``score`` (the
top one 1.0) and ``mentions``.
"""

from __future__ import annotations

from typing import ClassVar

from shared.models import CountriesField, CountryItem

from ..analysis.countries import VERSION, CountryFinder
from ..analysis.doc import Doc
from ..analysis.gazetteer import Gazetteer
from ..analysis.nlp import SpacyPool
from .base import Fields

__all__ = ["CountriesEnricher"]


class CountriesEnricher:
    """ISO 3166-1 countries of each article, ranked by salience (see the module doc)."""

    name: ClassVar[str] = "countries"
    provides: ClassVar[tuple[str, ...]] = ("countries",)
    requires: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self, pool: SpacyPool, gazetteer: Gazetteer | None = None) -> None:
        self._pool = pool
        self._countries = CountryFinder(gazetteer)

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        self._pool.parse(docs)
        out: list[Fields] = []
        for doc in docs:
            method, ranked = self._countries.rank(doc)
            value = [CountryItem.model_validate(c) for c in ranked]
            out.append({"countries": CountriesField(value=value, method=method, version=VERSION)})
        return out
