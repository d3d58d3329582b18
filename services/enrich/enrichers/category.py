"""IPTC Media Topics (top level) from weighted cue lexicons and entity cues.

The vocabulary ships in ``services/enrich/data/iptc_mediatopics.yaml``: the
17 top-level Media Topics with IPTC's codes and names, and for each, cue words
and phrases per language (English, French, Spanish) with weights 1-3, plus
entity names ("FIFA", "Hamas", "NASA").

Scoring, for each topic::

    raw = sum over cues found:      weight * (1 + ln(count))
        + sum over entity cues:     2 * (1 + ln(mentions))

where ``count`` is the number of occurrences in the body plus twice those in
the headline (the headline says what the story is filed under). Words are
compared lowercase and without accents; ``stem*`` cues match any word
starting with the stem. A topic's ``score`` is its share of all topics' raw
scores; topics with a share of at least 0.12 are listed (at most three,
best first; the best is always listed). An article with no cue at all gets
an empty list. A language without a lexicon gets a null field with the
reason.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
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
    phrases: dict[str, list[tuple[regex.Pattern[str], float]]]  # lang -> (pattern, weight)
    entities: frozenset[str]
    definition: str = ""  # IPTC's definition of the topic (English)


@dataclass(frozen=True)
class Lexicon:
    """The IPTC vocabulary with cues, as loaded from the YAML file."""

    version: str
    topics: tuple[Topic, ...]
    languages: frozenset[str]

    def score(self, title: str, body: str, lang: str, entity_mentions: dict[str, int]) -> list[CategoryItem]:
        """Topics of an article, best first, each ``{code, name, score}`` (see the module doc)."""
        body_words = _WORD.findall(fold_accents(body))
        title_words = _WORD.findall(fold_accents(title))
        words = Counter(body_words)
        for w in title_words:
            words[w] += 2
        joined_body = " " + " ".join(body_words) + " "
        joined_title = " " + " ".join(title_words) + " "
        stems = _stems(words)
        raw: dict[str, float] = {}
        for topic in self.topics:
            hints = cues = 0.0
            found: list[tuple[float, int]] = []
            for word, weight in topic.words.get(lang, {}).items():
                if words[word]:
                    found.append((weight, words[word]))
            for stem, weight in topic.prefixes.get(lang, {}).items():
                if stems.get(stem, 0):
                    found.append((weight, stems[stem]))
            for pattern, weight in topic.phrases.get(lang, []):
                count = len(pattern.findall(joined_body)) + 2 * len(pattern.findall(joined_title))
                if count:
                    found.append((weight, count))
            for name, mentions in entity_mentions.items():
                if name in topic.entities:
                    found.append((ENTITY_WEIGHT, mentions))
            for weight, count in found:
                if weight < HINT_BELOW:
                    hints += weight * (1 + math.log(count))
                else:
                    cues += weight * (1 + math.log(count))
            if cues > 0:
                raw[topic.code] = cues + hints
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


def _stems(words: Counter[str]) -> dict[str, int]:
    """Occurrences of every prefix (3+ letters) of the words, for ``stem*`` cues."""
    out: dict[str, int] = {}
    for word, count in words.items():
        for k in range(3, len(word) + 1):
            p = word[:k]
            out[p] = out.get(p, 0) + count
    return out


@lru_cache(maxsize=4)
def load_lexicon(path: Path = _DATA) -> Lexicon:
    """Read and compile the IPTC vocabulary file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    topics = []
    langs: set[str] = set()
    for t in data["topics"]:
        words: dict[str, dict[str, float]] = {}
        prefixes: dict[str, dict[str, float]] = {}
        phrases: dict[str, list[tuple[regex.Pattern[str], float]]] = {}
        for lang, cues in (t.get("cues") or {}).items():
            langs.add(lang)
            for cue, weight in cues.items():
                cue = fold_accents(str(cue)).strip()
                if " " in cue:
                    parts = [regex.escape(p) for p in cue.rstrip("*").split()]
                    tail = r"[\p{L}\p{N}'\-]*" if cue.endswith("*") else ""
                    pattern = regex.compile(r"(?<= )" + " ".join(parts) + tail + r"(?= )")
                    phrases.setdefault(lang, []).append((pattern, float(weight)))
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
