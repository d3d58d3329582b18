"""One dedup contract, two stores: ``MemoryDedupStore`` and ``RedisDedupStore`` on the real Redis.

Every test gets a fresh store (for Redis: a unique namespace, its keys deleted
afterwards). The race tests run two ``RedisDedupStore`` instances on two
separate Redis connections, as two ingest replicas would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis

from evaluation.neardup import Case, load_cases
from services.ingest.dedup import DedupDecision, DedupItem, DedupStore, MemoryDedupStore, NearParams, RedisDedupStore
from services.ingest.fingerprint import content_hash, url_hash
from services.ingest.minhash import DEFAULT_PARAMS, bands, estimate_similarity, min_equal_slots, signature
from shared.redis_client import delete_namespace

pytestmark = pytest.mark.integration

WINDOW_S = 3600
NEAR = NearParams(min_equal_slots=min_equal_slots(DEFAULT_PARAMS))
CASES = {c.id: c for c in load_cases()}
BASE = CASES["ecb-rates"]
NEAR_COPY = CASES["ecb-rates/words-changed-new-headline"]
OTHER_NEAR_COPY = CASES["ecb-rates/outlet-header-dateline-trailer"]
SAME_EVENT = CASES["ecb-rates/analysis"]  # a different story on the same meeting


@dataclass
class Env:
    """Makes stores sharing one state: one memory store, or one Redis namespace."""

    kind: str
    redis_url: str
    ns: str = field(default_factory=lambda: f"nftest:dedup:{uuid.uuid4().hex[:12]}")
    clients: list[Redis] = field(default_factory=list)
    _memory: MemoryDedupStore | None = None

    def store(self, near: NearParams = NEAR, *, namespace: str | None = None) -> DedupStore:
        """A store on this test's state; for Redis on a new connection each call (another replica)."""
        if self.kind == "memory":
            if self._memory is None:
                self._memory = MemoryDedupStore(near)
            return self._memory
        client = Redis.from_url(self.redis_url)
        self.clients.append(client)
        return RedisDedupStore(client, namespace=namespace or self.ns, ttl_s=WINDOW_S, near=near)

    async def keys(self, pattern: str = "*") -> list[str]:
        client = self.clients[0] if self.clients else Redis.from_url(self.redis_url)
        if not self.clients:
            self.clients.append(client)
        return sorted([k.decode() async for k in client.scan_iter(match=pattern, count=1000)])


async def _cleanup(e: Env) -> None:
    if e.kind == "redis":
        keys = await e.keys(f"{e.ns}:*")
        if keys:
            await e.clients[0].delete(*keys)
        for c in e.clients:
            await c.aclose()


@pytest.fixture(params=["memory", "redis"])
async def env(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Env]:
    e = Env(request.param, redis_url)
    yield e
    await _cleanup(e)


@pytest.fixture
async def redis_env(redis_url: str) -> AsyncIterator[Env]:
    e = Env("redis", redis_url)
    yield e
    await _cleanup(e)


@pytest.fixture
def token() -> str:
    """Makes this test's ids unique, so leftovers of other runs can never match."""
    return uuid.uuid4().hex[:8]


def item(case: Case, owner: str, article_id: str, *, url: str = "", body_extra: str = "") -> DedupItem:
    body = case.body + body_extra
    sig = signature(case.title, body)
    return DedupItem(
        owner=owner,
        article_id=article_id,
        content_hash=content_hash(case.title, body),
        url_hash=url_hash(url) if url else "",
        signature=sig,
        bands=bands(sig),
    )


async def one(store: DedupStore, it: DedupItem) -> DedupDecision:
    (d,) = await store.decide([it])
    return d


def same_outcome(a: DedupDecision, b: DedupDecision) -> bool:
    """Everything downstream sees: passes or not, id, version, what it duplicates, how, how much."""
    return (a.passes, a.article_id, a.version, a.duplicate_of, a.kind, a.reason, a.similarity) == (
        b.passes,
        b.article_id,
        b.version,
        b.duplicate_of,
        b.kind,
        b.reason,
        b.similarity,
    )


# --------------------------------------------------------------------------- new / version


async def test_first_sighting_is_new_version_one(env: Env, token: str) -> None:
    d = await one(env.store(), item(BASE, f"raw/0/{token}1", f"{token}-a", url=f"https://a.example/{token}"))
    assert (d.status, d.article_id, d.version, d.passes, d.duplicate_of) == ("new", f"{token}-a", 1, True, None)


