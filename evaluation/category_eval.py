"""Category quality on labelled news nobody here wrote (pure: reading, the zero-shot baseline and the scores;
:mod:`bench.quality_categories` runs the systems).

- **BBC News** (``bbc-news-dev.jsonl``, read by path, never copied into the repository): each article's desk
  is mapped to the IPTC top-level Media Topics it may be filed under (:data:`DESK_TOPICS`; a tech story
  may be science and technology or economy, business and finance). An article counts as right when the
  system's first topic is one of its desk's topics ("strict": no topic is wrong).
- **SemEval-2022 Task 8 pairs** (``semeval2022-pairs-dev.jsonl``): no categories, but two articles that
  people rated the same story (``overall`` <= 1.5) should get the same first topic, whatever their
  languages. :func:`pair_agreement` counts that per language group.

The baseline (:class:`DefinitionBaseline`) is zero-shot: each topic is the document made of its IPTC name
and definition (:attr:`~services.enrich.enrichers.category.Topic.definition`), an article goes to the
topic whose document is nearest by TF-IDF cosine (IDF over the topic documents and the articles being
classified, no labels), or to none when no word is shared.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import regex

from shared.textfold import fold_accents

__all__ = [
    "DESK_TOPICS",
    "NONE",
    "BbcArticle",
    "Confusion",
    "DefinitionBaseline",
    "SemevalPair",
    "default_data_path",
    "pair_agreement",
    "pair_group",
    "read_bbc",
    "read_semeval_pairs",
]

#: IPTC top-level topics a BBC desk's article may be filed under (the data README's mapping).
DESK_TOPICS: dict[str, frozenset[str]] = {
    "business": frozenset({"medtop:04000000"}),
    "entertainment": frozenset({"medtop:01000000"}),
    "politics": frozenset({"medtop:11000000"}),
    "sport": frozenset({"medtop:15000000"}),
    "tech": frozenset({"medtop:13000000", "medtop:04000000"}),
}
#: The prediction of a system that gives no topic.
NONE = "none"
_WORD = regex.compile(r"\p{L}[\p{L}\p{N}'\-]*")
_STOP = frozenset(
    "a an and are as at be by for from in into is it its of on or such that the their these this to with all "
    "other as well including".split()
)


def default_data_path(name: str, repo: Path | None = None) -> Path:
    """``<repo>/../shared/data/external/<name>`` (override the directory with ``NEWSFLOW_EXTERNAL_DATA``)."""
    base = os.environ.get("NEWSFLOW_EXTERNAL_DATA")
    if base:
        return Path(base) / name
    root = repo or Path(__file__).resolve().parents[1]
    return root.parent / "shared" / "data" / "external" / name


@dataclass(frozen=True)
class BbcArticle:
    """One BBC article: its id, desk, headline and text."""

    doc_id: str
    desk: str
    title: str
    text: str


def read_bbc(path: Path) -> list[BbcArticle]:
    """The articles of a BBC News JSON-lines file (``doc_id``, ``category``, ``title``, ``text``)."""
    out = []
    for line in path.read_bytes().splitlines():
        if line.strip():
            d = orjson.loads(line)
            out.append(BbcArticle(str(d["doc_id"]), str(d["category"]), str(d["title"]), str(d["text"])))
    return out


@dataclass(frozen=True)
class SemevalPair:
    """Two articles and how alike people rated their stories (1 same ... 4 unrelated)."""

    lang1: str
    lang2: str
    text1: str
    text2: str
    overall: float


def read_semeval_pairs(path: Path) -> list[SemevalPair]:
    """The pairs of a SemEval-2022 Task 8 JSON-lines file."""
    out = []
    for line in path.read_bytes().splitlines():
        if line.strip():
            d = orjson.loads(line)
            out.append(SemevalPair(d["lang1"], d["lang2"], d["text1"] or "", d["text2"] or "", float(d["overall"])))
    return out


def pair_group(lang1: str, lang2: str) -> str:
    """``en``, the language of a same-language pair, or ``cross`` for two languages."""
    return lang1 if lang1 == lang2 else "cross"


def pair_agreement(pairs: Sequence[SemevalPair], tops: Sequence[tuple[str, str]]) -> dict[str, tuple[int, int, int]]:
    """Per group (:func:`pair_group`): (same-story pairs, pairs where both got a topic, pairs where both
    got the same first topic), over the pairs rated the same story (``overall`` <= 1.5). ``tops`` holds each
    pair's two first topics (:data:`NONE` for no topic)."""
    out: dict[str, list[int]] = {}
    for pair, (a, b) in zip(pairs, tops, strict=True):
        if pair.overall > 1.5:
            continue
        row = out.setdefault(pair_group(pair.lang1, pair.lang2), [0, 0, 0])
        row[0] += 1
        if a != NONE and b != NONE:
            row[1] += 1
            row[2] += int(a == b)
    return {k: (v[0], v[1], v[2]) for k, v in sorted(out.items())}


