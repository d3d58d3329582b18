"""The enrichers the service runs, in order."""

from __future__ import annotations

from shared.settings import Settings

from .base import Enricher
from .dateline import DatelineEnricher
from .language import LanguageEnricher
from .readability import ReadabilityEnricher

__all__ = ["default_enrichers"]


def default_enrichers(settings: Settings) -> list[Enricher]:
    return [LanguageEnricher(), DatelineEnricher(), ReadabilityEnricher()]
