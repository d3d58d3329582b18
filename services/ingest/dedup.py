"""Duplicate decisions: exact (content / URL) and near (MinHash LSH).

One contract, two stores: :class:`RedisDedupStore` (the real one: one Lua
call per :meth:`~DedupStore.decide`, atomic across any number of ingest
replicas, keys namespaced and expiring after the dedup window; the ingest
handler decides a batch in chunks of ``handler.DECIDE_CHUNK`` records) and :class:`MemoryDedupStore` (the same
rules in one process, for unit tests and tools). ``tests/integration`` runs
the same contract suite against both.

A decision for one item is one of:

- ``new``: first time this content is seen; the article passes as version 1.
- ``version``: a known canonical URL with new content (a correction or an
  update); the article passes with the same id and ``version`` + 1.
- ``replay``: the same raw record was decided before (a redelivery after a
  crash or rebalance); the earlier decision is returned unchanged, so an
  article never becomes a duplicate of itself.
- ``dup``: an exact (same normalised content) or near (MinHash similarity at
  or above the threshold) copy of an earlier article, ``duplicate_of`` set.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Literal, Protocol

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.failures import classify, describe
from shared.rebuild import StateBehind, StateNotReady, behind_error, input_offsets, not_ready_error
from shared.records import InRecord, OutRecord

log = logging.getLogger(__name__)

__all__ = [
    "DedupDecision",
    "DedupItem",
    "DedupStore",
    "Handle",
    "MemoryDedupStore",
    "NearParams",
    "RedisDedupStore",
    "past_dead_letters",
]

Status = Literal["new", "version", "replay", "dup"]


@dataclass(frozen=True)
class DedupItem:
    """What the store needs to decide about one article."""

    owner: str  # identity of the raw record: "topic/partition/offset"
    article_id: str
    content_hash: str
    url_hash: str = ""
    signature: bytes = b""  # packed little-endian uint32 MinHash slots; b"" = skip near check
    bands: tuple[str, ...] = ()


@dataclass(frozen=True)
class DedupDecision:
    status: Status
    article_id: str
    version: int = 1
    duplicate_of: str | None = None
    kind: Literal["exact", "near"] | None = None
    reason: str | None = None
    similarity: float | None = None

    @property
    def passes(self) -> bool:
        """True when the article goes on to ``news.ingested``."""
        return self.duplicate_of is None


class DedupStore(Protocol):
    async def decide(
        self, items: list[DedupItem], *, first: dict[str, int] | None = None, last: dict[str, int] | None = None
    ) -> list[DedupDecision]:
        """Decide every item in order, atomically with respect to other callers.

        ``first``: the batch's lowest input offset per ``"topic/partition"`` (its first call): raise
        :class:`~shared.rebuild.StateBehind` instead of deciding when the state holds that partition's
        decisions only up to an offset below ``first - 1`` (writes lost). ``last``: the batch's highest offsets
        (its last call), recorded with the decisions. A call with no items but offsets checks or records them.
        """
        ...


# One decision as dedup.lua returns it (JSON; short keys): the memory store builds the same shape.
_Wire = dict[str, Any]


def _from_wire(raw: _Wire, item: DedupItem) -> DedupDecision:
    dup_of = raw.get("d")
    return DedupDecision(
        status=raw["s"],
        article_id=str(raw.get("id") or item.article_id),
        version=int(raw.get("v") or 1),
        duplicate_of=str(dup_of) if dup_of else None,
        kind=raw.get("k") if dup_of else None,
        reason=raw.get("r") if dup_of else None,
        similarity=float(raw["sim"]) if dup_of and raw.get("sim") is not None else None,
    )


@dataclass
class NearParams:
    """Near-duplicate comparison settings shared by both stores."""

    min_equal_slots: int  # 0 disables the near check
    max_candidates: int = 32


class RedisDedupStore:
    """The shared store: one ``EVALSHA`` of ``dedup.lua`` per :meth:`decide` call.

    ``gated``: refuse to decide (:class:`~shared.rebuild.StateNotReady`) while ``<namespace>:ready`` is
    missing, i.e. after Redis lost the state and before :mod:`services.ingest.rebuild` rebuilt it."""

    _script_text = files(__package__).joinpath("dedup.lua").read_text()

    def __init__(self, redis: Redis, *, namespace: str, ttl_s: int, near: NearParams, gated: bool = False) -> None:
        self._redis = redis
        self._gated = gated
        self._ns = namespace
        self._ttl = ttl_s
        self._near = near
        self._script = redis.register_script(self._script_text)

    async def decide(
        self, items: list[DedupItem], *, first: dict[str, int] | None = None, last: dict[str, int] | None = None
    ) -> list[DedupDecision]:
        if not self._gated:
            first = None  # nothing rebuilds a state found behind: decide on it, as before
        if not items and not first and not last:
            return []
        # two arguments for the whole batch, not two per item: redis-py packs every argument in Python
        metas = [
            {
                "o": it.owner,
                "id": it.article_id,
                "c": it.content_hash,
                "u": it.url_hash,
                "b": it.bands,
                "n": len(it.signature),
            }
            for it in items
        ]
        args: list[str | int | bytes] = [
            self._ns,
            self._ttl,
            self._near.min_equal_slots,
            self._near.max_candidates,
            len(items),
            orjson.dumps(metas),
            b"".join(it.signature for it in items),
            "1" if self._gated else "0",
            orjson.dumps(first) if first else "",
            orjson.dumps(last) if last else "",
        ]
        try:
            raw = await self._script(keys=[], args=args)
        except ResponseError as exc:
            lost = not_ready_error(exc) or behind_error(exc)
            if lost is None:
                raise
            raise lost from exc
        return [_from_wire(r, it) for r, it in zip(orjson.loads(raw), items, strict=True)]


Handle = Callable[[list[InRecord]], Awaitable[list[OutRecord]]]


def past_dead_letters(handle: Handle, store: DedupStore) -> Handle:
    """``handle``, recording in ``store`` the offset of a record the batch loop dead-letters because ``handle``
    failed on it alone for good (:class:`~shared.agent.BatchRunner` isolates it by halving the batch): the
    state has no decision for it, and without its offset the next batch on that partition would start after
    a gap and be taken for lost writes (a needless rebuild)."""

    async def wrapped(records: list[InRecord]) -> list[OutRecord]:
        try:
            return await handle(records)
        except Exception as exc:
            if len(records) == 1 and not isinstance(exc, StateNotReady | StateBehind) and classify(exc) is not None:
                first, last = input_offsets(records)
                try:
                    await store.decide([], first=first, last=last)  # refused after a real gap: then it is one
                except Exception as nested:  # Redis trouble or a gap: the dead letter goes ahead all the same
                    log.warning("dedup: the offset of dead letter %s was not recorded: %s", first, describe(nested))
            raise

    return wrapped


def _equal_slots(a: bytes, b: bytes) -> tuple[int, int]:
    if len(a) != len(b) or not a:
        return 0, 0
    slots = len(a) // 4
    return sum(a[i * 4 : i * 4 + 4] == b[i * 4 : i * 4 + 4] for i in range(slots)), slots


@dataclass
class MemoryDedupStore:
    """The same rules as ``dedup.lua`` in one process (no expiry)."""

    near: NearParams
    content: dict[str, _Wire] = field(default_factory=dict)
    urls: dict[str, _Wire] = field(default_factory=dict)
    sigs: dict[str, bytes] = field(default_factory=dict)
    band_index: dict[str, set[str]] = field(default_factory=dict)

    def _index(self, article_id: str, it: DedupItem) -> None:
        if not it.signature:
            return
        self.sigs[article_id] = it.signature
        for b in it.bands:
            self.band_index.setdefault(b, set()).add(article_id)

    def _decide_one(self, it: DedupItem) -> _Wire:
        rec = self.content.get(it.content_hash)
        if rec is not None:
            if rec["o"] == it.owner:
                return {**{k: rec.get(k) for k in ("id", "v", "d", "k", "r", "sim")}, "s": "replay"}
            if rec.get("d"):
                return {"s": "dup", "id": it.article_id, "d": rec["d"], "k": "exact", "r": "content", "sim": 1.0}
            reason = "url" if it.url_hash and rec.get("u") == it.url_hash else "content"
            return {"s": "dup", "id": it.article_id, "d": rec["id"], "k": "exact", "r": reason, "sim": 1.0}
        if it.url_hash and it.url_hash in self.urls:
            u = self.urls[it.url_hash]
            u["v"] = int(u["v"]) + 1
            self.content[it.content_hash] = {"o": it.owner, "id": u["id"], "v": u["v"], "u": it.url_hash}
            self._index(str(u["id"]), it)
            return {"s": "version", "id": u["id"], "v": u["v"]}
        if it.signature and self.near.min_equal_slots > 0:
            best: str | None = None
            best_eq, slots, seen = -1, 0, set[str]()
            for b in it.bands:
                for cand in sorted(self.band_index.get(b, ())):
                    if cand in seen or cand == it.article_id or len(seen) >= self.near.max_candidates:
                        continue
                    seen.add(cand)
                    eq, sl = _equal_slots(it.signature, self.sigs.get(cand, b""))
                    if eq >= self.near.min_equal_slots and eq > best_eq:
                        best, best_eq, slots = cand, eq, sl
            if best is not None:
                sim = best_eq / slots
                self.content[it.content_hash] = {
                    "o": it.owner, "id": it.article_id, "d": best, "k": "near", "r": "minhash", "sim": sim,
                    "u": it.url_hash,
                }  # fmt: skip
                return {"s": "dup", "id": it.article_id, "d": best, "k": "near", "r": "minhash", "sim": sim}
        self.content[it.content_hash] = {"o": it.owner, "id": it.article_id, "v": 1, "u": it.url_hash}
        if it.url_hash:
            self.urls[it.url_hash] = {"id": it.article_id, "v": 1}
        self._index(it.article_id, it)
        return {"s": "new", "id": it.article_id, "v": 1}

    async def decide(
        self, items: list[DedupItem], *, first: dict[str, int] | None = None, last: dict[str, int] | None = None
    ) -> list[DedupDecision]:
        return [_from_wire(self._decide_one(it), it) for it in items]  # one process: nothing is lost
