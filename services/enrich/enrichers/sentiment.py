"""Tone of an article: VADER over its sentences, English only.

VADER scores each sentence (headline included) with a compound value in
[-1, 1]; the article's ``score`` is their mean, so a long neutral report with
one angry quote stays near neutral while a story of attacks and threats
leans negative. ``label`` is ``negative`` below -0.05, ``positive`` above
0.05, else ``neutral`` (VADER's own thresholds). Sentences are also counted
by label.

VADER's lexicon is English: for any other language the field is null with
the reason, never an English score of foreign words.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import ClassVar, Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from shared.models import SentenceCounts, SentimentField

from ..analysis.doc import Doc
from ..analysis.nlp import SpacyPool
from .base import Fields

__all__ = ["Label", "SentimentEnricher", "label_of", "score_sentences"]

_VERSION = version("vadersentiment")
_METHOD = "vader-sentence-mean"
THRESHOLD = 0.05
Label = Literal["negative", "neutral", "positive"]


def label_of(score: float) -> Label:
    """``negative`` / ``neutral`` / ``positive`` for a compound score."""
    if score <= -THRESHOLD:
        return "negative"
    if score >= THRESHOLD:
        return "positive"
    return "neutral"


def score_sentences(analyzer: SentimentIntensityAnalyzer, sentences: list[str]) -> SentimentField:
    """The field: mean VADER compound over ``sentences``, its label, and a count per label."""
    compounds: list[float] = [analyzer.polarity_scores(s)["compound"] for s in sentences]
    mean = sum(compounds) / len(compounds) if compounds else 0.0
    counts: dict[Label, int] = {"negative": 0, "neutral": 0, "positive": 0}
    for c in compounds:
        counts[label_of(c)] += 1
    by_label = SentenceCounts(negative=counts["negative"], neutral=counts["neutral"], positive=counts["positive"])
    score = round(mean, 4)
    return SentimentField(score=score, label=label_of(mean), sentences=by_label, method=_METHOD, version=_VERSION)


class SentimentEnricher:
    """Sentence-level VADER tone for English articles (see the module doc)."""

    name: ClassVar[str] = "sentiment"
    provides: ClassVar[tuple[str, ...]] = ("sentiment",)
    requires: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self, pool: SpacyPool) -> None:
        self._pool = pool
        self._analyzer = SentimentIntensityAnalyzer()

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        self._pool.parse([d for d in docs if d.processing_language == "en"])
        out: list[Fields] = []
        for doc in docs:
            lang = doc.processing_language
            if lang != "en":
                reason = f"VADER is English-only; no sentiment model for language {lang!r}"
                out.append({"sentiment": SentimentField.unavailable(_METHOD, _VERSION, reason, score=None, label=None)})
                continue
            text = doc.parsed_text
            sentences = [text[a:b].strip() for a, b in doc.sentences if not text[a:b].isspace()]
            out.append({"sentiment": score_sentences(self._analyzer, sentences)})
        return out
