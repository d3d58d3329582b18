"""Story quality on public sets: newsflow's story index against a TF-IDF single-pass script, same run.

Sets (``../shared/data/external/``, read by path, never copied; see :mod:`evaluation.story_sets`):

- ECB+ development half: English articles, two different events per topic. B-cubed and pairwise
  precision / recall / F1, the articles streamed in file order and in a shuffled order (seed 0);
  no dates, so every article has one event time. Once more (shuffled) with every article signed
  by its fields (entities, key phrases, numbers) instead of its text, as before the text signature.
- SemEval-2022 Task 8 development pairs (cookie and paywall pages dropped): every distinct text in
  one shuffled stream (seed 0); per group (English, same language not English, cross-language),
  the share of pairs rated the same story (overall <= 1.5) given one ``story_id`` and the share of
  pairs rated different stories (overall >= 3.5) kept apart.
- The hand-labelled set (``evaluation/stories`` and the enrichment set's seeds, published dates,
  in publication order): pairwise scores, the check that the real-time behaviour still holds.

newsflow: every text made into an article the way ingest makes one, enriched by the default
enrichers, then assigned by :class:`~services.enrich.stories.RedisStoryIndex` on the real Redis
(a fresh namespace per run, deleted afterwards), in batches of ``enrich_batch_size``. Each story
text threshold (``story_text_threshold``) in ``--thresholds`` is one run; the TF-IDF baseline
(:mod:`evaluation.story_baseline`) is run at each of ``--baseline-thresholds`` on the same texts in the same orders.

    python -m bench.quality_stories [--redis-url URL] [--thresholds 0.2,0.25,0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from evaluation.enrich_eval import run
from evaluation.story_baseline import tfidf_single_pass
from evaluation.story_eval import assign as assign_labelled
from evaluation.story_eval import load_story_set, score_pairs
from evaluation.story_sets import (
    EXTERNAL_DIR,
    GROUPS,
    EcbDoc,
    SemevalSet,
    as_article,
    bcubed,
    load_ecbplus,
    load_semeval,
    mixed_topics,
    pairwise,
    semeval_scores,
    stream_order,
)
from services.enrich import stories
from services.enrich.analysis.doc import Doc
from services.enrich.enrichers.registry import default_enrichers
from services.enrich.stories import MemoryStoryIndex, RedisStoryIndex, StoryIndex
from shared.redis_client import delete_namespace
from shared.settings import Settings

__all__ = ["main"]

ORDERS: tuple[tuple[str, int | None], ...] = (("file order", None), ("shuffled, seed 0", 0))
SEMEVAL_SEED = 0


@dataclass
class Sets:
    """The enriched texts of both sets."""

    ecb: list[EcbDoc]
    ecb_docs: list[Doc]
    sem: SemevalSet
    sem_docs: list[Doc]


async def _stream(docs: Sequence[Doc], order: Sequence[int], index: StoryIndex, batch: int) -> tuple[list[str], float]:
    """The story id of every doc (indexed like ``docs``), assigned in ``order``; seconds spent assigning."""
    out = [""] * len(docs)
    spent = 0.0
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        t = time.perf_counter()
        ids = await index.assign([docs[k] for k in chunk])
        spent += time.perf_counter() - t
        for k, sid in zip(chunk, ids, strict=True):
            out[k] = sid
    return out, spent


def _print_ecb(label: str, docs: Sequence[EcbDoc], predicted: Sequence[object]) -> None:
    gold = [d.story for d in docs]
    mixed = len(mixed_topics(docs, predicted))
    print(f"  {label:41s} B-cubed {bcubed(gold, predicted)}   pairwise {pairwise(gold, predicted)}   "
          f"{len(set(predicted))} stories; a story with both events of its topic in {mixed} of "
          f"{len({d.topic for d in docs})} topics")  # fmt: skip


def _print_semeval(label: str, sets: Sets, predicted: Sequence[object]) -> None:
    scores = semeval_scores(sets.sem.pairs, predicted)
    print(f"  {label}")
    for group in (*GROUPS, "all"):
        print(f"    {group:28s} {scores[group]}")


async def _newsflow(sets: Sets, redis: Redis, threshold: float, labelled: bool) -> None:
    """One story threshold: every set through a fresh Redis story index (and the memory twin on SemEval)."""
    base = Settings(story_text_threshold=threshold)
    print(f"\nnewsflow, story_text_threshold {threshold:.2f} (by fields: story_threshold {base.story_threshold:.2f})")
    for name, seed in ORDERS:
        settings = base.model_copy(update={"redis_namespace": f"nfbench:stories:{uuid.uuid4().hex[:10]}"})
        try:
            ids, _ = await _stream(sets.ecb_docs, stream_order(len(sets.ecb), seed),
                                   RedisStoryIndex(redis, settings), settings.enrich_batch_size)  # fmt: skip
        finally:
            await delete_namespace(redis, settings.redis_namespace)
        _print_ecb(f"ECB+ ({name})", sets.ecb, ids)
    # every article signed by its fields, as before the text signature (same run, same Redis script)
    settings = base.model_copy(update={"redis_namespace": f"nfbench:stories:{uuid.uuid4().hex[:10]}"})
    try:
        with _signed_by_fields():
            ids, _ = await _stream(sets.ecb_docs, stream_order(len(sets.ecb), ORDERS[1][1]),
                                   RedisStoryIndex(redis, settings), settings.enrich_batch_size)  # fmt: skip
    finally:
        await delete_namespace(redis, settings.redis_namespace)
    _print_ecb(f"ECB+ signed by fields ({ORDERS[1][0]})", sets.ecb, ids)
    settings = base.model_copy(update={"redis_namespace": f"nfbench:stories:{uuid.uuid4().hex[:10]}"})
    order = stream_order(len(sets.sem_docs), SEMEVAL_SEED)
    try:
        ids, spent = await _stream(sets.sem_docs, order, RedisStoryIndex(redis, settings), settings.enrich_batch_size)
    finally:
        await delete_namespace(redis, settings.redis_namespace)
    _print_semeval(f"SemEval pairs, one stream of {len(order)} texts (shuffled, seed {SEMEVAL_SEED}):", sets, ids)
    memory, _ = await _stream(sets.sem_docs, order, MemoryStoryIndex(settings), settings.enrich_batch_size)
    agree = sum(a == b for a, b in zip(ids, memory, strict=True))
    print(f"    Redis index: {spent * 1000 / max(1, len(order)):.2f} ms per article assigned "
          f"(batches of {settings.enrich_batch_size}); the memory twin agrees on {agree}/{len(ids)} texts")  # fmt: skip
    settings = base.model_copy(update={"redis_namespace": f"nfbench:stories:{uuid.uuid4().hex[:10]}"})
    try:
        with _signed_by_fields():
            ids, spent = await _stream(sets.sem_docs, order, RedisStoryIndex(redis, settings),
                                       settings.enrich_batch_size)  # fmt: skip
    finally:
        await delete_namespace(redis, settings.redis_namespace)
    _print_semeval("SemEval pairs, the same stream, every article signed by its fields:", sets, ids)
    print(f"    Redis index: {spent * 1000 / max(1, len(order)):.2f} ms per article assigned")
    if labelled:
        items = load_story_set()
        settings = base.model_copy(update={"redis_namespace": f"nfbench:stories:{uuid.uuid4().hex[:10]}"})
        try:
            s = score_pairs(items, await assign_labelled(items, redis, settings))
        finally:
            await delete_namespace(redis, settings.redis_namespace)
        print(f"  hand-labelled set ({len(items)} articles, dated): {s.summary()}")


@contextlib.contextmanager
def _signed_by_fields() -> Iterator[None]:
    """Every article signed by its enrichment fields, as before the text signature (for the same-run comparison:
    ``MIN_TEXT_WORDS`` out of reach while it lasts)."""
    saved = stories.MIN_TEXT_WORDS
    stories.MIN_TEXT_WORDS = sys.maxsize
    try:
        yield
    finally:
        stories.MIN_TEXT_WORDS = saved


def _baseline(sets: Sets, threshold: float) -> None:
    texts = [d.text for d in sets.ecb]
    print(f"\nTF-IDF single pass, cosine threshold {threshold:.2f}")
    for name, seed in ORDERS:
        _print_ecb(f"ECB+ ({name})", sets.ecb, tfidf_single_pass(texts, stream_order(len(texts), seed), threshold))
    order = stream_order(len(sets.sem.texts), SEMEVAL_SEED)
    _print_semeval("SemEval pairs, the same stream:", sets, tfidf_single_pass(sets.sem.texts, order, threshold))


def _enrich(settings: Settings) -> Sets:
    ecb = load_ecbplus()
    sem = load_semeval()
    enrichers = default_enrichers(settings)
    t = time.perf_counter()
    ecb_docs = run(
        enrichers, [as_article(d.text, f"ecb-{k}", k) for k, d in enumerate(ecb)], settings.enrich_batch_size
    )
    sem_docs = run(
        enrichers, [as_article(x, f"sem-{k}", k) for k, x in enumerate(sem.texts)], settings.enrich_batch_size
    )
    n = len(ecb_docs) + len(sem_docs)
    print(f"enriched {n} texts in {time.perf_counter() - t:.1f} s (default enrichers, batches of "
          f"{settings.enrich_batch_size})")  # fmt: skip
    return Sets(ecb, ecb_docs, sem, sem_docs)


async def _main(args: argparse.Namespace) -> int:
    settings = Settings()
    sets = _enrich(settings)
    print(
        f"ECB+: {len(sets.ecb)} articles, {len({d.story for d in sets.ecb})} events, "
        f"{len({d.topic for d in sets.ecb})} topics (two events each; no dates: one event time)"
    )
    counts = {g: sum(1 for p in sets.sem.pairs if p.group == g) for g in GROUPS}
    print(f"SemEval: {len(sets.sem.pairs)} pairs kept ({sets.sem.dropped} dropped: a cookie, consent or paywall "
          f"page), {len(sets.sem.texts)} distinct texts; pairs per group: {counts}")  # fmt: skip
    for threshold in args.baseline_thresholds:
        _baseline(sets, threshold)
    redis = Redis.from_url(args.redis_url)
    try:
        for threshold in args.thresholds:
            await _newsflow(sets, redis, threshold, labelled=not args.no_labelled)
    finally:
        await redis.aclose()
    return 0


def _floats(value: str) -> list[float]:
    return [float(x) for x in value.split(",") if x.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the story scores of newsflow and the TF-IDF baseline; 2 when a set is missing."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--thresholds",
        type=_floats,
        default=[Settings().story_text_threshold],
        help="newsflow story text thresholds (story_text_threshold), one run each (default: the setting's default)",
    )
    parser.add_argument(
        "--baseline-thresholds", type=_floats, default=[0.2, 0.3, 0.4], help="TF-IDF cosine thresholds, one run each"
    )
    parser.add_argument("--no-labelled", action="store_true", help="skip the hand-labelled set")  # fmt: skip
    args = parser.parse_args(argv)
    for name in ("ecbplus-dev.jsonl", "semeval2022-pairs-dev.jsonl"):
        if not (EXTERNAL_DIR / name).is_file():
            print(f"{EXTERNAL_DIR / name} is missing: nothing to measure", file=sys.stderr)
            return 2
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
