"""Story grouping measured on public sets nobody here wrote: ECB+ and the SemEval-2022 Task 8 pairs.

Both files live outside the repository (``../shared/data/external/``, measurement only; see its
README) and are read by path; a missing file is reported, never replaced.

- **ECB+** (``ecbplus-dev.jsonl``): English articles grouped by gold event; each topic holds two
  different events (``subtopic`` ``ecb`` / ``ecbplus``), which must not be merged. Scored with
  B-cubed precision / recall / F1 (:func:`bcubed`) and pair by pair (:func:`pairwise`). The
  articles have no dates: the stream gives them all one event time, so the story window never
  separates them (the hardest case for precision).
- **SemEval-2022 Task 8** (``semeval2022-pairs-dev.jsonl``): article pairs rated by people from
  1 (same story) to 4 (unrelated), in ten languages, within and across languages. Pairs whose
  either text is a cookie, consent or paywall page (:func:`is_boilerplate`) are dropped. Every
  distinct text of the kept pairs goes through **one stream** (not pair by pair: a pair counts as
  "one story" only when both texts end up with one ``story_id`` among all the others, the stricter
  test). :func:`semeval_scores` gives, per group (English, same-language other languages,
  cross-language), the same-story recall over the pairs rated ``overall <= 1.5`` and the
  specificity (pairs kept apart) over the pairs rated ``overall >= 3.5``.

Articles are made the way ingest makes them (:func:`as_article`: ``{"text": ...}`` through
``parse_raw``), so the headline, dateline and language are found by newsflow, not given.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from shared.models import Article, Origin

__all__ = [
    "EXTERNAL_DIR",
    "GROUPS",
    "EcbDoc",
    "GroupScore",
    "Prf",
    "SemevalPair",
    "SemevalSet",
    "as_article",
    "bcubed",
    "is_boilerplate",
    "load_ecbplus",
    "load_semeval",
    "mixed_topics",
    "pairwise",
    "semeval_scores",
    "stream_order",
]

EXTERNAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"
GROUPS = ("English", "same language, not English", "cross-language")
SAME_STORY_MAX = 1.5  # overall <= this: people rated the pair the same story
UNRELATED_MIN = 3.5  # overall >= this: people rated the pair different stories
_MAX_BYTES = 2_000_000
_EVENT_TIME = datetime(2020, 1, 1, tzinfo=UTC)  # neither set has dates: one event time for every article

# A page that is a cookie / consent notice or a paywall rather than an article (or that opens with one).
_BOILERPLATE = re.compile(
    r"cookie|paywall|ad ?blocker|thank you for subscribing|subscribing to our services|enable javascript"
    r"|zbieramy anonimowe informacje|wir verwenden auf unserer webseite|sammeln wir technische"
    r"|datenschutzerkl|utilizamos cookies|nous utilisons des cookies|çerez",
    re.IGNORECASE,
)


def is_boilerplate(text: str) -> bool:
    """True for a cookie, consent or paywall page (a marker anywhere in the text)."""
    return bool(_BOILERPLATE.search(text))


@dataclass(frozen=True)
class EcbDoc:
    """One ECB+ article: its gold event (``story``), topic and text."""

    id: str
    topic: int
    story: str
    text: str


@dataclass(frozen=True)
class SemevalPair:
    """One rated pair: the two texts' indices into :attr:`SemevalSet.texts`, languages and rating."""

    id: str
    a: int
    b: int
    lang_a: str
    lang_b: str
    overall: float

    @property
    def group(self) -> str:
        """English, same language not English, or cross-language (by the task's language labels)."""
        if self.lang_a != self.lang_b:
            return GROUPS[2]
        return GROUPS[0] if self.lang_a == "en" else GROUPS[1]


@dataclass(frozen=True)
class SemevalSet:
    """The distinct texts of the kept pairs, the pairs, and how many pairs were dropped."""

    texts: list[str]
    pairs: list[SemevalPair]
    dropped: int


def load_ecbplus(path: Path | None = None) -> list[EcbDoc]:
    """The ECB+ articles of ``path`` (default: the shared development half), in file order.

    Only the text and the gold labels are read (the mention annotations are not).
    """
    path = path or EXTERNAL_DIR / "ecbplus-dev.jsonl"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(EcbDoc(str(d["doc_id"]), int(d["topic"]), str(d["story_id"]), str(d["text"])))
    return out


