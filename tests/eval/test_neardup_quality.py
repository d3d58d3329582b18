"""Near-duplicate quality on the labelled set, through the real decision path of both stores.

Measured with the defaults (``python -m bench.neardup_sweep``): precision
1.000 and recall 1.000 on 112 syndicated copies and 32 hard negatives (plus
the 16 bases, which must not match each other), in both stores; the same
over 8 independent hash seeds. The floors sit just under that: two false
positives or four missed copies in the whole set fail the test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from evaluation.neardup import EvalResult, evaluate
from services.ingest.dedup import DedupStore, MemoryDedupStore, NearParams, RedisDedupStore
from services.ingest.minhash import DEFAULT_PARAMS, min_equal_slots
from shared.redis_client import delete_namespace

PRECISION_FLOOR = 0.99  # measured 1.000: two false positives (112/114 = 0.982) fail
RECALL_FLOOR = 0.97  # measured 1.000: four missed copies (108/112 = 0.964) fail

NEAR = NearParams(min_equal_slots=min_equal_slots(DEFAULT_PARAMS))
WINDOW_S = 3600


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[DedupStore]:
    client = Redis.from_url(redis_url)
    ns = f"nftest:neardup-eval:{uuid.uuid4().hex[:12]}"
    try:
        yield RedisDedupStore(client, namespace=ns, ttl_s=WINDOW_S, near=NEAR)
    finally:
        await delete_namespace(client, ns)
        await client.aclose()


def _report(name: str, res: EvalResult) -> None:
    print(f"\nnear-duplicate quality, {name}: {res.summary()}")
    for line in res.errors:
        print("  ", line)


def _check(res: EvalResult) -> None:
    assert res.exact == 0, "a syndicated copy or negative was decided as an exact duplicate: the set is broken"
    assert res.precision >= PRECISION_FLOOR, res.errors
    assert res.recall >= RECALL_FLOOR, res.errors


async def test_memory_store_meets_the_precision_and_recall_floors() -> None:
    res = await evaluate(MemoryDedupStore(NEAR))
    _report("MemoryDedupStore", res)
    _check(res)


@pytest.mark.integration
async def test_redis_store_meets_the_floors_with_the_same_decisions_as_the_memory_store(
    redis_store: DedupStore,
) -> None:
    res = await evaluate(redis_store)
    _report("RedisDedupStore", res)
    _check(res)
    mem = await evaluate(MemoryDedupStore(NEAR))
    for case_id, d in res.decisions.items():
        m = mem.decisions[case_id]
        assert (d.status, d.duplicate_of, d.kind) == (m.status, m.duplicate_of, m.kind), case_id
        assert d.similarity == pytest.approx(m.similarity), case_id
