"""Stories: articles about the same event, from any outlet, share a ``story_id``.

An article is signed (:func:`story_features`) by its text, or, when it has too little text (a brief of
fields only), by its enrichment fields.

**By text**: the ``TEXT_WORDS`` words of its text with the highest count x rarity (``t:<word>``,
folded, cut to ``STEM`` letters), rarity being how rare the word is in the article's language at
large (:mod:`.analysis.rarity`: a static word-frequency list, the idf a stream can know), weights
scaled to length 1. The bound keeps the Redis state and the script's work per article small. Names
and places are words of the text too, so names written alike in two Latin-script languages
("Merkel", "Kalbitz") match across languages.

**By fields**: its most salient people, organisations and places, its top countries, the words of
its key phrases and its telling numbers (person 3, organisation 2, place 1.5, country 1, number 1,
key-phrase word 0.5). Key phrases are compared word by word: two outlets rarely pick the same
three-word phrase ("ECB lowers deposit" and "ECB cuts interest") but share its words. An article
without entities (a language with no NER model yet) gets its capitalised words (names).

A story's profile is the sum of its members' signatures (a centroid). An article joins the story,
among those with a member within ``story_window_s`` of its event time (published, else ingested),
whose profile has the highest cosine with its signature, if that is at least
``story_text_threshold`` (signed by text), or at least ``story_threshold`` with at least one name
(who: an entity or a capitalised word) and two words, names or numbers (what) shared with the story
(signed by fields: the same people alone do not make the same event). Otherwise it starts a new
story. The two kinds of signature share no feature, so they never meet in one story. A feature that
many stories in the window share (more than ``COMMON_STORIES``: "Covid", a share button) counts for
less, and per feature only the ``MAX_CANDIDATES`` most recent stories are compared, so the work per
article stays bounded; a story whose shared weights cannot reach the threshold is not even read.
Measured on the labelled set (``evaluation/stories``, ``python -m evaluation.story_eval``), and on
ECB+ and the SemEval-2022 pairs (``python -m bench.quality_stories``, ``docs/enrichment/stories.md``).

Two implementations of one :class:`StoryIndex` contract (``tests/integration/test_story_index_contract.py``
runs the same suite against both): :class:`RedisStoryIndex`, the real one, and :class:`MemoryStoryIndex`,
the same rules in one process for unit tests and tools.

The Redis state lives under ``settings.redis_key("story", ...)``: an inverted index feature ->
stories (sorted by member time), each story's profile and its squared norm, and article -> story.
One Lua script assigns a whole batch, so it is atomic across enrich replicas:
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
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC
from pathlib import Path
from typing import Protocol

import regex
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.models import CountriesField, EntitiesField, KeywordsField
from shared.rebuild import not_ready_error, ready_key
from shared.settings import Settings
from shared.textfold import fold_name as fold

from .analysis.doc import Doc
from .analysis.keywords import stopwords
from .analysis.rarity import rarity, rarity_table

__all__ = ["MemoryStoryIndex", "RedisStoryIndex", "StoryIndex", "story_features", "story_id_for"]

_SCRIPT = (Path(__file__).with_name("stories.lua")).read_text(encoding="utf-8")
_RESTORE_SCRIPT = (Path(__file__).with_name("stories_restore.lua")).read_text(encoding="utf-8")
_TYPE_WEIGHTS = {"people": 3.0, "organizations": 2.0, "places": 1.5}
MAX_ENTITIES = 10
MAX_COUNTRIES = 3
MAX_KEYWORDS = 8
MAX_NAMES = 6  # without entities: capitalised words kept
MAX_NUMBERS = 4
WORD_WEIGHT = 0.5
NAME_WEIGHT = 0.5
NUMBER_WEIGHT = 1.0
NUMBER_DIGITS = 3  # "12" is anybody's; "737", "3,300" or "24.7 million" tell an event
STEM = 6  # letters kept of a w: or n: word
MIN_SHARED_WHO = 1  # a story must share this many names (e:, n:) with an article to take it
MIN_SHARED_WHAT = 2  # and this many words, names or numbers (w:, n:, d:)
COMMON_STORIES = 10  # a feature of more stories than this in the window counts for less (_commonness)
MAX_CANDIDATES = 64  # per feature, the stories (most recent first) an article is compared with
TEXT_WORDS = 20  # t: words per article: the highest count x rarity
MIN_TEXT_WORDS = 5  # an article with fewer is signed by its fields
TEXT = "t:"
WHO = ("e:", "n:")
WHAT = ("w:", "d:", "n:")


def story_features(doc: Doc) -> dict[str, float]:
    """The weighted signature of an article: by its text when it has ``MIN_TEXT_WORDS`` words to sign it
    with, else by its enrichment fields.

    By text: ``t:<word>`` for its ``TEXT_WORDS`` words of the highest count x rarity in its language
    (:func:`_text_words`), weights scaled to length 1. By fields (:func:`_field_features`): ``e:<entity>``
    (people 3, organisations 2 and places 1.5 that are not countries, most mentioned first),
    ``c:<ISO code>`` (1), ``w:<word>`` (0.5: the words of the key phrases, less stopwords and
    one-word entities) and ``d:<number>`` (1: numbers of ``NUMBER_DIGITS``
    digits or more that are not years, separators dropped). An article
    without entities (no NER model for its language, or none found) also
    gets ``n:<name>`` (0.5: its most frequent capitalised words, or in a
    script without case its longer words). Names are
    folded (lowercase, no accents); ``w:`` and ``n:`` words are cut to their
    first ``STEM`` letters, a crude stemmer for every language ("Merkels",
    "Merkel").
    """
    keywords = doc.field_or_none(KeywordsField)
    stop = stopwords((keywords.language if keywords else None) or doc.processing_language)
    text = _text_words(doc.text, doc.processing_language, stop)
    return text if len(text) >= MIN_TEXT_WORDS else _field_features(doc, stop)


def _field_features(doc: Doc, stop: frozenset[str]) -> dict[str, float]:
    """The signature of an article by its enrichment fields (see :func:`story_features`)."""
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
    no_entities = not any(kinds.values())
    if no_entities:
        for name in _name_tokens(doc.text, stop)[:MAX_NAMES]:
            feats[f"n:{name}"] = NAME_WEIGHT
    for k in ((keywords.value if keywords else None) or [])[:MAX_KEYWORDS]:
        for word in fold(k.text).split():
            stem = word[:STEM]
            if (
                len(word) >= 3
                and word not in stop
                and not word.isdigit()
                and not {f"e:{word}", f"n:{stem}"} & feats.keys()
            ):
                feats[f"w:{stem}"] = WORD_WEIGHT
    for number in _numbers(doc.text)[:MAX_NUMBERS]:
        feats[f"d:{number}"] = NUMBER_WEIGHT
    return feats


_TOKEN = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'’-]*")
_NUMBER = regex.compile(r"(?<![\p{L}\p{N}.,])\d{1,3}(?:[.,  ]\d{3})+(?![\p{N}])|(?<![\p{L}\p{N}.,])\d{2,}(?![\p{N}])")


def _name_tokens(text: str, stop: frozenset[str]) -> list[str]:
    """Capitalised words (or, in a script without case, words of 4 letters or more), folded, cut to
    ``STEM`` letters, without stopwords, most frequent first (ties by first occurrence)."""
    counts: dict[str, int] = {}
    for m in _TOKEN.finditer(text):
        token = m.group()
        first = token[0]
        if first.islower() or (first.isupper() and token.isupper() and len(token) > 5):
            continue  # a common word, or a shouted headline
        word = fold(token).strip("'-")
        if not first.isupper() and len(word) < 4:
            continue  # a script without case: only the longer words
        if len(word) < 3 or word in stop:
            continue
        word = word[:STEM]
        counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: -counts[w])


def _text_words(text: str, lang: str, stop: frozenset[str]) -> dict[str, float]:
    """The ``t:`` part of a signature: the ``TEXT_WORDS`` words of ``text`` with the highest count x rarity
    in ``lang`` (every word alike in a language without a frequency list), folded and cut to ``STEM``
    letters, stopwords and words under three letters left out; weights scaled to length 1 (ties by word)."""
    table = rarity_table(lang)
    counts = Counter(_TOKEN.findall(text.lower()))
    scored: dict[str, float] = {}
    for token, n in counts.items():
        # lowercase ASCII letters are their own folded form (the common case: no call)
        word = token if token.isascii() and token.isalpha() else fold(token).strip("'-")
        if len(word) < 3 or word in stop:
            continue
        weight = n * (rarity(table, token) if table is not None else 1.0)
        if weight > 0:
            stem = word[:STEM]
            scored[stem] = scored.get(stem, 0.0) + weight
    top = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:TEXT_WORDS]
    norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
    return {TEXT + stem: round(v / norm, 6) for stem, v in top}


def _numbers(text: str) -> list[str]:
    """Numbers of two digits or more, without separators, that are not years (1900-2099), most frequent
    first."""
    counts: dict[str, int] = {}
    for m in _NUMBER.finditer(text):
        n = regex.sub(r"\D", "", m.group()).lstrip("0")
        if len(n) >= NUMBER_DIGITS and not (len(n) == 4 and n[:2] in ("19", "20")):
            counts[n] = counts.get(n, 0) + 1
    return sorted(counts, key=lambda n: -counts[n])


def _commonness(stories: int) -> float:
    """What a shared feature counts for when ``stories`` stories in the window have it: 1 up to
    ``COMMON_STORIES``, then less and less (a name every story has tells none apart)."""
    return 1.0 if stories <= COMMON_STORIES else COMMON_STORIES / stories


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

    async def restore(self, docs: list[Doc], story_ids: list[str], ttls: list[int] | None = None) -> None:
        """Put back memberships read from the log (the state rebuilt after a loss): each doc joins the story
        it was given, ``story_ids[i]``, as :meth:`assign` would have added it (no story is chosen again); an
        article the index knows already keeps its story. ``ttls``: the seconds each doc's keys still live
        (the Redis index; default ``story_ttl_s``)."""
        ...


class RedisStoryIndex:
    """The real index: state in the shared Redis, one Lua call per batch (see the module doc)."""

    def __init__(self, redis: Redis, settings: Settings, *, gated: bool = False) -> None:
        self._redis = redis
        self._prefix = settings.redis_key("story")
        self._window = settings.story_window_s
        self._ttl = settings.story_ttl_s
        self._threshold = settings.story_threshold
        self._text_threshold = settings.story_text_threshold
        self._script = redis.register_script(_SCRIPT)
        self._restore = redis.register_script(_RESTORE_SCRIPT)
        # gated: assign refuses (StateNotReady) while <prefix>:ready is missing, i.e. after Redis lost the index
        self._keys = [ready_key(self._prefix)] if gated else []

    async def assign(self, docs: list[Doc]) -> list[str]:
        """The story id of every doc, in order (one Redis round trip for the batch)."""
        if not docs:
            return []
        args: list[str | int | float] = [self._prefix, self._window, self._ttl, self._threshold, MIN_SHARED_WHO,
                                         MIN_SHARED_WHAT, COMMON_STORIES, MAX_CANDIDATES, self._text_threshold,
                                         len(docs)]  # fmt: skip
        for it in _inputs(docs):
            args += [it.article_id, it.ts, it.new_story_id, len(it.features)]
            for name, weight in it.features:
                args += [name, weight]
        try:
            result = await self._script(keys=self._keys, args=args)
        except ResponseError as exc:
            lost = not_ready_error(exc)
            if lost is None:
                raise
            raise lost from exc
        return [r.decode() if isinstance(r, bytes) else str(r) for r in result]

    async def restore(self, docs: list[Doc], story_ids: list[str], ttls: list[int] | None = None) -> None:
        """Memberships read from the log, one Lua call (``stories_restore.lua``) for the batch."""
        if not docs:
            return
        args: list[str | int | float] = [self._prefix, self._ttl, len(docs)]
        for it, sid, ttl in zip(_inputs(docs), story_ids, ttls or [self._ttl] * len(docs), strict=True):
            args += [it.article_id, it.ts, sid, ttl, len(it.features)]
            for name, weight in it.features:
                args += [name, weight]
        await self._restore(keys=[], args=args)


@dataclass
class _Story:
    profile: dict[str, float] = dc_field(default_factory=dict)  # feature -> the sum of its members' weights
    square: float = 0.0  # the sum of the profile's squared values


class MemoryStoryIndex:
    """The same rules as ``stories.lua`` in one process, for unit tests and tools (no key expiry)."""

    def __init__(self, settings: Settings) -> None:
        self._window = settings.story_window_s
        self._ttl = settings.story_ttl_s
        self._threshold = settings.story_threshold
        self._text_threshold = settings.story_text_threshold
        self._articles: dict[str, str] = {}  # article id -> story id
        self._features: dict[str, dict[str, int]] = {}  # feature -> story id -> latest member event ts
        self._stories: dict[str, _Story] = {}

    async def assign(self, docs: list[Doc]) -> list[str]:
        return [self._assign_one(it) for it in _inputs(docs)]

    def _assign_one(self, it: _Input) -> str:
        known = self._articles.get(it.article_id)
        if known is not None:
            return known
        lo, hi = it.ts - self._window, it.ts + self._window
        by_text = any(name.startswith(TEXT) for name, _ in it.features)
        dot: dict[str, float] = {}
        reach: dict[str, float] = {}  # story -> the sum of the squared shared weights (the script's bound)
        who: dict[str, int] = {}
        what: dict[str, int] = {}
        for name, weight in it.features:
            found = self._features.get(name, {})
            recent = sorted(((ts, sid) for sid, ts in found.items() if lo <= ts <= hi), reverse=True)
            factor = _commonness(len(recent))
            for _, sid in recent[:MAX_CANDIDATES]:
                dot[sid] = dot.get(sid, 0.0) + weight * factor * self._stories[sid].profile[name]
                reach[sid] = reach.get(sid, 0.0) + (weight * factor) ** 2
                if factor >= 0.5:
                    if name[:2] in WHO:
                        who[sid] = who.get(sid, 0) + 1
                    if name[:2] in WHAT:
                        what[sid] = what.get(sid, 0) + 1
        norm = math.sqrt(sum(w * w for _, w in it.features))
        bar = self._text_threshold if by_text else self._threshold
        best: str | None = None
        best_score = -1.0
        for sid, d in dot.items():
            if by_text:
                if math.sqrt(reach[sid]) < bar * norm - 1e-9:
                    continue  # its cosine cannot reach the bar (Cauchy-Schwarz): the script does not read it
            elif who.get(sid, 0) < MIN_SHARED_WHO or what.get(sid, 0) < MIN_SHARED_WHAT:
                continue
            score = d / max(norm * math.sqrt(self._stories[sid].square), 1e-9)
            if score >= bar and (score > best_score or (score == best_score and best is not None and sid < best)):
                best, best_score = sid, score
        sid = best or it.new_story_id
        self._join(it, sid)
        return sid

    async def restore(self, docs: list[Doc], story_ids: list[str], ttls: list[int] | None = None) -> None:
        for it, sid in zip(_inputs(docs), story_ids, strict=True):
            if it.article_id not in self._articles:
                self._join(it, sid)

    def _join(self, it: _Input, sid: str) -> None:
        """``it`` is a member of story ``sid`` from now on (its features in the story's profile)."""
        self._articles[it.article_id] = sid
        story = self._stories.setdefault(sid, _Story())
        for name, w in it.features:
            members = self._features.setdefault(name, {})
            if sid in members:
                members[sid] = max(members[sid], it.ts)
            else:  # the set only grows here: trimmed here (as the script does)
                members[sid] = it.ts
                for other in [s for s, ts in members.items() if ts <= it.ts - self._ttl]:
                    del members[other]
            old = story.profile.get(name, 0.0)
            story.profile[name] = old + w
            story.square += (old + w) ** 2 - old * old