def load_semeval(path: Path | None = None) -> SemevalSet:
    """The SemEval pairs of ``path`` (default: the shared development half) without boilerplate pages.

    A text that occurs in several pairs is one text (one article in the stream).
    """
    path = path or EXTERNAL_DIR / "semeval2022-pairs-dev.jsonl"
    texts: list[str] = []
    index: dict[str, int] = {}
    pairs: list[SemevalPair] = []
    dropped = 0

    def key(text: str) -> int:
        if text not in index:
            index[text] = len(texts)
            texts.append(text)
        return index[text]

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        t1, t2 = str(d["text1"]), str(d["text2"])
        if is_boilerplate(t1) or is_boilerplate(t2) or not t1.strip() or not t2.strip():
            dropped += 1
            continue
        pairs.append(SemevalPair(str(d["pair_id"]), key(t1), key(t2), d["lang1"], d["lang2"], float(d["overall"])))
    return SemevalSet(texts, pairs, dropped)


def as_article(text: str, article_id: str, offset: int) -> Article:
    """``text`` as ingest makes an article of ``{"text": ...}`` (headline, dateline, language found by
    the parser), published at one shared event time."""
    from services.ingest.parsing import parse_raw

    p = parse_raw(orjson.dumps({"text": text}), max_bytes=_MAX_BYTES)
    return Article(
        id=article_id, content_hash=article_id, title=p.title, dateline=p.dateline, body=p.body, url=p.url,
        canonical_url=p.canonical_url, source=p.source, published_at=_EVENT_TIME, language=p.language,
        authors=list(p.authors), raw_format=p.raw_format, ingested_at=_EVENT_TIME,
        origin=Origin(topic="stories", partition=0, offset=offset),
    )  # fmt: skip


def stream_order(n: int, seed: int | None) -> list[int]:
    """The order ``range(n)`` is streamed in: as given (``seed`` None) or shuffled with ``seed``."""
    order = list(range(n))
    if seed is not None:
        random.Random(seed).shuffle(order)
    return order


@dataclass(frozen=True)
class Prf:
    """Precision, recall and F1."""

    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __str__(self) -> str:
        return f"P {self.precision:.3f} R {self.recall:.3f} F1 {self.f1:.3f}"


def bcubed(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> Prf:
    """B-cubed precision and recall of ``predicted`` clusters against ``gold`` (one label per item):
    per item, the share of its predicted cluster in its gold cluster (precision) and of its gold
    cluster in its predicted cluster (recall), averaged over items."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    if not gold:
        return Prf(0.0, 0.0)
    both = Counter(zip(gold, predicted, strict=True))
    g_size, p_size = Counter(gold), Counter(predicted)
    p = sum(n * n / p_size[pr] for (_, pr), n in both.items()) / len(gold)
    r = sum(n * n / g_size[g] for (g, _), n in both.items()) / len(gold)
    return Prf(p, r)


def pairwise(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> Prf:
    """Pairwise precision and recall: pairs in one predicted cluster vs pairs of one gold event."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    both = Counter(zip(gold, predicted, strict=True))
    tp = sum(n * (n - 1) // 2 for n in both.values())
    joined = sum(n * (n - 1) // 2 for n in Counter(predicted).values())
    same = sum(n * (n - 1) // 2 for n in Counter(gold).values())
    return Prf(tp / joined if joined else 0.0, tp / same if same else 0.0)


def mixed_topics(docs: Sequence[EcbDoc], predicted: Sequence[Hashable]) -> list[int]:
    """The ECB+ topics where one predicted story holds articles of both of the topic's events."""
    events: dict[tuple[int, Hashable], set[str]] = defaultdict(set)
    for d, story in zip(docs, predicted, strict=True):
        events[(d.topic, story)].add(d.story)
    return sorted({topic for (topic, _), found in events.items() if len(found) > 1})


@dataclass
class GroupScore:
    """Same-story recall and specificity of one group of SemEval pairs."""

    same: int = 0  # pairs rated the same story
    same_joined: int = 0  # ... given one story id
    unrelated: int = 0  # pairs rated different stories
    unrelated_apart: int = 0  # ... given two story ids

    @property
    def recall(self) -> float:
        return self.same_joined / self.same if self.same else 0.0

    @property
    def specificity(self) -> float:
        return self.unrelated_apart / self.unrelated if self.unrelated else 1.0

    def __str__(self) -> str:
        return (
            f"same-story recall {self.recall:6.1%} ({self.same_joined}/{self.same}), "
            f"specificity {self.specificity:6.1%} ({self.unrelated_apart}/{self.unrelated})"
        )


def semeval_scores(pairs: Sequence[SemevalPair], story_of: Sequence[Hashable]) -> dict[str, GroupScore]:
    """Per group (and ``all``), same-story recall and specificity of the story ids ``story_of``
    (one per text of the set)."""
    out: dict[str, GroupScore] = defaultdict(GroupScore)
    for p in pairs:
        joined = story_of[p.a] == story_of[p.b]
        for g in (p.group, "all"):
            s = out[g]
            if p.overall <= SAME_STORY_MAX:
                s.same += 1
                s.same_joined += joined
            elif p.overall >= UNRELATED_MIN:
                s.unrelated += 1
                s.unrelated_apart += not joined
    return {g: out[g] for g in (*GROUPS, "all")}
