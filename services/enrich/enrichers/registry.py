"""The enrichers newsflow runs, in order: the one place that lists them.

The cheap, model-free enrichers come first (language decides which spaCy
model the others use); ``keywords`` comes before ``summary``, which scores
sentences by keyword. Those dependencies are each enricher's ``requires``,
checked here (:func:`~services.enrich.enrichers.base.check_order`). Every
spaCy-based enricher shares one
:class:`~services.enrich.analysis.nlp.SpacyPool`, so a batch is parsed once,
by whichever of them runs first, with one ``nlp.pipe`` call per language, and
the analyses on each :class:`~services.enrich.analysis.doc.Doc` (entities,
sentences, key phrases) are computed once for all of them.
"""

from __future__ import annotations

from shared.settings import Settings

from ..analysis.nlp import SpacyPool
from .base import Enricher, check_order
from .category import CategoryEnricher
from .countries import CountriesEnricher
from .dateline import DatelineEnricher
from .entities import EntitiesEnricher
from .keywords import KeywordsEnricher
from .language import LanguageEnricher
from .quotes import QuotesEnricher
from .readability import ReadabilityEnricher
from .sentiment import SentimentEnricher
from .summary import SummaryEnricher

__all__ = ["default_enrichers"]


def default_enrichers(settings: Settings, pool: SpacyPool | None = None) -> list[Enricher]:
    """Every enricher, ready to run, in the order the enrich service calls them (each after what it
    ``requires``)."""
    pool = pool or SpacyPool(settings)
    enrichers: list[Enricher] = [
        LanguageEnricher(settings, spacy_languages=pool.model_names),
        DatelineEnricher(),
        ReadabilityEnricher(),
        EntitiesEnricher(pool),
        CountriesEnricher(pool),
        KeywordsEnricher(pool, top_n=settings.keywords_top_n),
        SummaryEnricher(pool),
        SentimentEnricher(pool),
        CategoryEnricher(pool),
        QuotesEnricher(pool),
    ]
    check_order(enrichers)
    return enrichers
