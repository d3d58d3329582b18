"""``make bench-archive``: the archive's write rate and search latency, on synthetic articles.

1. Write rate, same run, same articles, each into an empty archive: the archive handler (JSON parsed and
   validated, rows COPYed and upserted, 200 per batch, as the service runs it) against a plain ``INSERT``
   per article (one transaction each).
2. Search latency at ``--articles`` (default 100,000) archived articles: p50/p95 of each query shape
   over ``--repeat`` runs with varied words, entities, countries and ranges, and the ``EXPLAIN (ANALYZE,
   BUFFERS)`` of the word + entity + time-range query (docs/archive.md shows them).

The articles are generated, not copied: headlines and bodies are words drawn (Zipf-weighted) from the
cue lexicons of newsflow's category enricher (``services/enrich/data/iptc_mediatopics.yaml``), with that
topic's entities, a few countries, a source, a time in the last year; 90 % English, 10 % French.
Everything runs in a database of its own on ``--postgres`` (created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pycountry
import yaml
from psycopg import sql

from services.archive.handler import ArchiveHandler
from shared.archive.query import page_sql, parse_search
from shared.archive.rows import row_of
from shared.archive.store import ArchiveStore, open_store
from shared.models import EnrichedArticle
from shared.records import InRecord
from shared.settings import Settings

LEXICON = Path(__file__).resolve().parents[1] / "services" / "enrich" / "data" / "iptc_mediatopics.yaml"
NOW = datetime.now(UTC).replace(microsecond=0)


class Vocabulary:
    def __init__(self, seed: int = 7) -> None:
        data = yaml.safe_load(LEXICON.read_text())
        self.rng = random.Random(seed)
        self.topics: list[dict[str, Any]] = []
        for t in data["topics"]:
            words = {lang: [w.rstrip("*") for w in cues] for lang, cues in t["cues"].items() if lang in ("en", "fr")}
            self.topics.append({"code": t["code"], "name": t["name"], "words": words, "entities": t["entities"]})
        self.common = {lang: [w for t in self.topics for w in t["words"].get(lang, [])] for lang in ("en", "fr")}
        self.countries = [(c.alpha_2, c.name) for c in pycountry.countries]
        self.sources = [f"Wire {i:02d}" for i in range(40)]
        first = ["Anna", "Marco", "Li", "Amara", "Jonas", "Sofia", "Omar", "Yuki", "Elena", "Kwame", "Ravi", "Chloe"]
        last = ["Keller", "Rossi", "Chen", "Diallo", "Berg", "Silva", "Haddad", "Sato", "Novak", "Mensah", "Iyer"]
        self.people = [f"{f} {la}" for f in first for la in last]

    def _words(self, lang: str, topic: dict[str, Any], n: int) -> list[str]:
        own = topic["words"].get(lang) or topic["words"]["en"]
        pool = self.common[lang]
        weights = [1 / (i + 1) for i in range(len(pool))]  # Zipf: a few words are everywhere
        picks = self.rng.choices(pool, weights=weights, k=n)
        for i in range(0, n, 3):
            picks[i] = self.rng.choice(own)
        return picks

    def article(self, i: int) -> bytes:
        rng = self.rng
        topic = rng.choice(self.topics)
        lang = "fr" if rng.random() < 0.1 else "en"
        people = rng.sample(self.people, 2)
        orgs = rng.sample(topic["entities"], min(2, len(topic["entities"])))
        countries = rng.sample(self.countries, rng.randint(1, 3))
        title = " ".join(self._words(lang, topic, 8)).capitalize()
        body = ". ".join(" ".join(self._words(lang, topic, 12)) for _ in range(10)) + f". {people[0]} said."
        at = NOW - timedelta(seconds=rng.randint(0, 365 * 86400))
        span = {"in": "body", "start": 0, "end": 1}
        doc = {
            "schema_version": 1, "id": f"nf_b{i:08d}", "version": 1, "content_hash": f"h{i}", "title": title,
            "body": body, "raw_format": "fields", "source": rng.choice(self.sources), "language": lang,
            "url": f"https://example.org/{i}", "published_at": at.isoformat(), "ingested_at": at.isoformat(),
            "origin": {"topic": "news.raw", "partition": 0, "offset": i}, "story_id": f"st_{i // 4:07d}",
            "enrichment": {
                "enriched_at": NOW.isoformat(),
                "language": {"code": lang, "method": "bench", "version": "1"},
                "countries": {"value": [{"code": c, "name": n, "score": 1.0, "mentions": 1} for c, n in countries],
                              "method": "bench", "version": "1"},
                "category": {"value": [{"code": topic["code"], "name": topic["name"], "score": 0.7}],
                             "method": "bench", "version": "1"},
                "entities": {"people": [{"name": p, "mentions": 1, "first": span} for p in people],
                             "organizations": [{"name": o, "mentions": 1, "first": span} for o in orgs],
                             "places": [], "groups": [], "method": "bench", "version": "1"},
                "summary": {"text": body[:200], "method": "bench", "version": "1"},
            },
        }  # fmt: skip
        return orjson.dumps(doc)


def _records(values: list[bytes]) -> list[InRecord]:
    return [InRecord("news.enriched", 0, i, None, v) for i, v in enumerate(values)]


async def _fresh(admin: str) -> tuple[str, str]:
    name = f"nfbench_{uuid.uuid4().hex[:10]}"
    async with await psycopg.AsyncConnection.connect(admin, autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, admin.rsplit("/", 1)[0] + "/" + name


async def _drop(admin: str, name: str) -> None:
    async with await psycopg.AsyncConnection.connect(admin, autocommit=True) as conn:
        await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


async def _store(url: str) -> ArchiveStore:
    store = await open_store(url, max_size=2, search_timeout_ms=60_000)
    await store.migrate()
    return store


async def write_rates(admin: str, vocab: Vocabulary, n: int, n_plain: int) -> None:
    values = [vocab.article(i) for i in range(n)]
    names = []
    try:
        name, url = await _fresh(admin)
        names.append(name)
        store = await _store(url)
        handler = ArchiveHandler(Settings(), store)
        started = time.perf_counter()
        for i in range(0, n, 200):
            await handler.handle(_records(values[i : i + 200]))
        batched = n / (time.perf_counter() - started)
        await store.close()

        name, url = await _fresh(admin)
        names.append(name)
        store = await _store(url)
        started = time.perf_counter()
        for v in values[:n_plain]:  # parsed the same way, written one INSERT (one transaction) each
            await store.write_plain([row_of(EnrichedArticle.model_validate_json(v), v.decode())])
        plain = n_plain / (time.perf_counter() - started)
        await store.close()
    finally:
        for name in names:
            await _drop(admin, name)
    print(f"write: batched (handler, 200 per batch, COPY + upsert) {batched:,.0f} articles/s over {n:,}")
    print(f"write: plain INSERT per article (same articles)      {plain:,.0f} articles/s over {n_plain:,}"
          f"  -> batched is {batched / plain:.1f}x")  # fmt: skip


def _shapes(vocab: Vocabulary) -> dict[str, Any]:
    rng = vocab.rng

    def word() -> str:
        topic = rng.choice(vocab.topics)
        return rng.choice(topic["words"]["en"])

    def month() -> dict[str, list[str]]:
        start = NOW - timedelta(days=rng.randint(30, 360))
        return {"from": [start.date().isoformat()], "to": [(start + timedelta(days=30)).date().isoformat()]}

    return {
        "word + entity + 30-day range": lambda: {"q": [word()], "entity": [rng.choice(vocab.people)], **month()},
        "word only (relevance)": lambda: {"q": [word()]},
        "two words + country, by time": lambda: {"q": [f"{word()} {word()}"], "country": [rng.choice(
            vocab.countries)[0]], "sort": ["time"]},
        "phrase + category": lambda: {"q": [f'"{word()} {word()}"'], "category": [rng.choice(vocab.topics)["code"]]},
        "no text: country + source, newest": lambda: {"country": [rng.choice(vocab.countries)[0]],
                                                     "source": [rng.choice(vocab.sources)]},
        "no filters at all, newest": lambda: {},
    }  # fmt: skip


async def search_latency(admin: str, vocab: Vocabulary, n: int, repeat: int, keep: bool) -> None:
    name, url = await _fresh(admin)
    try:
        store = await _store(url)
        started = time.perf_counter()
        chunk: list[bytes] = []
        for i in range(n):
            chunk.append(vocab.article(100_000_000 + i))
            if len(chunk) == 2000 or i == n - 1:
                await store.write([row_of(EnrichedArticle.model_validate_json(v), v.decode()) for v in chunk])
                chunk = []
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute("VACUUM ANALYZE articles")
        stats = await store.stats()
        print(f"\nsearch: {n:,} articles loaded in {time.perf_counter() - started:.0f}s; table with indexes "
              f"{stats.bytes / 1e6:,.0f} MB")  # fmt: skip
        for label, make in _shapes(vocab).items():
            times = []
            hits = []
            for _ in range(repeat):
                query = parse_search(make())
                t0 = time.perf_counter()
                res = await store.search(query)
                times.append((time.perf_counter() - t0) * 1000)
                hits.append(res["facets"]["hits"] if res["facets"] else 0)
            times.sort()
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            print(f"search: {label:36s} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  "
                  f"(median facet sample {statistics.median(hits):.0f} hits; page + facets)")  # fmt: skip
        configs = await store.configs()
        query = parse_search(_shapes(vocab)["word + entity + 30-day range"]())
        text, params = page_sql(query, configs)
        async with store.pool.connection() as conn:
            cur = await conn.execute(b"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + text.encode(), params)
            plan = "\n".join(r[0] for r in await cur.fetchall())
        print(f"\nEXPLAIN of one 'word + entity + 30-day range' page ({query.words}, {query.filters}):\n{plan}")
        await store.close()
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            await _drop(admin, name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--write-articles", type=int, default=20_000)
    ap.add_argument("--plain-articles", type=int, default=3_000)
    ap.add_argument("--articles", type=int, default=100_000, help="archived before the search is timed")
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--skip-write", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the search database (its name is printed)")
    args = ap.parse_args()
    vocab = Vocabulary()
    if not args.skip_write:
        asyncio.run(write_rates(args.postgres, vocab, args.write_articles, args.plain_articles))
    asyncio.run(search_latency(args.postgres, vocab, args.articles, args.repeat, args.keep))


if __name__ == "__main__":
    main()