async def test_new_content_at_a_known_url_is_the_next_version_not_a_duplicate(env: Env, token: str) -> None:
    store, url = env.store(), f"https://a.example/{token}"
    await one(store, item(BASE, "raw/0/1", f"{token}-a", url=url))
    # A correction: nearly the same text at the same URL is a version, never a near duplicate of itself.
    v2 = await one(store, item(BASE, "raw/0/2", f"{token}-a", url=url, body_extra=" Correction: 4.00%, not 4.50%."))
    v3 = await one(store, item(NEAR_COPY, "raw/0/3", f"{token}-a", url=url))
    assert (v2.status, v2.article_id, v2.version, v2.passes) == ("version", f"{token}-a", 2, True)
    assert (v3.status, v3.version, v3.passes) == ("version", 3, True)


# --------------------------------------------------------------------------- replay (crash safety)


async def test_replay_of_a_new_article_returns_the_same_decision(env: Env, token: str) -> None:
    store, it = env.store(), item(BASE, "raw/0/1", f"{token}-a", url=f"https://a.example/{token}")
    first = await one(store, it)
    again = await one(env.store(), it)
    assert again.status == "replay"
    assert same_outcome(first, again)
    assert again.passes and again.duplicate_of is None


async def test_replay_of_the_original_after_its_copies_arrived_is_never_a_duplicate_of_itself(
    env: Env, token: str
) -> None:
    store, original = env.store(), item(BASE, "raw/0/1", f"{token}-a", url=f"https://a.example/{token}")
    first = await one(store, original)
    await store.decide(
        [item(BASE, "raw/1/1", f"{token}-b"), item(NEAR_COPY, "raw/1/2", f"{token}-c")]
    )  # an exact and a near copy
    again = await one(env.store(), original)
    assert again.passes and again.duplicate_of is None
    assert same_outcome(first, again)


async def test_replay_of_a_version_keeps_its_version_number(env: Env, token: str) -> None:
    store, url = env.store(), f"https://a.example/{token}"
    await one(store, item(BASE, "raw/0/1", f"{token}-a", url=url))
    v2_item = item(BASE, "raw/0/2", f"{token}-a", url=url, body_extra=" Updated with market reaction.")
    v2 = await one(store, v2_item)
    again = await one(env.store(), v2_item)
    assert (again.status, again.version) == ("replay", 2)
    assert same_outcome(v2, again)


@pytest.mark.parametrize("copy_kind", ["exact", "near"])
async def test_replay_of_a_dropped_duplicate_returns_the_same_duplicate_decision(
    env: Env, token: str, copy_kind: str
) -> None:
    store = env.store()
    await one(store, item(BASE, "raw/0/1", f"{token}-a"))
    copy = item(BASE if copy_kind == "exact" else NEAR_COPY, "raw/0/2", f"{token}-b")
    first = await one(store, copy)
    again = await one(env.store(), copy)
    assert first.duplicate_of == f"{token}-a" and first.kind == copy_kind
    assert again.status in ("replay", "dup")
    assert same_outcome(first, again)
    assert again.duplicate_of != again.article_id


# --------------------------------------------------------------------------- exact and near duplicates


async def test_same_content_from_another_record_is_an_exact_duplicate(env: Env, token: str) -> None:
    store = env.store()
    await one(store, item(BASE, "raw/0/1", f"{token}-a", url=f"https://a.example/{token}"))
    d = await one(store, item(BASE, "raw/0/2", f"{token}-b", url=f"https://b.example/{token}"))
    assert (d.status, d.passes, d.duplicate_of, d.kind, d.reason, d.similarity) == (
        "dup",
        False,
        f"{token}-a",
        "exact",
        "content",
        1.0,
    )


async def test_same_url_and_content_from_another_record_is_an_exact_duplicate_by_url(env: Env, token: str) -> None:
    store, url = env.store(), f"https://a.example/{token}"
    await one(store, item(BASE, "raw/0/1", f"{token}-a", url=url))
    d = await one(store, item(BASE, "raw/3/9", f"{token}-a", url=url))
    assert (d.status, d.duplicate_of, d.kind, d.reason) == ("dup", f"{token}-a", "exact", "url")


async def test_near_copy_is_a_near_duplicate_with_its_similarity(env: Env, token: str) -> None:
    store = env.store()
    a, b = item(BASE, "raw/0/1", f"{token}-a"), item(NEAR_COPY, "raw/0/2", f"{token}-b")
    await one(store, a)
    d = await one(store, b)
    expected = estimate_similarity(a.signature, b.signature)
    assert (d.status, d.passes, d.duplicate_of, d.kind, d.reason) == ("dup", False, f"{token}-a", "near", "minhash")
    assert d.similarity == pytest.approx(expected, abs=1e-9)
    assert d.similarity is not None and DEFAULT_PARAMS.threshold <= d.similarity < 1.0


