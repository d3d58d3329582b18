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
- ``s:<article id>`` (the MinHash signature of its highest version: the ``newsflow_minhash`` header ingest
  writes on each article, or computed again from title and body for records without it) and
  ``b:<band>`` (the LSH bands of every version): near copies are found again.

One ``rebuild.lua`` call writes the keys of up to 500 records. Each key expires when the original
would have: the record's broker timestamp plus the window. The writes are idempotent (the same facts
give the same keys), so a rebuild interrupted halfway is done again from the start. Records of one
article id share a partition (the key is the id) and are read in offset order, so "highest version"
is the last one read.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import orjson
from redis.asyncio import Redis

from shared.rebuild import Progress, Rebuild, apply_all, read_log, remaining_s
from shared.records import InRecord
from shared.settings import Settings

from .fingerprint import comparison_text, url_hash
from .handler import SIGNATURE_HEADER, Signer
from .minhash import DEFAULT_PARAMS, MinHashParams, bands

__all__ = ["DedupRebuilder", "dedup_rebuild"]

log = logging.getLogger(__name__)

_PIPE_RECORDS = 500  # records per rebuild.lua call


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
    signer: Signer | None = None  # None: no near-duplicate keys
    params: MinHashParams = DEFAULT_PARAMS  # the signer's, to read the signatures carried on the log
    now_s: float = field(default_factory=time.time)
    versions: dict[str, int] = field(default_factory=dict)  # article id -> highest version written
    skipped: int = 0  # records that are not newsflow's (not JSON, no content hash, no origin)
    computed: int = 0  # signatures computed again (records without the SIGNATURE_HEADER, from older versions)

    _script_text = files(__package__).joinpath("rebuild.lua").read_text()

    def __post_init__(self) -> None:
        self._script = self.redis.register_script(self._script_text)

    def _carried(self, rec: InRecord) -> bytes | None:
        """The signature ingest indexed, from the record's header, when it has one of these parameters."""
        raw = rec.headers.get(SIGNATURE_HEADER)
        if not raw:
            return None
        try:
            sig = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return None
        return sig if len(sig) == 4 * self.params.num_perm else None

    def _ttl(self, rec: InRecord) -> int:
        return remaining_s(rec, self.ttl_s, self.now_s)

    async def apply(self, records: list[InRecord]) -> None:
        """Write the keys for ``records`` (in their log order)."""
        for i in range(0, len(records), _PIPE_RECORDS):
            await self._apply(records[i : i + _PIPE_RECORDS])

    async def _apply(self, records: list[InRecord]) -> None:
        contents: list[tuple[str, str, int]] = []
        urls: list[tuple[str, str, int, int]] = []
        passes: list[tuple[dict[str, Any], int, bytes | None]] = []
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
                    contents.append((str(d["content_hash"]), orjson.dumps(near).decode(), ttl))
                continue
            if not d.get("content_hash"):
                self.skipped += 1
                continue
            u = url_hash(d.get("canonical_url"), uri=d.get("uri"))
            if d.get("duplicate_of"):  # a near copy passed in "mark" mode: no URL key, not indexed
                marked = {"o": owner, "id": d["id"], "d": d["duplicate_of"], "k": "near", "r": "minhash", "u": u}
                contents.append((str(d["content_hash"]), orjson.dumps(marked).decode(), ttl))
                continue
            version = int(d.get("version") or 1)
            contents.append((str(d["content_hash"]), orjson.dumps({"o": owner, "id": d["id"], "v": version,
                                                                   "u": u}).decode(), ttl))  # fmt: skip
            if version >= self.versions.get(d["id"], 0):
                self.versions[d["id"]] = version
                if u:
                    urls.append((u, d["id"], version, ttl))
            if self.signer is not None:
                passes.append((d, ttl, self._carried(rec)))
        sigs: list[tuple[str, int, int]] = []
        band_rows: list[tuple[str, tuple[str, ...], int]] = []
        packed: list[bytes] = []
        if self.signer is not None and passes:
            todo = [d for d, _, carried in passes if carried is None]  # records without the signature header
            computed = iter(self.signer([comparison_text(str(d.get("title") or ""), str(d.get("body") or ""))
                                         for d in todo]) if todo else [])  # fmt: skip
            signed = [next(computed) if c is None else (c, bands(c, self.params)) for _, _, c in passes]
            self.computed += len(todo)
            for (d, ttl, _), (sig, bs) in zip(passes, signed, strict=True):
                if not sig:
                    continue
                if int(d.get("version") or 1) >= self.versions.get(d["id"], 0):
                    sigs.append((d["id"], len(sig), ttl))
                    packed.append(sig)
                band_rows.append((d["id"], bs, ttl))
        if contents or urls or sigs or band_rows:
            batch = orjson.dumps({"c": contents, "u": urls, "s": sigs, "b": band_rows})
            await self._script(keys=[], args=[self.namespace, batch, b"".join(packed)])

    async def run(self, batches: AsyncIterable[list[InRecord]]) -> int:
        """Apply every batch; the number of records read."""
        return await apply_all(batches, self.apply)


def dedup_rebuild(
    settings: Settings, redis: Redis, signer: Signer | None, params: MinHashParams = DEFAULT_PARAMS
) -> Rebuild:
    """The rebuild of ``settings``' dedup namespace from its topics, for :class:`~shared.rebuild.StateGate`
    (``signer`` and ``params``: ingest's, None when near-duplicate detection is off)."""
    t = settings.topics

    async def rebuild(progress: Progress) -> int:
        builder = DedupRebuilder(
            redis, settings.redis_key("dedup"), settings.dedup_window_s, t.ingested, t.duplicates, signer, params
        )
        since_ms = int((builder.now_s - settings.dedup_window_s) * 1000)
        read = await builder.run(read_log(settings, [t.ingested, t.duplicates], since_ms, progress))
        if builder.skipped:
            log.warning("dedup rebuild: %d records on %s / %s were not newsflow's and were skipped",
                        builder.skipped, t.ingested, t.duplicates)  # fmt: skip
        return read

    return rebuild
