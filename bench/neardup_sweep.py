"""Near-duplicate threshold / LSH sweep on the labelled set: the evidence behind ``MinHashParams``' defaults.

Run ``python -m bench.neardup_sweep`` (``--redis redis://127.0.0.1:6379/0``
also measures Redis memory per indexed article; ``--quick`` sweeps one seed).
It prints:

1. the exact shingle Jaccard of every labelled pair (probe vs its base) per
   shingle size: the weakest copy, the strongest different story, the gap;
2. how well one-permutation MinHash (what ``minhash`` does) estimates that
   Jaccard, next to classic MinHash with ``num_perm`` independent
   permutations, and what each costs;
3. precision / recall of the real decision path (``MemoryDedupStore``: every
   probe against everything indexed before it) for each signature shape,
   LSH band layout and threshold, averaged over several hash seeds (each seed
   is an independent draw of the hash functions) with the worst seed beside;
4. the cost of one signature for a 550-word article, step by step;
5. with ``--redis``: ``MEMORY USAGE`` of the keys one indexed article creates.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from evaluation.neardup import Case, evaluate, load_cases
from services.ingest.dedup import MemoryDedupStore, NearParams
from services.ingest.fingerprint import comparison_text
from services.ingest.minhash import (
    DEFAULT_PARAMS,
    MinHashParams,
    bands,
    min_equal_slots,
    shingle_hashes,
    signature,
    text_signature,
    tokens,
)

__all__ = ["main"]

THRESHOLDS = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
SHAPES = (  # (num_perm, shingle_size, bands, rows)
    (128, 3, 32, 4),
    (128, 3, 16, 8),
    (128, 3, 25, 5),
    (128, 3, 16, 3),
    (128, 3, 20, 3),
    (128, 3, 24, 3),
    (128, 3, 32, 3),
    (128, 3, 42, 3),
    (128, 3, 32, 2),
    (128, 2, 24, 3),
    (128, 4, 24, 3),
    (128, 5, 24, 3),
    (64, 3, 16, 4),
    (64, 3, 21, 3),
    (256, 3, 48, 3),
)
SEEDS = (1, 2, 3, 4, 5, 6, 7, 8)


def _jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _shingles(cases: tuple[Case, ...], k: int) -> dict[str, np.ndarray]:
    return {c.id: shingle_hashes(tokens(comparison_text(c.title, c.body)), k) for c in cases}


def jaccard_table(cases: tuple[Case, ...]) -> None:
    """Print the exact Jaccard of every probe with its base, per shingle size."""
    print("## 1. exact shingle Jaccard, probe vs its base (no MinHash noise)")
    print(f"{'k':>2} {'min pos':>8} {'p10 pos':>8} {'median pos':>10} {'max neg':>8} {'p90 neg':>8} {'gap':>6}")
    q = statistics.quantiles
    for k in (2, 3, 4, 5):
        sets = {cid: set(x.tolist()) for cid, x in _shingles(cases, k).items()}
        pos = sorted(_jaccard(sets[c.id], sets[c.base]) for c in cases if c.label == "positive")
        neg = sorted(_jaccard(sets[c.id], sets[c.base]) for c in cases if c.label == "negative")
        print(
            f"{k:>2} {pos[0]:8.3f} {q(pos, n=10)[0]:8.3f} {statistics.median(pos):10.3f} "
            f"{neg[-1]:8.3f} {q(neg, n=10)[-1]:8.3f} {pos[0] - neg[-1]:6.3f}"
        )
    k = DEFAULT_PARAMS.shingle_size
    sets = {cid: set(x.tolist()) for cid, x in _shingles(cases, k).items()}
    print(f"\nper recipe at k={k}: min / mean Jaccard with the base")
    recipes: dict[str, list[float]] = {}
    for c in cases:
        if c.label == "positive":
            recipes.setdefault(c.how, []).append(_jaccard(sets[c.id], sets[c.base]))
    for how, js in recipes.items():
        print(f"  {how:<36} {min(js):.3f} / {statistics.mean(js):.3f}")
    worst = sorted(((_jaccard(sets[c.id], sets[c.base]), c.id) for c in cases if c.label == "negative"), reverse=True)
    print("hardest negatives:", ", ".join(f"{cid} {j:.3f}" for j, cid in worst[:4]))


def _classic_minhash(x: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """Reference: ``num_perm`` independent permutations ``(a*x + b) mod 2**64``, top 32 bits of each minimum."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64 - 1, num_perm, dtype=np.uint64, endpoint=True) | np.uint64(1)
    b = rng.integers(0, 2**64 - 1, num_perm, dtype=np.uint64, endpoint=True)
    m = np.empty((len(x), num_perm), dtype=np.uint64)
    np.multiply(x[:, None], a, out=m)
    m += b
    return (m.min(axis=0) >> np.uint64(32)).astype(np.uint32)