async def test_exact_copy_of_a_dropped_duplicate_points_at_the_original(env: Env, token: str) -> None:
    store = env.store()
    await one(store, item(BASE, "raw/0/1", f"{token}-a"))
    await one(store, item(NEAR_COPY, "raw/0/2", f"{token}-b"))
    d = await one(store, item(NEAR_COPY, "raw/0/3", f"{token}-c"))
    assert (d.status, d.duplicate_of, d.kind) == ("dup", f"{token}-a", "exact")


async def test_different_story_on_the_same_event_passes(env: Env, token: str) -> None:
    store = env.store()
    await one(store, item(BASE, "raw/0/1", f"{token}-a"))
    d = await one(store, item(SAME_EVENT, "raw/0/2", f"{token}-b"))
    assert (d.status, d.passes) == ("new", True)


async def test_article_without_signature_skips_the_near_check(env: Env, token: str) -> None:
    store = env.store()
    await one(store, item(BASE, "raw/0/1", f"{token}-a"))
    unsigned = item(NEAR_COPY, "raw/0/2", f"{token}-b")
    unsigned = DedupItem(unsigned.owner, unsigned.article_id, unsigned.content_hash)
    assert (await one(store, unsigned)).status == "new"


async def test_near_check_off_lets_near_copies_pass(env: Env, token: str) -> None:
    store = env.store(NearParams(min_equal_slots=0))
    await one(store, item(BASE, "raw/0/1", f"{token}-a"))
    assert (await one(store, item(NEAR_COPY, "raw/0/2", f"{token}-b"))).status == "new"
    assert (await one(store, item(BASE, "raw/0/3", f"{token}-c"))).kind == "exact"


async def test_one_batch_is_decided_in_order(env: Env, token: str) -> None:
    ds = await env.store().decide(
        [
            item(BASE, "raw/0/1", f"{token}-a"),
            item(NEAR_COPY, "raw/0/2", f"{token}-b"),
            item(BASE, "raw/0/3", f"{token}-c"),
            item(SAME_EVENT, "raw/0/4", f"{token}-d"),
            item(BASE, "raw/0/1", f"{token}-a"),
        ]
    )
    assert [(d.status, d.duplicate_of, d.kind) for d in ds] == [
        ("new", None, None),
        ("dup", f"{token}-a", "near"),
        ("dup", f"{token}-a", "exact"),
        ("new", None, None),
        ("replay", None, None),
    ]


# --------------------------------------------------------------------------- Redis keys


async def test_redis_keys_carry_the_namespace_and_expire_within_the_window(redis_env: Env, token: str) -> None:
    await redis_env.store().decide(
        [
            item(BASE, "raw/0/1", f"{token}-a", url=f"https://a.example/{token}"),
            item(NEAR_COPY, "raw/0/2", f"{token}-b"),
            item(SAME_EVENT, "raw/0/3", f"{token}-c", url=f"https://c.example/{token}"),
        ]
    )
    keys = await redis_env.keys(f"{redis_env.ns}:*")
    by_kind: dict[str, list[str]] = {}
    for k in keys:
        by_kind.setdefault(k.removeprefix(f"{redis_env.ns}:").split(":")[0], []).append(k)
    # content: all three records; url: the two with a URL; signature + bands: the two that passed
    assert {kind: len(ks) for kind, ks in by_kind.items() if kind != "b"} == {"c": 3, "u": 2, "s": 2}
    assert DEFAULT_PARAMS.bands <= len(by_kind["b"]) <= 2 * DEFAULT_PARAMS.bands
    assert sorted(by_kind["s"]) == [f"{redis_env.ns}:s:{token}-a", f"{redis_env.ns}:s:{token}-c"]
    assert all(k.startswith(f"{redis_env.ns}:") for k in await redis_env.keys(f"*{token}*"))
    ttls = [await redis_env.clients[0].ttl(k) for k in keys]
    assert all(0 < t <= WINDOW_S for t in ttls), ttls


# --------------------------------------------------------------------------- races between replicas


def _story_pairs() -> list[tuple[Case, Case]]:
    """Two different near copies of each base story (each a near duplicate of the other)."""
    pairs = []
    for base in (c for c in load_cases() if c.label == "base"):
        a, b = (CASES[f"{base.id}/{r}"] for r in ("outlet-header-dateline-trailer", "words-changed-new-headline"))
        assert estimate_similarity(signature(a.title, a.body), signature(b.title, b.body)) >= DEFAULT_PARAMS.threshold
        pairs.append((a, b))
    return pairs


