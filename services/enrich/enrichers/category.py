"""IPTC Media Topics (top level) from weighted cue lexicons and entity cues.

The vocabulary ships in ``services/enrich/data/iptc_mediatopics.yaml``: the
17 top-level Media Topics with IPTC's codes, names and definitions, and for
each, cue words and phrases per language (English, French, Spanish, German,
Portuguese, Italian, Dutch, Arabic) with weights 1-3, plus entity names
("FIFA", "Hamas", "NASA").

Scoring, for each topic::

    raw = sum over cues found:      weight * (1 + ln(count))
        + sum over entity cues:     2 * (1 + ln(mentions))

where ``count`` is the number of occurrences in the body plus twice those in
the headline (the headline says what the story is filed under). Words are
compared lowercase and without accents (Arabic also without the article and
the prepositions written onto it: "والحكومة" is "حكومة"); ``stem*`` cues
match any word starting with the stem; a word counts once per topic, for the
strongest cue it matches. Cues of weight 1 are hints ("game", "team", "court",
"attack": words that ordinary copy uses in every topic): a topic is a
candidate only with a cue of weight 2 or more or an entity cue, and hints
only add to it; when no topic has one, the topics with hints are the
candidates. A topic's ``score`` is its share of all candidates' raw scores;
topics with a share of at least 0.12 are listed (at most three, best first;
the best is always listed). An article with no cue at all gets an empty
list. A language without a lexicon gets a null field with the reason.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import regex
import yaml

from shared.models import CategoryField, CategoryItem
from shared.textfold import fold_accents
from shared.textfold import fold_name as fold

from ..analysis.doc import Doc
from ..analysis.nlp import SpacyPool
from .base import Fields

__all__ = ["CategoryEnricher", "Lexicon", "Topic", "load_lexicon"]

_DATA = Path(__file__).resolve().parent.parent / "data" / "iptc_mediatopics.yaml"
_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}'\-]*")
# Arabic writes the article and some prepositions onto the word (al-, wa-al-, bi-al-, li-l-): cues and the
# article's words are compared without them ("والحكومة", "الحكومة" and "حكومة" are one word).
_AR_PROCLITICS = regex.compile(r"^(?:[وف]?(?:بال|كال|لل|ال))(?=\p{L}{2})")
MIN_SHARE = 0.12
MAX_TOPICS = 3
ENTITY_WEIGHT = 2.0
HINT_BELOW = 2.0  # cues weighted below this are hints: they count only beside a stronger cue
_METHOD = "iptc-lexicon"


@dataclass(frozen=True)
class Topic:
    """One IPTC Media Topic and its cues per language."""

    code: str
    name: str
    words: dict[str, dict[str, float]]  # lang -> exact word -> weight
    prefixes: dict[str, dict[str, float]]  # lang -> stem -> weight
    phrases: dict[str, list[tuple[tuple[str, ...], bool, float]]]  # lang -> (words, last is a stem, weight)
    entities: frozenset[str]
    definition: str = ""  # IPTC's definition of the topic (English)


_Hit = tuple[str, int, float]  # the cue as written, topic index, weight
_CACHE_WORDS = 50_000  # words whose hits are kept (a few MB); the cache starts over past it


@dataclass(frozen=True)
class _Index:
    """One language's cues of every topic, keyed by what an article's words are looked up by, and the
    cues each word seen so far hits (words repeat from article to article: one dict look-up each)."""

    words: dict[str, list[_Hit]]  # word -> hits
    stems: dict[str, list[_Hit]]  # stem -> hits
    phrases: dict[tuple[str, ...], list[_Hit]]  # the phrase's words -> hits
    stem_phrases: dict[tuple[str, ...], list[tuple[str, _Hit]]]  # all words but the last -> (last stem, hit)
    firsts: frozenset[str]  # first words of the phrases
    phrase_sizes: tuple[int, ...]
    stem_sizes: range
    cache: dict[str, tuple[_Hit, ...]] = field(default_factory=dict, compare=False)

    def word_hits(self, word: str) -> tuple[_Hit, ...]:
        """The word and ``stem*`` cues ``word`` hits: per topic, the strongest (the exact word first)."""
        hits = self.cache.get(word)
        if hits is None:
            found = list(self.words.get(word, ()))
            for k in self.stem_sizes:
                if k > len(word):
                    break
                found.extend(self.stems.get(word[:k], ()))
            best: dict[int, _Hit] = {}  # a word counts once per topic, for its strongest cue
            for hit in found:
                if hit[1] not in best or hit[2] > best[hit[1]][2]:
                    best[hit[1]] = hit
            if len(self.cache) >= _CACHE_WORDS:
                self.cache.clear()
            hits = self.cache[word] = tuple(best.values())
        return hits

    def phrase_hits(self, words: list[str], weight: int, out: Counter[_Hit]) -> None:
        """Add the phrase cues found in ``words`` (each occurrence counted ``weight`` times) to ``out``."""
        for start, first in enumerate(words):
            if first not in self.firsts:
                continue
            for n in self.phrase_sizes:
                gram = tuple(words[start : start + n])
                if len(gram) < n:
                    break
                for hit in self.phrases.get(gram, ()):
                    out[hit] += weight
                for last, hit in self.stem_phrases.get(gram[:-1], ()):
                    if gram[-1].startswith(last):
                        out[hit] += weight


def _index(topics: tuple[Topic, ...], lang: str) -> _Index:
    words: dict[str, list[_Hit]] = {}
    stems: dict[str, list[_Hit]] = {}
    phrases: dict[tuple[str, ...], list[_Hit]] = {}
    stem_phrases: dict[tuple[str, ...], list[tuple[str, _Hit]]] = {}
    for i, topic in enumerate(topics):
        for word, weight in topic.words.get(lang, {}).items():
            words.setdefault(word, []).append((word, i, weight))
        for stem, weight in topic.prefixes.get(lang, {}).items():
            stems.setdefault(stem, []).append((stem + "*", i, weight))
        for parts, is_stem, weight in topic.phrases.get(lang, []):
            hit = (" ".join(parts) + ("*" if is_stem else ""), i, weight)
            if is_stem:
                stem_phrases.setdefault(parts[:-1], []).append((parts[-1], hit))
            else:
                phrases.setdefault(parts, []).append(hit)
    all_phrases = [*phrases, *((*head, last) for head, lasts in stem_phrases.items() for last, _ in lasts)]
    lengths = [len(s) for s in stems] or [1]
    return _Index(
        words, stems, phrases, stem_phrases,
        firsts=frozenset(p[0] for p in all_phrases),
        phrase_sizes=tuple(sorted({len(p) for p in all_phrases})),
        stem_sizes=range(min(lengths), max(lengths) + 1),
    )  # fmt: skip


@dataclass(frozen=True)
class Lexicon:
    """The IPTC vocabulary with cues, as loaded from the YAML file."""

    version: str
    topics: tuple[Topic, ...]
    languages: frozenset[str]
    _indexes: dict[str, _Index] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_indexes", {lang: _index(self.topics, lang) for lang in self.languages})

    def score(self, title: str, body: str, lang: str, entity_mentions: dict[str, int]) -> list[CategoryItem]:
        """Topics of an article, best first, each ``{code, name, score}`` (see the module doc)."""
        index = self._indexes.get(lang) or _index(self.topics, lang)
        body_words = _words(body, lang)
        title_words = _words(title, lang)
        words = Counter(body_words)
        for w in title_words:
            words[w] += 2
        counts: Counter[_Hit] = Counter()
        for word, count in words.items():
            for hit in index.word_hits(word):
                counts[hit] += count
        index.phrase_hits(body_words, 1, counts)
        index.phrase_hits(title_words, 2, counts)
        for i, topic in enumerate(self.topics):
            for name, mentions in entity_mentions.items():
                if name in topic.entities:
                    counts[(name, i, ENTITY_WEIGHT)] += mentions
        cues = [0.0] * len(self.topics)
        hints = [0.0] * len(self.topics)
        for (_, i, weight), count in counts.items():
            (hints if weight < HINT_BELOW else cues)[i] += weight * (1 + math.log(count))
        strong = {t.code: cues[i] + hints[i] for i, t in enumerate(self.topics) if cues[i] > 0}
        raw = strong or {t.code: hints[i] for i, t in enumerate(self.topics) if hints[i] > 0}
        grand = sum(raw.values())
        if not grand:
            return []
        names = {t.code: t.name for t in self.topics}
        ranked = sorted(raw, key=lambda c: (-raw[c], c))
        return [
            CategoryItem(code=c, name=names[c], score=round(raw[c] / grand, 3))
            for i, c in enumerate(ranked[:MAX_TOPICS])
            if i == 0 or raw[c] / grand >= MIN_SHARE
        ]


def _words(text: str, lang: str) -> list[str]:
    """The words of ``text`` as cues are written: lowercase, no accents (and for Arabic, no proclitics)."""
    words = _WORD.findall(fold_accents(text))
    return [_AR_PROCLITICS.sub("", w) for w in words] if lang == "ar" else words


@lru_cache(maxsize=4)
def load_lexicon(path: Path = _DATA) -> Lexicon:
    """Read and compile the IPTC vocabulary file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    topics = []
    langs: set[str] = set()
    for t in data["topics"]:
        words: dict[str, dict[str, float]] = {}
        prefixes: dict[str, dict[str, float]] = {}
        phrases: dict[str, list[tuple[tuple[str, ...], bool, float]]] = {}
        for lang, cues in (t.get("cues") or {}).items():
            langs.add(lang)
            for cue, weight in cues.items():
                cue = fold_accents(str(cue)).strip()
                if lang == "ar":
                    cue = " ".join(_AR_PROCLITICS.sub("", w) for w in cue.split())
                if " " in cue:
                    parts = tuple(cue.rstrip("*").split())
                    phrases.setdefault(lang, []).append((parts, cue.endswith("*"), float(weight)))
                elif cue.endswith("*"):
                    prefixes.setdefault(lang, {})[cue[:-1]] = float(weight)
                else:
                    words.setdefault(lang, {})[cue] = float(weight)
        entities = frozenset(fold(e) for e in t.get("entities") or [])
        topics.append(Topic(t["code"], t["name"], words, prefixes, phrases, entities, str(t.get("definition", ""))))
    return Lexicon(str(data.get("version", "1")), tuple(topics), frozenset(langs))


class CategoryEnricher:
    """IPTC Media Topics top-level categories (see the module doc)."""

    name: ClassVar[str] = "category"
    provides: ClassVar[tuple[str, ...]] = ("category",)
    requires: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self, pool: SpacyPool, lexicon: Lexicon | None = None) -> None:
        self._pool = pool
        self._lexicon = lexicon or load_lexicon()

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        lex = self._lexicon
        version = f"1/iptc-{lex.version}"
        self._pool.parse([d for d in docs if d.processing_language in lex.languages])
        out: list[Fields] = []
        for doc in docs:
            lang = doc.processing_language
            if lang not in lex.languages:
                reason = f"no category lexicon for language {lang!r}"
                out.append({"category": CategoryField.unavailable(_METHOD, version, reason)})
                continue
            mentions: dict[str, int] = {}
            for e in doc.entities or []:
                for s in {*e.surfaces, e.name}:
                    mentions[fold(s)] = max(mentions.get(fold(s), 0), e.mentions)
            value = lex.score(doc.article.title or "", doc.article.body, lang, mentions)
            out.append({"category": CategoryField(value=value, language=lang, method=_METHOD, version=version)})
        return out
