"""One article going through the enrichers, and what is computed about it once for all of them.

A :class:`Doc` holds the article, the fields the enrichers have written so far
(``fields``: each field's model from :mod:`shared.models` by name, read typed
with :meth:`Doc.field`; the ``language`` field decides
:attr:`Doc.processing_language`) and typed analyses, each computed once and
shared by every field that reads it:

- ``parsed``: the spaCy parse (:class:`~services.enrich.analysis.nlp.Parsed`),
  set for a whole batch by :meth:`SpacyPool.parse
  <services.enrich.analysis.nlp.SpacyPool.parse>` (one ``nlp.pipe`` call per
  language); :attr:`~Doc.spacy`, :attr:`~Doc.parsed_text` and
  :attr:`~Doc.model` read it, and raise before it is set;
- :attr:`~Doc.sentences` and :attr:`~Doc.entities`, computed from the parse
  on first use;
- ``keywords``: the key phrases, set by
  :meth:`KeywordExtractor.of <services.enrich.analysis.keywords.KeywordExtractor.of>`
  (the keywords field) for the fields after it (the summary);
- ``over_budget``: the enricher that ran over this article's time budget
  (set by the pipeline; the enrichers after it skip the article).

:meth:`Doc.release` drops the analyses (a spaCy ``Doc`` is large) once every
field is written; ``fields`` and ``over_budget`` stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from shared.models import FIELD_MODELS, Article, EnrichmentField, LanguageField, TextSpan

from .entities import Entity, extract_entities
from .langcodes import iso639_1

if TYPE_CHECKING:
    from spacy.tokens import Doc as SpacyDoc

    from .keywords import Keyword
    from .nlp import ModelInfo, Parsed

__all__ = ["Doc"]

F = TypeVar("F", bound=EnrichmentField)
_NAMES = {model: name for name, model in FIELD_MODELS.items()}


@dataclass
class Doc:
    """One article going through the enrichers (see the module doc)."""

    article: Article
    fields: dict[str, EnrichmentField] = dc_field(default_factory=dict)
    parsed: Parsed | None = None
    keywords: list[Keyword] | None = None
    over_budget: str | None = None

    @property
    def text(self) -> str:
        """Headline and body, the text most enrichers read."""
        return f"{self.article.title}\n\n{self.article.body}" if self.article.title else self.article.body

    def field(self, model: type[F]) -> F:
        """The field written as ``model`` (``doc.field(EntitiesField).people``); KeyError before it is written."""
        found = self.field_or_none(model)
        if found is None:
            raise KeyError(f"article {self.article.id} has no {_NAMES[model]!r} field yet")
        return found

    def field_or_none(self, model: type[F]) -> F | None:
        """The field written as ``model``, None before it is written (the field's name is its name in
        :class:`~shared.models.Enrichment`, :data:`~shared.models.FIELD_MODELS`)."""
        found = self.fields.get(_NAMES[model])
        if found is not None and not isinstance(found, model):
            raise TypeError(f"the {_NAMES[model]!r} field is a {type(found).__name__}, not a {model.__name__}")
        return found

    @property
    def language(self) -> str | None:
        """The ISO 639-1 code the article is processed in (the ``language`` field's ``code``), once decided."""
        lang = self.field_or_none(LanguageField)
        return lang.code if lang else None

    @property
    def processing_language(self) -> str:
        """The language to process the article in: the ``language`` field's ``code``, else (the language
        enricher not run) the declared language as ISO 639-1, else English. Never a truncated code."""
        return self.language or iso639_1(self.article.language) or "en"

    # -- the parse (set by SpacyPool.parse) ------------------------------------

    def _parse(self) -> Parsed:
        if self.parsed is None:
            raise RuntimeError(f"article {self.article.id} is not parsed: SpacyPool.parse its batch first")
        return self.parsed

    @property
    def spacy(self) -> SpacyDoc:
        """The spaCy ``Doc`` of :attr:`parsed_text`."""
        return self._parse().spacy

    @property
    def parsed_text(self) -> str:
        """The text spaCy parsed: headline and body, clipped to ``enrich_max_chars``."""
        return self._parse().text

    @property
    def model(self) -> ModelInfo:
        """The pipeline that parsed the article."""
        return self._parse().model

    # -- computed from the parse on first use ---------------------------------

    @cached_property
    def sentences(self) -> list[tuple[int, int]]:
        """``(start_char, end_char)`` of each sentence of :attr:`parsed_text`."""
        return [(s.start_char, s.end_char) for s in self.spacy.sents]

    @cached_property
    def entities(self) -> list[Entity] | None:
        """The merged entities (:mod:`services.enrich.analysis.entities`); None if the language has no NER model."""
        return extract_entities(self.spacy, lang=self.model.lang) if self.model.has_ner else None

    def locate(self, start: int, end: int) -> TextSpan:
        """Offsets into :attr:`text` as offsets into the article's title or body."""
        title = self.article.title
        if title and start < len(title):
            span = {"in": "title", "start": start, "end": min(end, len(title))}
        else:
            shift = len(title) + 2 if title else 0
            span = {"in": "body", "start": start - shift, "end": end - shift}
        return TextSpan.model_validate(span)  # by its wire keys: "in" is a Python keyword

    def release(self) -> None:
        """Drop every analysis (the parse, sentences, entities, keywords); ``fields`` and ``over_budget`` stay."""
        self.parsed = None
        self.keywords = None
        for name in ("sentences", "entities"):
            self.__dict__.pop(name, None)