async def _race(
    redis_url: str, ns: str, rounds: int, make: Callable[[int, str], tuple[DedupItem, DedupItem]]
) -> list[tuple[DedupDecision, DedupDecision]]:
    ra, rb = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        out = []
        for r in range(rounds):
            round_ns = f"{ns}:r{r}"
            sa = RedisDedupStore(ra, namespace=round_ns, ttl_s=WINDOW_S, near=NEAR)
            sb = RedisDedupStore(rb, namespace=round_ns, ttl_s=WINDOW_S, near=NEAR)
            x, y = make(r, round_ns)
            (da,), (db,) = await asyncio.gather(sa.decide([x]), sb.decide([y]))
            out.append((da, db))
        return out
    finally:
        await delete_namespace(ra, ns)
        await ra.aclose()
        await rb.aclose()


@pytest.mark.parametrize("copy_kind", ["near", "exact"])
async def test_two_replicas_racing_on_two_copies_of_one_story_pass_exactly_one(redis_url: str, copy_kind: str) -> None:
    pairs = _story_pairs()
    items = {
        r: (
            item(a, f"raw/0/{r}", f"r{r}-x"),
            item(b if copy_kind == "near" else a, f"raw/1/{r}", f"r{r}-y"),
        )
        for r, (a, b) in enumerate(pairs * 8)
    }
    results = await _race(redis_url, f"nftest:race:{uuid.uuid4().hex[:10]}", len(items), lambda r, _: items[r])
    for da, db in results:
        passed = [d for d in (da, db) if d.passes]
        dropped = [d for d in (da, db) if not d.passes]
        assert len(passed) == 1 and len(dropped) == 1, (da, db)
        assert passed[0].status == "new"
        assert (dropped[0].status, dropped[0].kind, dropped[0].duplicate_of) == ("dup", copy_kind, passed[0].article_id)


async def test_two_replicas_racing_with_whole_batches_pass_one_copy_per_story(redis_url: str) -> None:
    pairs = _story_pairs()
    ra, rb = Redis.from_url(redis_url), Redis.from_url(redis_url)
    ns = f"nftest:race:{uuid.uuid4().hex[:10]}"
    try:
        for r in range(10):
            sa = RedisDedupStore(ra, namespace=f"{ns}:r{r}", ttl_s=WINDOW_S, near=NEAR)
            sb = RedisDedupStore(rb, namespace=f"{ns}:r{r}", ttl_s=WINDOW_S, near=NEAR)
            xs = [item(a, f"raw/0/{i}", f"s{i}-x") for i, (a, _) in enumerate(pairs)]
            ys = [item(b, f"raw/1/{i}", f"s{i}-y") for i, (_, b) in enumerate(pairs)][::-1]
            da, db = await asyncio.gather(sa.decide(xs), sb.decide(ys))
            by_story: dict[str, list[DedupDecision]] = {}
            for d in [*da, *db]:
                by_story.setdefault(d.article_id.split("-")[0], []).append(d)
            for story, ds in by_story.items():
                passed = [d for d in ds if d.passes]
                assert len(passed) == 1, (story, ds)
                (dropped,) = [d for d in ds if not d.passes]
                assert (dropped.kind, dropped.duplicate_of) == ("near", passed[0].article_id)
    finally:
        await delete_namespace(ra, ns)
        await ra.aclose()
        await rb.aclose()


def _synthetic(owner: str, article_id: str, slots: dict[range, int]) -> DedupItem:
    """An item with a hand-made signature: ``slots`` maps slot ranges to a marker value."""
    values = [10_000 + i for i in range(DEFAULT_PARAMS.num_perm)]
    for rng, marker in slots.items():
        for i in rng:
            values[i] = marker * 1_000_000 + i
    sig = b"".join(v.to_bytes(4, "little") for v in values)
    return DedupItem(owner, article_id, content_hash=f"synthetic-{article_id}", signature=sig, bands=bands(sig))


async def test_tied_candidates_resolve_the_same_way_in_both_stores(env: Env, token: str) -> None:
    """Two indexed articles equally close to a probe, found through the same band: both stores pick the same one."""
    store, n = env.store(), DEFAULT_PARAMS.num_perm
    probe_slots = {range(n): 1}
    # z and a share band 0 (slots 0-2) with the probe, then each matches a different half: 64 equal slots each.
    z = _synthetic("raw/0/1", f"{token}-z", {range(0, 64): 1, range(64, n): 2})
    a = _synthetic("raw/0/2", f"{token}-a", {range(0, 3): 1, range(3, 64): 3, range(64, n - 3): 1})
    assert (await one(store, z)).status == "new"
    assert (await one(store, a)).status == "new"  # 3 equal slots with z: not a near duplicate
    d = await one(store, _synthetic("raw/0/3", f"{token}-p", probe_slots))
    assert (d.kind, d.similarity) == ("near", 64 / n)
    assert d.duplicate_of == f"{token}-a"  # ties go to the smallest id: sorted candidates, as in the memory store
