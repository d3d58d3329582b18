"""Stories: articles about the same event, from any outlet, share a ``story_id``.

An article's signature (:func:`story_features`) is the set of its most
salient people, organisations and places, its top countries and its key
phrases, each with a weight (person 3, organisation 2, place 1.5, country 1,
key phrase 1). An article joins the story whose members, within
``story_window_s`` of its event time (published, else ingested), cover the
largest share of its signature's weight, if that share is at least
``story_threshold`` and at least two entity features are shared; otherwise
it starts a new story.

State lives in Redis under ``settings.redis_key("story", ...)``: an inverted
index feature -> stories (sorted by member time), and article -> story. One
Lua script assigns a whole batch, so it is atomic across enrich replicas:
two replicas that see two reports of one event agree on its story. A story
id is derived from the article that started it, and an article already
assigned keeps its story, so re-enriching (a replay, a redelivery) gives the
same ``story_id``. Every key expires after ``story_ttl_s``.

The script computes key names itself, so it needs a single Redis (or one
Redis Cluster slot), not a sharded cluster.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from .enrichers.base import Doc
from .gazetteer import fold

__all__ = ["StoryIndex", "story_features", "story_id_for"]

_SCRIPT = (Path(__file__).with_name("stories.lua")).read_text(encoding="utf-8")
_TYPE_WEIGHTS = {"people": 3.0, "organizations": 2.0, "places": 1.5}
MAX_ENTITIES = 10
MAX_COUNTRIES = 3
MAX_KEYWORDS = 8


def story_features(doc: Doc) -> dict[str, float]:
    """The weighted signature of an article, from its enrichment fields.

    Keys: ``e:<entity>`` (people, organisations and places that are not
    countries, most mentioned first), ``c:<ISO code>`` and ``k:<key
    phrase>``; names are folded (lowercase, no accents).
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
    for k in ((doc.fields.get("keywords") or {}).get("value") or [])[:MAX_KEYWORDS]:
        key = fold(k["text"])
        if f"e:{key}" not in feats:
            feats[f"k:{key}"] = 1.0
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
    (0.3).
    """

    def __init__(self, redis: Redis, settings: Any) -> None:
        self._redis = redis
        self._prefix = settings.redis_key("story")
        self._window = int(getattr(settings, "story_window_s", 72 * 3600))
        self._ttl = int(getattr(settings, "story_ttl_s", 7 * 24 * 3600))
        self._threshold = float(getattr(settings, "story_threshold", 0.3))
        self._min_entities = 2
        self._script = redis.register_script(_SCRIPT)

    async def assign(self, docs: list[Doc]) -> list[str]:
        """The story id of every doc, in order (one Redis round trip for the batch)."""
        if not docs:
            return []
        args: list[Any] = [self._prefix, self._window, self._ttl, self._threshold, self._min_entities, len(docs)]
        for doc in docs:
            feats = story_features(doc)
            args += [doc.article.id, int(_event_ts(doc)), story_id_for(doc.article.id), len(feats)]
            for name, weight in sorted(feats.items()):
                args += [name, weight]
        result = await self._script(keys=[], args=args)
        return [r.decode() if isinstance(r, bytes) else str(r) for r in result]
