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
Measured on the labelled set (``tests/eval/stories``, ``python -m
tests.eval.story_eval``), which also lists what it still gets wrong (the
semi-finals and the final of one tournament are joined).

State lives in Redis under ``settings.redis_key("story", ...)``: an inverted
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

import functools
import hashlib
from datetime import UTC
from pathlib import Path
from typing import Any

import yake_rust
from redis.asyncio import Redis

from .enrichers.base import Doc
from .enrichers.keywords import YAKE_LANGUAGES
from .gazetteer import fold

__all__ = ["StoryIndex", "story_features", "story_id_for"]

_SCRIPT = (Path(__file__).with_name("stories.lua")).read_text(encoding="utf-8")
_TYPE_WEIGHTS = {"people": 3.0, "organizations": 2.0, "places": 1.5}
MAX_ENTITIES = 10
MAX_COUNTRIES = 3
MAX_KEYWORDS = 8
WORD_WEIGHT = 0.5


@functools.cache
def _stopwords(lang: str) -> frozenset[str]:
    """YAKE's stopword list of ``lang`` (English when yake-rust has none for it), folded."""
    return frozenset(fold(w) for w in yake_rust.Yake(language=lang if lang in YAKE_LANGUAGES else "en").stopwords)


def story_features(doc: Doc) -> dict[str, float]:
    """The weighted signature of an article, from its enrichment fields.

    Keys: ``e:<entity>`` (people, organisations and places that are not
    countries, most mentioned first), ``c:<ISO code>`` and ``w:<word>`` (the
    words of the key phrases, less stopwords and one-word entities);
    names are folded (lowercase, no accents).
    """
    feats: dict[str, float] = {}
    ents = doc.fields.get("entities") or {}
    countries = (doc.fields.get("countries") or {}).get("value") or []
    country_names = {fold(c["name"]) for c in countries}
    ranked: list[tuple[int, str, float]] = []
    for group, weight in _TYPE_WEIGHTS.items():
        for e in ents.get(group) or []:
            if group == "places" and fold(e["name"]) in country_names:
                continue  # a country: counted once, as c:<code>
            ranked.append((int(e.get("mentions", 1)), fold(e["name"]), weight))
    ranked.sort(key=lambda x: (-x[0], x[1]))
    for _, name, weight in ranked[:MAX_ENTITIES]:
        feats[f"e:{name}"] = max(feats.get(f"e:{name}", 0.0), weight)
    for c in countries[:MAX_COUNTRIES]:
        feats[f"c:{c['code']}"] = 1.0
    keywords = doc.fields.get("keywords") or {}
    stop = _stopwords(str(keywords.get("language") or "en"))
    for k in (keywords.get("value") or [])[:MAX_KEYWORDS]:
        for word in fold(k["text"]).split():
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


class StoryIndex:
    """Assigns ``story_id`` per batch against the shared Redis state (see the module doc).

    Settings read (defaults until they are in ``Settings``):
    ``story_window_s`` (72 h), ``story_ttl_s`` (7 days), ``story_threshold``
    (0.2).
    """

    def __init__(self, redis: Redis, settings: Any) -> None:
        self._redis = redis
        self._prefix = settings.redis_key("story")
        self._window = int(getattr(settings, "story_window_s", 72 * 3600))
        self._ttl = int(getattr(settings, "story_ttl_s", 7 * 24 * 3600))
        self._threshold = float(getattr(settings, "story_threshold", 0.2))
        self._min_entities = 1
        self._min_words = 2
        self._script = redis.register_script(_SCRIPT)

    async def assign(self, docs: list[Doc]) -> list[str]:
        """The story id of every doc, in order (one Redis round trip for the batch)."""
        if not docs:
            return []
        args: list[Any] = [self._prefix, self._window, self._ttl, self._threshold, self._min_entities,
                           self._min_words, len(docs)]  # fmt: skip
        for doc in docs:
            feats = story_features(doc)
            args += [doc.article.id, int(_event_ts(doc)), story_id_for(doc.article.id), len(feats)]
            for name, weight in sorted(feats.items()):
                args += [name, weight]
        result = await self._script(keys=[], args=args)
        return [r.decode() if isinstance(r, bytes) else str(r) for r in result]