def estimator_table(cases: tuple[Case, ...]) -> None:
    """Print estimate-minus-exact Jaccard for one-permutation vs classic MinHash, and their cost."""
    p = DEFAULT_PARAMS
    x = _shingles(cases, p.shingle_size)
    sets = {cid: set(v.tolist()) for cid, v in x.items()}
    ids = [c.id for c in cases]
    rng = np.random.default_rng(0)
    pairs = [(c.id, c.base) for c in cases if c.label != "base"]
    pairs += [(ids[i], ids[j]) for i, j in rng.integers(0, len(ids), (300, 2)) if i != j]
    exact = np.array([_jaccard(sets[a], sets[b]) for a, b in pairs])
    texts = {c.id: comparison_text(c.title, c.body) for c in cases}

    def oph(cid: str, seed: int) -> np.ndarray:
        return np.frombuffer(text_signature(texts[cid], replace(p, seed=seed)), dtype="<u4")

    def classic(cid: str, seed: int) -> np.ndarray:
        return _classic_minhash(shingle_hashes(tokens(texts[cid]), p.shingle_size), p.num_perm, seed)

    print(f"\n## 2. Jaccard estimate error over {len(pairs)} pairs x {len(SEEDS)} seeds, num_perm={p.num_perm}")
    methods: tuple[tuple[str, Callable[[str, int], np.ndarray]], ...] = (
        ("one-permutation + densification", oph),
        ("classic, num_perm permutations", classic),
    )
    for name, fn in methods:
        errs = []
        for seed in SEEDS:
            sig = {cid: fn(cid, seed) for cid in ids}
            errs.append(np.array([np.mean(sig[a] == sig[b]) for a, b in pairs]) - exact)
        e = np.concatenate(errs)
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(200):
                fn("ecb-rates", 1)
            runs.append((time.perf_counter() - t0) / 200 * 1e6)
        print(
            f"  {name:<34} bias {e.mean():+.4f}  rmse {np.sqrt(np.mean(e**2)):.4f}  "
            f"max |err| {np.abs(e).max():.3f}   {min(runs):6.1f} µs from text to slots (340-word article)"
        )
    print(f"  binomial sd at J=0.5 with {p.num_perm} slots: {np.sqrt(0.25 / p.num_perm):.4f}")


def _lsh_p(j: float, b: int, r: int) -> float:
    return 1 - (1 - j**r) ** b


async def sweep(cases: tuple[Case, ...], seeds: tuple[int, ...]) -> None:
    """Print P/R of the memory store for each shape x threshold, mean over seeds (worst seed)."""
    print(f"\n## 3. decision path (MemoryDedupStore): precision/recall, mean over {len(seeds)} seed(s) [worst P/R]")
    print("shape = num_perm/k/bands x rows; cand@J = chance two articles with Jaccard J share a band")
    print(f"{'shape':<12} " + " ".join(f"{t:>20}" for t in THRESHOLDS))
    for num_perm, k, b, r in SHAPES:
        cells = []
        sigs_by_seed = {}
        for seed in seeds:
            sp = MinHashParams(num_perm=num_perm, shingle_size=k, bands=b, rows=r, seed=seed)
            sigs_by_seed[seed] = {c.id: signature(c.title, c.body, sp) for c in cases}
        for t in THRESHOLDS:
            ps, rs = [], []
            for seed in seeds:
                p = MinHashParams(num_perm=num_perm, shingle_size=k, bands=b, rows=r, threshold=t, seed=seed)
                res = await evaluate(MemoryDedupStore(NearParams(min_equal_slots(p))), p, sigs=sigs_by_seed[seed])
                ps.append(res.precision)
                rs.append(res.recall)
            cells.append(f"{statistics.mean(ps):.3f}/{statistics.mean(rs):.3f}[{min(ps):.2f}/{min(rs):.2f}]")
        cand = " ".join(f"{_lsh_p(j, b, r):.2f}" for j in (0.2, 0.45, 0.5, 0.57))
        print(f"{num_perm}/{k}/{b}x{r:<5} " + " ".join(f"{c:>20}" for c in cells) + f"  cand@.2/.45/.5/.57={cand}")


async def defaults_report(cases: tuple[Case, ...]) -> None:
    """Print the defaults' result and the estimated similarity margins."""
    p = DEFAULT_PARAMS
    sigs = {c.id: signature(c.title, c.body, p) for c in cases}

    def est(a: str, b: str) -> float:
        return float(np.mean(np.frombuffer(sigs[a], "<u4") == np.frombuffer(sigs[b], "<u4")))

    pos = [est(c.id, c.base) for c in cases if c.label == "positive"]
    neg = [est(c.id, c.base) for c in cases if c.label == "negative"]
    print(f"\n## defaults {p}")
    print(f"estimated similarity with the base: positives min {min(pos):.3f}, negatives max {max(neg):.3f}")
    res = await evaluate(MemoryDedupStore(NearParams(min_equal_slots(p))), p, sigs=sigs)
    print(f"MemoryDedupStore: {res.summary()}")
    for line in res.errors:
        print("  ", line)


