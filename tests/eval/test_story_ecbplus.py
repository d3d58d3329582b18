"""Story grouping on ECB+ (the shared development half, read by path; skipped when absent).

All 496 articles in one stream (no dates: one event time), through the real Redis story index, in
file order and shuffled (seed 0). Measured B-cubed F1 0.852 and 0.840 (``make bench-quality-stories``,
``docs/enrichment/stories.md``; 0.815 and 0.800 before articles were signed by their rarest words); the
floors sit just under, so a change that merges the second event of a
topic or splits events more often fails here.
"""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from evaluation.enrich_eval import run
from evaluation.story_sets import EXTERNAL_DIR, as_article, bcubed, load_ecbplus, mixed_topics, stream_order
from services.enrich.analysis.doc import Doc
from services.enrich.enrichers.registry import default_enrichers
from services.enrich.stories import RedisStoryIndex
from shared.redis_client import delete_namespace
from shared.settings import Settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not (EXTERNAL_DIR / "ecbplus-dev.jsonl").is_file(), reason="ECB+ dev half not present"),
]

F1_FLOOR = {None: 0.835, 0: 0.825}  # per stream order (seed): measured 0.852 and 0.840
# of 21 topics, one story holds both events in 12 (file order) and 12 (shuffled); 9 and 9 when signed by fields
MIXED_TOPICS_CEILING = 13


@pytest.fixture(scope="module")
def enriched() -> list[Doc]:
    settings = Settings()
    arts = [as_article(d.text, f"ecb-{k}", k) for k, d in enumerate(load_ecbplus())]
    return run(default_enrichers(settings), arts, settings.enrich_batch_size)


@pytest.mark.parametrize("seed", [None, 0])
async def test_ecbplus_events_grouped_without_merging_a_topics_two_events(
    enriched: list[Doc], redis_url: str, seed: int | None
) -> None:
    gold = [d.story for d in load_ecbplus()]
    redis = Redis.from_url(redis_url)
    settings = Settings(redis_url=redis_url, redis_namespace=f"nftest:ecbplus:{uuid.uuid4().hex[:10]}")
    index = RedisStoryIndex(redis, settings)
    order = stream_order(len(enriched), seed)
    got = [""] * len(enriched)
    try:
        for start in range(0, len(order), settings.enrich_batch_size):
            chunk = order[start : start + settings.enrich_batch_size]
            for k, sid in zip(chunk, await index.assign([enriched[k] for k in chunk]), strict=True):
                got[k] = sid
    finally:
        await delete_namespace(redis, settings.redis_namespace)
        await redis.aclose()
    score = bcubed(gold, got)
    assert score.f1 >= F1_FLOOR[seed], str(score)
    mixed = mixed_topics(load_ecbplus(), got)
    assert len(mixed) <= MIXED_TOPICS_CEILING, mixed
