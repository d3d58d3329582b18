"""Rebuild ingest's dedup state (``dedup.lua``'s keys) from the log, after Redis lost it.

Every decision ingest takes is on the log: an article that passed (``new`` / ``version``, and a near
copy in ``mark`` mode) is on ``news.ingested`` with its content hash, canonical URL / uri, version and
the raw record it was made from (``origin``); a dropped copy is on ``news.duplicates`` with its
``content_hash`` (added for this), ``duplicate_of``, ``kind`` and ``similarity``. From those records,
for the dedup window, this writes what ``dedup.lua`` would hold:

- ``c:<content hash>``: the decision for that content and its owner (so a redelivered raw record is a
  ``replay``, not a duplicate of itself); exact copies add no key of their own (their content is the
  original's);
- ``u:<url hash>``: the article id and its highest version (a correction after the loss is version n+1);
- ``s:<article id>`` (the MinHash signature of its highest version, computed again from title and body)
  and ``b:<band>`` (the LSH bands of every version): near copies are found again.

Each key expires when the original would have: the record's broker timestamp plus the window. The
writes are idempotent (the same facts give the same keys), so a rebuild interrupted halfway is done
again from the start. Records of one article id share a partition (the key is the id) and are read in
offset order, so "highest version" is the last one read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis

from shared.rebuild import Progress, Rebuild, read_log
from shared.records import InRecord
from shared.settings import Settings

from .fingerprint import comparison_text, url_hash
from .handler import Signer

__all__ = ["DedupRebuilder", "dedup_rebuild"]

log = logging.getLogger(__name__)

_PIPE_RECORDS = 500  # records per Redis pipeline


def _json(value: bytes | None) -> dict[str, Any] | None:
    try:
        d = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    return d if isinstance(d, dict) else None


def _owner(d: dict[str, Any]) -> str | None:
    o = d.get("origin")
    if not isinstance(o, dict):
        return None
    return f"{o.get('topic')}/{o.get('partition')}/{o.get('offset')}"


@dataclass
class DedupRebuilder:
    """Writes the dedup keys for batches of ``news.ingested`` / ``news.duplicates`` records."""

    redis: Redis
    namespace: str
    ttl_s: int
    ingested_topic: str
    duplicates_topic: str
    signer: Signer | None = None
    now_s: float = field(default_factory=time.time)
    versions: dict[str, int] = field(default_factory=dict)  # article id -> highest version written
    skipped: int = 0  # records that are not newsflow's (not JSON, no content hash, no origin)

    def _ttl(self, rec: InRecord) -> int:
        """Seconds the key still has to live (<= 0: already out of the window)."""
        if rec.timestamp_ms is None:
            return self.ttl_s
        return int(rec.timestamp_ms / 1000 + self.ttl_s - self.now_s)

    async def apply(self, records: list[InRecord]) -> None:
        """Write the keys for ``records`` (in their log order)."""
        for i in range(0, len(records), _PIPE_RECORDS):
            await self._apply(records[i : i + _PIPE_RECORDS])

    async def _apply(self, records: list[InRecord]) -> None:
        ns = self.namespace
        passes: list[tuple[InRecord, dict[str, Any], int]] = []
        async with self.redis.pipeline(transaction=False) as pipe:
            for rec in records:
                ttl = self._ttl(rec)
                d = _json(rec.value)
                owner = _owner(d) if d else None
                if ttl <= 0:
                    continue
                if d is None or owner is None or not isinstance(d.get("id"), str):
                    self.skipped += 1
                    continue
                if rec.topic == self.duplicates_topic:
                    if d.get("kind") == "near" and d.get("content_hash"):
                        near = {"o": owner, "id": d["id"], "d": d.get("duplicate_of"), "k": "near", "r": "minhash",
                                "sim": d.get("similarity")}  # fmt: skip
                        pipe.set(f"{ns}:c:{d['content_hash']}", orjson.dumps(near), ex=ttl, nx=True)
                    continue
                if not d.get("content_hash"):
                    self.skipped += 1
                    continue
                u = url_hash(d.get("canonical_url"), uri=d.get("uri"))
                if d.get("duplicate_of"):  # a near copy passed in "mark" mode: no URL key, not indexed
                    marked = {"o": owner, "id": d["id"], "d": d["duplicate_of"], "k": "near", "r": "minhash", "u": u}
                    pipe.set(f"{ns}:c:{d['content_hash']}", orjson.dumps(marked), ex=ttl, nx=True)
                    continue
                version = int(d.get("version") or 1)
                rec_ = {"o": owner, "id": d["id"], "v": version, "u": u}
                pipe.set(f"{ns}:c:{d['content_hash']}", orjson.dumps(rec_), ex=ttl, nx=True)
                latest = version >= self.versions.get(d["id"], 0)
                if latest:
                    self.versions[d["id"]] = version
                if u and latest:
                    pipe.hset(f"{ns}:u:{u}", mapping={"id": d["id"], "v": version})
                    pipe.expire(f"{ns}:u:{u}", ttl)
                if self.signer is not None:
                    passes.append((rec, d, ttl))
            if self.signer is not None and passes:
                signed = self.signer([comparison_text(str(d.get("title") or ""), str(d.get("body") or ""))
                                      for _, d, _ in passes])  # fmt: skip
                for (_, d, ttl), (sig, bands) in zip(passes, signed, strict=True):
                    if not sig:
                        continue
                    if int(d.get("version") or 1) >= self.versions.get(d["id"], 0):
                        pipe.set(f"{ns}:s:{d['id']}", sig, ex=ttl)
                    for b in bands:
                        bk = f"{ns}:b:{b}"
                        pipe.sadd(bk, d["id"])
                        pipe.expire(bk, ttl, nx=True)  # a new set: this TTL ...
                        pipe.expire(bk, ttl, gt=True)  # ... an existing one: the later of the two
            await pipe.execute()

    async def run(self, batches: AsyncIterable[list[InRecord]]) -> int:
        """Apply every batch; the number of records read."""
        read = 0
        async for batch in batches:
            await self.apply(batch)
            read += len(batch)
        return read


def dedup_rebuild(settings: Settings, redis: Redis, signer: Signer | None) -> Rebuild:
    """The rebuild of ``settings``' dedup namespace from its topics, for :class:`~shared.rebuild.StateGate`."""
    t = settings.topics

    async def rebuild(progress: Progress) -> int:
        builder = DedupRebuilder(
            redis, settings.redis_key("dedup"), settings.dedup_window_s, t.ingested, t.duplicates, signer
        )
        since_ms = int((builder.now_s - settings.dedup_window_s) * 1000)
        read = await builder.run(read_log(settings, [t.ingested, t.duplicates], since_ms, progress))
        if builder.skipped:
            log.warning("dedup rebuild: %d records on %s / %s were not newsflow's and were skipped",
                        builder.skipped, t.ingested, t.duplicates)  # fmt: skip
        return read

    return rebuild
