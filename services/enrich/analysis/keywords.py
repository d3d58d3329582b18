"""Key phrases with YAKE (the ``yake-rust`` binding), snapped to entity boundaries.

YAKE is unsupervised, per document and multilingual (its stopword lists
cover 34 languages). ``yake-rust`` gives the same algorithm as the Python
``yake`` package at about 4-5x its speed and needs no parse, so keywords cost
no spaCy work; spaCy noun chunks would need the dependency parser, which
doubles the NER-only parse time (``bench/enrich.py --keywords`` compares the
three on the evaluation set).

Post-processing: a candidate that cuts through a named entity ("White House
National" inside "White House National Security Council"), that puts
lowercase words before an entity ("top White House"), or that touches a date
("Sunday") is dropped, as is a case-insensitive repeat. YAKE reads the text spaCy parsed (clipped to
``enrich_max_chars``) with over-long sentences broken (:func:`services.enrich.analysis.caps.cap_sentences`).
``score`` is a relevance in (0, 1]: the best YAKE
score divided by the phrase's (YAKE scores are lower-is-better).

:class:`KeywordExtractor` keeps one yake-rust extractor per language and
stores an article's phrases in ``Doc.keywords`` (the keywords field computes
them; the summary, after it, reads them). :func:`stopwords` gives YAKE's
stopword lists to the story index.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib.metadata import version
from typing import TYPE_CHECKING, TypedDict

import yake_rust

from shared.textfold import fold_name as fold

from .caps import cap_sentences
from .entities import doc_ents

if TYPE_CHECKING:
    from .doc import Doc

__all__ = ["VERSION", "YAKE_LANGUAGES", "Keyword", "KeywordExtractor", "extract_keywords", "stopwords", "yake_language"]

VERSION = version("yake-rust")
# Languages with a stopword list in yake-rust (an unknown one makes it panic).
YAKE_LANGUAGES = frozenset(
    "ar bg br cz da de el en es et fa fi fr hi hr hu hy id it ja lt lv nl no pl pt ro ru sk sl sv tr uk zh".split()
)
_ISO_TO_YAKE = {"cs": "cz"}
_CANDIDATES = 30
_DATE_LABELS = frozenset({"DATE", "TIME"})


class Keyword(TypedDict):
    """One key phrase, as the keywords field lists it."""

    text: str
    score: float  # relevance in (0, 1], 1 for the best phrase


def yake_language(lang: str) -> str | None:
    """yake-rust's code for the ISO 639-1 ``lang`` (``cs`` is ``cz``), None when it has no stopword list."""
    ylang = _ISO_TO_YAKE.get(lang, lang)
    return ylang if ylang in YAKE_LANGUAGES else None


@functools.cache
def stopwords(lang: str) -> frozenset[str]:
    """YAKE's stopword list of ``lang`` (a yake-rust code; English when yake-rust has none for it), folded."""
    return frozenset(fold(w) for w in yake_rust.Yake(language=lang if lang in YAKE_LANGUAGES else "en").stopwords)


def extract_keywords(
    extractor: yake_rust.Yake,
    text: str,
    entity_spans: list[tuple[int, int]],
    top_n: int,
    date_spans: Sequence[tuple[int, int]] = (),
) -> list[Keyword]:
    """The ``top_n`` best YAKE phrases of ``text``.

    Dropped: phrases that cut through an entity span, that put lowercase
    words before an entity ("top White House"), that touch a date or time
    ("Sunday"), that contain digits, and case-insensitive repeats.
    """
    lowered = text.lower()
    kept: list[tuple[str, float]] = []
    seen: set[str] = set()
    # capped: yake-rust panics on a very long sentence (caps.py); phrases are looked up in ``text``.
    # yake-rust returns tied scores in hash order (and sums them in it, so a tie can differ in its last
    # bits) from run to run: scores are compared to 12 places and ties go by phrase.
    candidates = sorted(
        extractor.get_n_best(cap_sentences(text), n=_CANDIDATES), key=lambda ps: (round(ps[1], 12), ps[0])
    )
    for phrase, score in candidates:
        key = fold(phrase)
        if not key or key in seen or any(c.isdigit() for c in phrase):
            continue
        start = lowered.find(phrase.lower())
        if start >= 0:
            end = start + len(phrase)
            if _cuts_entity(start, end, entity_spans) or any(a < end and start < b for a, b in date_spans):
                continue
            if any(start < a < end and b <= end and text[start:a].strip().islower() for a, b in entity_spans):
                continue
        seen.add(key)
        kept.append((phrase, score))
        if len(kept) == top_n:
            break
    if not kept:
        return []
    best = min(s for _, s in kept) or 1e-9
    return [{"text": p, "score": round(min(1.0, best / s) if s > 0 else 1.0, 4)} for p, s in kept]


def _cuts_entity(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """True if [start, end) overlaps an entity without containing it whole."""
    return any(a < end and start < b and not (start <= a and b <= end) for a, b in spans)


class KeywordExtractor:
    """Key phrases of parsed docs (see the module doc): one yake-rust extractor per language, built on first use."""

    def __init__(self, top_n: int = 10) -> None:
        self.top_n = top_n
        self._extractors: dict[str, yake_rust.Yake] = {}

    def _extractor(self, ylang: str) -> yake_rust.Yake:
        if ylang not in self._extractors:
            self._extractors[ylang] = yake_rust.Yake(language=ylang, ngrams=3)
        return self._extractors[ylang]

    def of(self, doc: Doc, ylang: str) -> list[Keyword]:
        """The key phrases of the parsed ``doc`` in yake-rust's language ``ylang`` (:func:`yake_language`),
        snapped to its entities and clear of its dates; computed once, kept in ``doc.keywords``."""
        if doc.keywords is None:
            spans = [s for e in doc.entities or [] for s in e.spans]
            dates = [(e.start_char, e.end_char) for e in doc_ents(doc.spacy) if e.label_ in _DATE_LABELS]
            # the text spaCy parsed: clipped to enrich_max_chars, so YAKE's work is bounded too
            doc.keywords = extract_keywords(self._extractor(ylang), doc.parsed_text, spans, self.top_n, dates)
        return doc.keywords
