"""The hand-labelled story-grouping set and its scoring.

The set is every article of the enrichment evaluation set (``evaluation/enrich``: each one its own
event) plus ``evaluation/stories/*.yaml``: other outlets' reports of some of those events (own
wording, other details, follow-ups up to 60 hours later) and hard negatives (another event sharing a
country, people, an organisation or a topic with one of them, published within 48 hours). Each
article is labelled with its event (``story``); see ``evaluation/stories/README.md``.

:func:`assign` enriches the articles the way the enrich service does and gives them to
:class:`~services.enrich.stories.RedisStoryIndex` (a real Redis; or any other
:class:`~services.enrich.stories.StoryIndex`) in the order they were published.
:func:`score_pairs` compares the result pair by pair: a pair of articles in one predicted story is a
true positive when they report the same event, a false positive otherwise; a pair of one event split
over two stories is a false negative.

    python -m evaluation.story_eval [--redis-url URL] [--thresholds 0.2,0.3,0.4]

prints the scores (and the wrong pairs) for each story text threshold (``story_text_threshold``: the
articles have text, so it is the one that decides), to choose the default.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from pathlib import Path

import yaml
from redis.asyncio import Redis

from evaluation.enrich_eval import Counts, load_eval_set, run
from services.enrich.enrichers.base import Enricher
from services.enrich.enrichers.registry import default_enrichers
from services.enrich.stories import RedisStoryIndex, StoryIndex
from shared.models import Article, Origin
from shared.redis_client import delete_namespace
from shared.settings import Settings

__all__ = ["STORY_DIR", "PairScores", "StoryItem", "assign", "load_story_set", "score_pairs"]

STORY_DIR = Path(__file__).resolve().parent / "stories"


@dataclass
class StoryItem:
    """One labelled article: its event (``story``) and the article."""

    id: str
    story: str
    article: Article


@dataclass
class PairScores(Counts):
    """Pairwise true/false positives and false negatives of a story assignment, with the wrong pairs."""

    errors: list[str] = dc_field(default_factory=list)

    def summary(self) -> str:
        return (
            f"pairs: precision {self.precision:.3f}, recall {self.recall:.3f}, F1 {self.f1:.3f} "
            f"(tp {self.tp}, fp {self.fp}, fn {self.fn})"
        )


def _published(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def load_story_set(directory: Path = STORY_DIR) -> list[StoryItem]:
    """The enrichment set's articles (one event each) and the story set's, sorted by id."""
    items = [StoryItem(i.id, i.id, i.article) for i in load_eval_set()]
    for path in sorted(directory.glob("*.yaml")):
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
        published = _published(d["published_at"])
        article = Article(
            id=d["id"],
            content_hash=d["id"],
            title=d["title"].strip(),
            body=d["body"].strip(),
            source=d.get("outlet") or "newsflow-eval",
            published_at=published,
            language=d["language"],
            raw_format="fields",
            ingested_at=published,
            origin=Origin(topic="eval", partition=0, offset=len(items)),
        )
        items.append(StoryItem(d["id"], d["story"], article))
    return sorted(items, key=lambda i: i.id)


async def assign(
    items: Sequence[StoryItem],
    redis: Redis | None,
    settings: Settings,
    enrichers: Sequence[Enricher] | None = None,
    index: StoryIndex | None = None,
) -> list[str]:
    """The story id of every item (in the order of ``items``): enriched in batches, assigned in the
    order the articles were published, a batch at a time, as the enrich service would see them."""
    order = sorted(range(len(items)), key=lambda k: (items[k].article.published_at, items[k].id))
    enrichers = enrichers if enrichers is not None else default_enrichers(settings)
    docs = run(enrichers, [items[k].article for k in order], batch_size=settings.enrich_batch_size)
    if index is None:
        assert redis is not None, "a Redis client, or another story index"
        index = RedisStoryIndex(redis, settings)
    ids: list[str] = []
    for start in range(0, len(docs), settings.enrich_batch_size):
        ids += await index.assign(docs[start : start + settings.enrich_batch_size])
    out = [""] * len(items)
    for k, story_id in zip(order, ids, strict=True):
        out[k] = story_id
    return out


def score_pairs(items: Sequence[StoryItem], predicted: Sequence[str]) -> PairScores:
    """Pairwise scores of ``predicted`` story ids against the labels."""
    s = PairScores()
    for (a, pa), (b, pb) in itertools.combinations(zip(items, predicted, strict=True), 2):
        same, joined = a.story == b.story, pa == pb
        if same and joined:
            s.tp += 1
        elif joined:
            s.fp += 1
            s.errors.append(f"joined, different events: {a.id} / {b.id}")
        elif same:
            s.fn += 1
            s.errors.append(f"split, one event: {a.id} / {b.id}")
    return s


async def _sweep(redis_url: str, thresholds: list[float]) -> None:
    items = load_story_set()
    stories = len({i.story for i in items})
    print(f"{len(items)} articles, {stories} events")
    redis = Redis.from_url(redis_url)
    enrichers = default_enrichers(Settings())
    try:
        for threshold in thresholds:
            ns = f"nfeval:stories:{uuid.uuid4().hex[:10]}"
            settings = Settings(redis_url=redis_url, redis_namespace=ns, story_text_threshold=threshold)
            try:
                s = score_pairs(items, await assign(items, redis, settings, enrichers))
            finally:
                await delete_namespace(redis, ns)
            print(f"text threshold {threshold:.2f}: {s.summary()}")
            for line in s.errors:
                print("   ", line)
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--thresholds", default="0.2,0.25,0.3,0.35,0.4,0.5")
    args = parser.parse_args()
    asyncio.run(_sweep(args.redis_url, [float(t) for t in args.thresholds.split(",")]))


if __name__ == "__main__":
    main()
