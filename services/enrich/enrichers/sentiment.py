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

from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentimentIntensityAnalyzer, SentiText

from shared.models import SentenceCounts, SentimentField

from ..analysis.doc import Doc
from ..analysis.nlp import SpacyPool
from .base import Fields

__all__ = ["Label", "SentenceVader", "SentimentEnricher", "label_of", "score_sentences"]

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


class SentenceVader(SentimentIntensityAnalyzer):  # type: ignore[misc]  # vaderSentiment ships no types
    """VADER with :meth:`compound`: ``polarity_scores(text)["compound"]``, the same number at less cost."""

    def __init__(self) -> None:
        super().__init__()
        # polarity_scores swaps emojis for words one character at a time: only one-character keys can match
        self._emoji_chars = frozenset(k for k in self.emojis if len(k) == 1)

    def compound(self, text: str) -> float:
        """VADER's compound score of ``text``. A text with an emoji goes through ``polarity_scores`` whole;
        otherwise its character-by-character emoji pass (a copy of the text, one character at a time) is
        skipped, as it would change nothing, and a text with no lexicon word is 0.0 at once (every word's
        valence is then 0, and so is their normalised sum). The rest is ``polarity_scores``' own steps
        (vaderSentiment 3.3.2, pinned; ``tests/unit/test_enrichers.py`` checks the two agree)."""
        if not self._emoji_chars.isdisjoint(text):
            return float(self.polarity_scores(text)["compound"])
        text = text.strip()
        sentitext = SentiText(text)
        words: list[str] = sentitext.words_and_emoticons
        lexicon = self.lexicon
        if not any(w.lower() in lexicon for w in words):
            return 0.0
        sentiments: list[float] = []
        for i, item in enumerate(words):
            low = item.lower()
            if low in BOOSTER_DICT or (i < len(words) - 1 and low == "kind" and words[i + 1].lower() == "of"):
                sentiments.append(0)  # a modifier, not a sentiment of its own
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        return float(self.score_valence(sentiments, text)["compound"])


def score_sentences(analyzer: SentenceVader, sentences: list[str]) -> SentimentField:
    """The field: mean VADER compound over ``sentences``, its label, and a count per label."""
    compounds: list[float] = [analyzer.compound(s) for s in sentences]
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
        self._analyzer = SentenceVader()

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
