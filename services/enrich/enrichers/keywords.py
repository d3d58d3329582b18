"""The ``keywords`` field: the article's key phrases (YAKE), each with a relevance ``score``.

The extraction is :mod:`services.enrich.analysis.keywords` (yake-rust,
snapped to entity boundaries); the field lists the phrases and the YAKE
language they were read in, or says why there are none (no stopword list for
the language). The phrases stay in ``Doc.keywords`` for the summary.
"""

from __future__ import annotations

from typing import ClassVar

from shared.models import KeywordItem, KeywordsField

from ..analysis.doc import Doc
from ..analysis.keywords import VERSION, KeywordExtractor, yake_language
from ..analysis.nlp import SpacyPool
from .base import Fields

__all__ = ["KeywordsEnricher"]

_METHOD = "yake-rust"


class KeywordsEnricher:
    """Top key phrases per article (see the module doc). Setting: ``keywords_top_n`` (10)."""

    name: ClassVar[str] = "keywords"
    provides: ClassVar[tuple[str, ...]] = ("keywords",)
    requires: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self, pool: SpacyPool, top_n: int = 10) -> None:
        self._pool = pool
        self._keywords = KeywordExtractor(top_n)

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        self._pool.parse([d for d in docs if yake_language(d.processing_language)])
        out: list[Fields] = []
        for doc in docs:
            lang = doc.processing_language
            ylang = yake_language(lang)
            if ylang is None:
                reason = f"no YAKE stopword list for {lang!r}"
                out.append({"keywords": KeywordsField.unavailable(_METHOD, VERSION, reason)})
                continue
            value = [KeywordItem(text=k["text"], score=k["score"]) for k in self._keywords.of(doc, ylang)]
            out.append({"keywords": KeywordsField(value=value, language=ylang, method=_METHOD, version=VERSION)})
        return out
