"""Stories: articles about the same event, from any outlet, share a ``story_id``.

An article's signature (:func:`story_features`) is the set of its most
salient people, organisations and places, its top countries and the words of
its key phrases, each with a weight (person 3, organisation 2, place 1.5,
country 1, key-phrase word 0.5). Key phrases are compared word by word: two
outlets rarely pick the same three-word phrase ("ECB lowers deposit" and "ECB
cuts interest") but share its words. A story's profile is the union of its
members' signatures. An article joins the story whose members, within
``story_window_s`` of its event time (published, else ingested), have the
highest similarity to it, shared weight / sqrt(article weight x profile
weight), if that is at least ``story_threshold`` and the story shares at
least one entity (who) and two key-phrase words (what) with it: the same
people alone do not make the same event. Otherwise it starts a new story.
Measured on the labelled set (``evaluation/stories``, ``python -m
evaluation.story_eval``), which also lists what it still gets wrong (the
semi-finals and the final of one tournament are joined).

Two implementations of one :class:`StoryIndex` contract (``tests/integration/test_story_index_contract.py``
runs the same suite against both): :class:`RedisStoryIndex`, the real one, and :class:`MemoryStoryIndex`,
the same rules in one process for unit tests and tools.

The Redis state lives under ``settings.redis_key("story", ...)``: an inverted
index feature -> stories (sorted by member time), each story's profile, and
article -> story. One Lua script assigns a whole batch, so it is atomic across enrich replicas:
two replicas that see two reports of one event agree on its story. A story
id is derived from the article that started it, and an article already
assigned keeps its story, so re-enriching (a replay, a redelivery) gives the
same ``story_id``. Every key expires after ``story_ttl_s``.

The script computes key names itself, so it needs a single Redis (or one
Redis Cluster slot), not a sharded cluster.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC
from pathlib import Path
from typing import Protocol

from redis.asyncio import Redis

from shared.models import CountriesField, EntitiesField, KeywordsField
from shared.settings import Settings
from shared.textfold import fold_name as fold

from .analysis.doc import Doc
from .analysis.keywords import stopwords

__all__ = ["MemoryStoryIndex", "RedisStoryIndex", "StoryIndex", "story_features", "story_id_for"]

_SCRIPT = (Path(__file__).with_name("stories.lua")).read_text(encoding="utf-8")
_TYPE_WEIGHTS = {"people": 3.0, "organizations": 2.0, "places": 1.5}
MAX_ENTITIES = 10
MAX_COUNTRIES = 3
MAX_KEYWORDS = 8
WORD_WEIGHT = 0.5
MIN_SHARED_ENTITIES = 1  # who: a story must share this many entities with an article to take it
MIN_SHARED_WORDS = 2  # what: and this many key-phrase words


def story_features(doc: Doc) -> dict[str, float]:
    """The weighted signature of an article, from its enrichment fields.

    Keys: ``e:<entity>`` (people, organisations and places that are not
    countries, most mentioned first), ``c:<ISO code>`` and ``w:<word>`` (the
    words of the key phrases, less stopwords and one-word entities);
    names are folded (lowercase, no accents).
    """
    feats: dict[str, float] = {}
    ents = doc.field_or_none(EntitiesField)
    found = doc.field_or_none(CountriesField)
    countries = (found.value if found else None) or []
    country_names = {fold(c.name) for c in countries}
    kinds = ents.by_kind() if ents else {}
    ranked: list[tuple[int, str, float]] = []
    for group, weight in _TYPE_WEIGHTS.items():
        for e in kinds.get(group) or []:
            if group == "places" and fold(e.name) in country_names:
                continue  # a country: counted once, as c:<code>
            ranked.append((e.mentions, fold(e.name), weight))
    ranked.sort(key=lambda x: (-x[0], x[1]))
    for _, name, weight in ranked[:MAX_ENTITIES]:
        feats[f"e:{name}"] = max(feats.get(f"e:{name}", 0.0), weight)
    for c in countries[:MAX_COUNTRIES]:
        feats[f"c:{c.code}"] = 1.0
    keywords = doc.field_or_none(KeywordsField)
    stop = stopwords((keywords.language if keywords else None) or "en")
    for k in ((keywords.value if keywords else None) or [])[:MAX_KEYWORDS]:
        for word in fold(k.text).split():
            if len(word) >= 3 and word not in stop and not word.isdigit() and f"e:{word}" not in feats:
                feats[f"w:{word}"] = WORD_WEIGHT
    return feats


def story_id_for(article_id: str) -> str:
    """The id of a story started by ``article_id`` (stable across replicas and replays)."""
    return "st_" + hashlib.blake2b(article_id.encode(), digest_size=8).hexdigest()


def _event_ts(doc: Doc) -> float:
    a = doc.article
    when = a.published_at or a.ingested_at
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


@dataclass(frozen=True)
class _Input:
    """What an index needs to know about one article."""

    article_id: str
    ts: int
    new_story_id: str
    features: list[tuple[str, float]]  # sorted by name


def _inputs(docs: list[Doc]) -> list[_Input]:
    return [
        _Input(d.article.id, int(_event_ts(d)), story_id_for(d.article.id), sorted(story_features(d).items()))
        for d in docs
    ]


class StoryIndex(Protocol):
    """Assigns ``story_id`` to a batch of enriched docs; the same rules in every implementation."""

    async def assign(self, docs: list[Doc]) -> list[str]:
        """The story id of every doc, in order, atomically with respect to other callers."""
        ...


class RedisStoryIndex:
    """The real index: state in the shared Redis, one Lua call per batch (see the module doc)."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._prefix = settings.redis_key("story")
        self._window = settings.story_window_s
        self._ttl = settings.story_ttl_s
        self._threshold = settings.story_threshold
        self._script = redis.register_script(_SCRIPT)

    async def assign(self, docs: list[Doc]) -> list[str]:
        """The story id of every doc, in order (one Redis round trip for the batch)."""
        if not docs:
            return []
        args: list[str | int | float] = [self._prefix, self._window, self._ttl, self._threshold, MIN_SHARED_ENTITIES,
                                         MIN_SHARED_WORDS, len(docs)]  # fmt: skip
        for it in _inputs(docs):
            args += [it.article_id, it.ts, it.new_story_id, len(it.features)]
            for name, weight in it.features:
                args += [name, weight]
        result = await self._script(keys=[], args=args)
        return [r.decode() if isinstance(r, bytes) else str(r) for r in result]