@dataclass
class Confusion:
    """Desk x predicted topic counts, and accuracy / per-desk recall / per-topic precision from them."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, desk: str, predicted: str) -> None:
        self.counts.setdefault(desk, Counter())[predicted] += 1

    def correct(self, desk: str) -> int:
        return sum(n for code, n in self.counts.get(desk, Counter()).items() if code in DESK_TOPICS[desk])

    def total(self, desk: str | None = None) -> int:
        desks = [desk] if desk else list(self.counts)
        return sum(sum(self.counts.get(d, Counter()).values()) for d in desks)

    @property
    def accuracy(self) -> float:
        n = self.total()
        return sum(self.correct(d) for d in self.counts) / n if n else 0.0

    def recall(self, desk: str) -> float:
        n = self.total(desk)
        return self.correct(desk) / n if n else 0.0

    def precision(self, desk: str) -> float:
        """Of the articles given this desk's main topic (the first of :data:`DESK_TOPICS`, business for
        tech too), the share from a desk that accepts that topic."""
        code = min(DESK_TOPICS[desk]) if desk != "tech" else "medtop:13000000"
        predicted = sum(c[code] for c in self.counts.values())
        right = sum(c[code] for d, c in self.counts.items() if code in DESK_TOPICS[d])
        return right / predicted if predicted else 0.0

    def columns(self) -> list[str]:
        """Every predicted topic, in code order, :data:`NONE` last."""
        seen = {code for c in self.counts.values() for code in c}
        return sorted(seen - {NONE}) + ([NONE] if NONE in seen else [])


@dataclass(frozen=True)
class DefinitionBaseline:
    """Zero-shot: the nearest topic definition by TF-IDF cosine (see the module doc)."""

    codes: tuple[str, ...]
    definitions: tuple[str, ...]

    def classify(self, texts: Sequence[str]) -> list[str]:
        """The nearest topic's code for each text (:data:`NONE` when it shares no word with any)."""
        topic_bags = [_bag(d) for d in self.definitions]
        text_bags = [_bag(t) for t in texts]
        df: Counter[str] = Counter()
        for bag in (*topic_bags, *text_bags):
            df.update(bag.keys())
        n = len(topic_bags) + len(text_bags)
        idf = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items()}
        topics = [_unit(b, idf) for b in topic_bags]
        out = []
        for bag in text_bags:
            vec = _unit(bag, idf)
            sims = [sum(w * t.get(k, 0.0) for k, w in vec.items()) for t in topics]
            best = max(range(len(sims)), key=lambda i: sims[i]) if sims else -1
            out.append(self.codes[best] if best >= 0 and sims[best] > 0 else NONE)
        return out


def _bag(text: str) -> Counter[str]:
    return Counter(_stem(w) for w in _WORD.findall(fold_accents(text)) if w not in _STOP and len(w) > 1)


def _stem(word: str) -> str:
    """A crude plural / suffix strip, so "elections" meets "election" (the baseline's only normalising)."""
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            return word[: -len(suffix)]
    return word


def _unit(bag: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    vec = {w: (1 + math.log(c)) * idf[w] for w, c in bag.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {w: v / norm for w, v in vec.items()}
