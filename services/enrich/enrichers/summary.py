"""A 2-3 sentence extractive summary that starts from the lead.

Method (``lead+overlap``):

1. Candidate sentences are the body's, minus photo captions
   (:func:`shared.captions.is_photo_caption`, the detector ingest uses: a
   picture credit at the end, ``Photo:`` at the start, or an agency credit
   after a caption's date), sub-headings (a paragraph with no final
   punctuation), fragments of fewer than 6 words, and any sentence that
   repeats the headline (word overlap >= 60 %).
2. The first candidate is the lead and always opens the summary.
3. Every other candidate scores the keywords it contains (their relevance)
   plus the entities it mentions (each weighted by its share of all entity
   mentions), divided by the square root of its length so long sentences do
   not win by size; a sentence that opens with a quotation mark counts 0.7x,
   and one sharing more than half of its words with a chosen sentence is
   skipped. The keywords are those of the keywords field, which runs before
   this one (``requires``); with none, entities alone score.
4. The best one or two are added (two when the lead is under 250
   characters), and the summary lists the chosen sentences in article order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import regex

from shared.captions import is_photo_caption
from shared.models import SummaryField

from ..analysis.doc import Doc
from ..analysis.keywords import Keyword
from ..analysis.nlp import SpacyPool
from .base import Fields

__all__ = ["SummaryEnricher", "summarize"]

VERSION = "1"
_TERMINAL = tuple(".!?\"”»’')…")
_WORD = regex.compile(r"[\p{L}\p{N}]+")
_QUOTE_START = tuple('"“«„')


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def summarize(
    sentences: list[tuple[int, str]],
    paragraphs: dict[int, str],
    title: str,
    keywords: Sequence[Keyword],
    entity_terms: dict[str, float],
) -> list[str]:
    """The summary sentences of one article, in article order.

    ``sentences`` are ``(paragraph index, text)`` of the body in order,
    ``paragraphs`` the paragraph texts by index (for caption/sub-heading
    tests), ``keywords`` the keyword field values and ``entity_terms`` entity
    surface forms with their weights.
    """
    title_words = _words(title)
    cands: list[str] = []
    for para, text in sentences:
        ptext = paragraphs.get(para, text).strip()
        if is_photo_caption(ptext) or not ptext.endswith(_TERMINAL):
            continue
        words = _words(text)
        if len(words) < 6 or (
            title_words and _overlap(words, title_words) >= 0.6 and len(words) <= len(title_words) + 3
        ):
            continue
        cands.append(text)
    if not cands:
        return []
    lead = cands[0]
    chosen = {0}
    want = 2 if len(lead) < 250 else 1
    lower_kws = [(k["text"].lower(), float(k.get("score", 1.0))) for k in keywords]
    scored = []
    for i, text in enumerate(cands[1:], start=1):
        low = text.lower()
        score = sum(s for k, s in lower_kws if k in low) + sum(w for term, w in entity_terms.items() if term in text)
        score /= math.sqrt(max(1, len(text.split())))
        if text.lstrip().startswith(_QUOTE_START):
            score *= 0.7
        scored.append((score, i))
    for score, i in sorted(scored, key=lambda x: (-x[0], x[1])):
        if len(chosen) > want or score <= 0:
            break
        words = _words(cands[i])
        if any(_overlap(words, _words(cands[j])) > 0.5 for j in chosen):
            continue
        chosen.add(i)
    return [cands[i] for i in sorted(chosen)]


class SummaryEnricher:
    """Lead-based extractive summary (see the module doc)."""

    name: ClassVar[str] = "summary"
    provides: ClassVar[tuple[str, ...]] = ("summary",)
    requires: ClassVar[tuple[str, ...]] = ("language", "keywords")

    def __init__(self, pool: SpacyPool) -> None:
        self._pool = pool

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        self._pool.parse(docs)
        out: list[Fields] = []
        for doc in docs:
            title = doc.article.title or ""
            body_start = len(title) + 2 if title else 0
            paragraphs: dict[int, str] = {}
            starts = []
            pos = body_start
            for i, para in enumerate(doc.text[body_start:].split("\n")):
                paragraphs[i] = para
                starts.append(pos)
                pos += len(para) + 1
            sentences = []
            p = 0
            text = doc.parsed_text
            for start, end in doc.sentences:
                if start < body_start or text[start:end].isspace():
                    continue
                while p + 1 < len(starts) and starts[p + 1] <= start:
                    p += 1
                sentences.append((p, text[start:end].strip()))
            ents = doc.entities or []
            total = sum(e.mentions for e in ents) or 1
            terms = {s: e.mentions / total for e in ents for s in set(e.surfaces)}
            keywords = doc.keywords or []
            chosen = summarize(sentences, paragraphs, title, keywords, terms)
            summary = SummaryField(text=" ".join(chosen), sentences=chosen, method="lead+overlap", version=VERSION)
            out.append({"summary": summary})
        return out