@dataclass
class _Story:
    profile: dict[str, float] = dc_field(default_factory=dict)  # feature -> its largest weight
    total: float = 0.0  # the sum of the profile's weights
    members: int = 0


class MemoryStoryIndex:
    """The same rules as ``stories.lua`` in one process, for unit tests and tools (no key expiry)."""

    def __init__(self, settings: Settings) -> None:
        self._window = settings.story_window_s
        self._ttl = settings.story_ttl_s
        self._threshold = settings.story_threshold
        self._articles: dict[str, str] = {}  # article id -> story id
        self._features: dict[str, dict[str, int]] = {}  # feature -> story id -> latest member event ts
        self._stories: dict[str, _Story] = {}

    async def assign(self, docs: list[Doc]) -> list[str]:
        return [self._assign_one(it) for it in _inputs(docs)]

    def _assign_one(self, it: _Input) -> str:
        known = self._articles.get(it.article_id)
        if known is not None:
            return known
        total = sum(w for _, w in it.features)
        shared: dict[str, float] = {}
        entities: dict[str, int] = {}
        words: dict[str, int] = {}
        for name, weight in it.features:
            for sid, ts in self._features.get(name, {}).items():
                if it.ts - self._window <= ts <= it.ts + self._window:
                    shared[sid] = shared.get(sid, 0.0) + weight
                    if name.startswith("e:"):
                        entities[sid] = entities.get(sid, 0) + 1
                    elif name.startswith("w:"):
                        words[sid] = words.get(sid, 0) + 1
        best: str | None = None
        best_score = -1.0
        for sid, w in shared.items():
            if entities.get(sid, 0) >= MIN_SHARED_ENTITIES and words.get(sid, 0) >= MIN_SHARED_WORDS:
                story = self._stories.get(sid)
                story_total = story.total if story is not None else total
                score = w / math.sqrt(max(total * story_total, 1e-9))
                if score >= self._threshold and (
                    score > best_score or (score == best_score and best is not None and sid < best)
                ):
                    best, best_score = sid, score
        sid = best or it.new_story_id
        self._articles[it.article_id] = sid
        story = self._stories.setdefault(sid, _Story())
        story.members += 1
        for name, weight in it.features:
            members = self._features.setdefault(name, {})
            members[sid] = max(members.get(sid, it.ts), it.ts)
            for other in [s for s, ts in members.items() if ts <= it.ts - self._ttl]:
                del members[other]
            old = story.profile.get(name, 0.0)
            if weight > old:
                story.profile[name] = weight
                story.total += weight - old
        return sid