def timing(cases: tuple[Case, ...]) -> None:
    """Print the signature cost for a 550-word article."""
    a, b = (next(c for c in cases if c.id == i) for i in ("ecb-rates", "cop-talks"))
    body = " ".join(f"{a.body} {b.body}".split()[:550])
    title = a.title
    text = comparison_text(title, body)
    toks = tokens(text)
    k = DEFAULT_PARAMS.shingle_size
    print(f"\n## 4. signature cost, 550-word article ({len(toks)} tokens), best of 5 runs")
    steps: tuple[tuple[str, Callable[[], object]], ...] = (
        (f"comparison_text ({comparison_text.__module__})", lambda: comparison_text(title, body)),
        ("tokens", lambda: tokens(text)),
        ("shingle_hashes", lambda: shingle_hashes(toks, k)),
        ("text_signature (tokens + hashes + OPH)", lambda: text_signature(text)),
        ("text_signature + bands", lambda: bands(text_signature(text))),
        ("signature(title, body) + bands, end to end", lambda: bands(signature(title, body))),
    )
    for name, fn in steps:
        fn()
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(400):
                fn()
            runs.append((time.perf_counter() - t0) / 400)
        print(f"  {name:<48} {min(runs) * 1e6:7.1f} µs")


async def memory(url: str) -> None:
    """Print the Redis memory taken per indexed article."""
    from redis.asyncio import Redis

    from services.ingest.dedup import RedisDedupStore

    redis = Redis.from_url(url)
    ns = f"newsflow-bench:{uuid.uuid4().hex[:8]}"
    p = DEFAULT_PARAMS
    try:
        store = RedisDedupStore(redis, namespace=ns, ttl_s=7 * 24 * 3600, near=NearParams(min_equal_slots(p)))
        before = (await redis.info("memory"))["used_memory"]
        res = await evaluate(store, p)
        grown = (await redis.info("memory"))["used_memory"] - before
        keys = [k async for k in redis.scan_iter(match=f"{ns}:*", count=1000)]
        kinds: dict[str, list[int]] = {}
        for key in keys:
            kinds.setdefault(key.decode().split(":")[2], []).append(int(await redis.memory_usage(key, samples=0) or 0))
        info = await redis.info("server")
        server = f"{info.get('server_name', 'redis')} {info.get('valkey_version') or info['redis_version']}"
        new = sum(d.status == "new" for d in res.decisions.values())
        dups = sum(d.status == "dup" for d in res.decisions.values())
        print(f"\n## 5. Redis memory (MEMORY USAGE) on {server}: {new} indexed articles, {dups} dropped duplicates")
        for kind, vals in sorted(kinds.items()):
            print(f"  {ns}:{kind}:*  {len(vals):5d} keys  {statistics.mean(vals):6.0f} bytes/key  {sum(vals):8d} bytes")
        c_key = statistics.mean(kinds["c"])
        indexed = sum(sum(v) for v in kinds.values()) - dups * c_key
        print(
            f"  per indexed article: {indexed / new:.0f} bytes; per dropped duplicate: {c_key:.0f} bytes (its c: key)"
        )
        print(f"  of which near-dup index (s: + b: keys): {(sum(kinds['s']) + sum(kinds['b'])) / new:.0f} bytes")
        print(
            f"  used_memory grew {grown} bytes = {grown / new:.0f} per indexed article (exact only on a private server)"
        )
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{ns}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description="near-duplicate threshold / LSH sweep")
    ap.add_argument(
        "--redis",
        action="append",
        default=[],
        help="also measure Redis memory per indexed article at this URL (repeatable)",
    )
    ap.add_argument("--quick", action="store_true", help="one seed instead of eight")
    args = ap.parse_args()
    cases = load_cases()
    print(
        f"evaluation set: {sum(c.label == 'base' for c in cases)} bases, "
        f"{sum(c.label == 'positive' for c in cases)} positives, {sum(c.label == 'negative' for c in cases)} negatives"
        f"; comparison text from {comparison_text.__module__}\n"
    )
    jaccard_table(cases)
    estimator_table(cases)
    asyncio.run(sweep(cases, SEEDS[:1] if args.quick else SEEDS))
    asyncio.run(defaults_report(cases))
    timing(cases)
    for url in args.redis:
        asyncio.run(memory(url))


if __name__ == "__main__":
    main()
