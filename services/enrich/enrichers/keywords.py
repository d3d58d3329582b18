"""The ``keywords`` field: the article's key phrases (YAKE), each with a relevance ``score``.

The extraction is :mod:`services.enrich.analysis.keywords` (yake-rust,
snapped to entity boundaries); the field lists the phrases and the YAKE
language they were read in, or says why there are none (no stopword list for
the language). The phrases stay in ``Doc.keywords`` for the summary.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..analysis.doc import Doc
from ..analysis.keywords import VERSION, KeywordExtractor, yake_language
from ..analysis.nlp import SpacyPool
from .base import field, unavailable

__all__ = ["KeywordsEnricher"]


class KeywordsEnricher:
    """Top key phrases per article (see the module doc). Setting: ``keywords_top_n`` (10)."""

    name: ClassVar[str] = "keywords"
    provides: ClassVar[tuple[str, ...]] = ("keywords",)
    requires: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self, pool: SpacyPool, top_n: int = 10) -> None:
        self._pool = pool
        self._keywords = KeywordExtractor(top_n)

    def enrich(self, docs: list[Doc]) -> list[dict[str, dict[str, Any]]]:
        self._pool.parse([d for d in docs if yake_language(d.processing_language)])
        out = []
        for doc in docs:
            lang = doc.processing_language
            ylang = yake_language(lang)
            if ylang is None:
                out.append({"keywords": unavailable("yake-rust", VERSION, f"no YAKE stopword list for {lang!r}")})
                continue
            kws = self._keywords.of(doc, ylang)
            out.append({"keywords": field("yake-rust", VERSION, value=kws, language=ylang)})
        return out
