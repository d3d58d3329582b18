"""Rebuild a Redis state from the Kafka log after Redis lost it, before anything is decided again.

Every rebuildable state (ingest dedup, the publish delivery ledger) lives under one Redis namespace and
is *ready* only while ``<namespace>:ready`` exists. The store's own atomic call refuses to decide when
that key is missing (a Lua script, or a ``MULTI`` with ``EXISTS``), raising :class:`StateNotReady`: a
Redis that restarted empty has no ready key, so no decision is ever taken on a forgotten state, however
soon after the loss it comes.

:class:`StateGate` turns that refusal into a pause: the service's batch handler runs inside
:meth:`StateGate.guard`; when the state is not ready the batch waits (its offsets uncommitted, so the
consumer pauses) while one process rebuilds it, then the batch is decided again from the start.

One rebuild for all replicas: the process that takes the lease ``<namespace>:rebuild:lease`` (``SET NX``
with an expiry, renewed while it works) rebuilds; the others wait for the ready key. The rebuild writes
only facts read from the log (idempotent), so a rebuild interrupted by a crash is simply done again by
the next lease holder. An epoch key (``<namespace>:rebuild:epoch``) written when a rebuild starts and
compared when it sets the ready key catches a second loss during the rebuild (the epoch is gone: start
again). While a process waits or rebuilds, ``/readyz`` answers 503 ``rebuilding``, a progress line is
logged every few seconds and ``newsflow_state_rebuilding`` is 1.

:func:`read_log` reads the records of some topics in the window, every partition from the first record
at or after ``since_ms`` up to the fetch high-water mark (``end_offsets`` are wrong on Tansu).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from .events import header_dict
from .failures import describe
from .metrics import STATE_BEHIND, STATE_REBUILD_RECORDS, STATE_REBUILD_SECONDS, STATE_REBUILDING
from .records import InRecord
from .settings import Settings

__all__ = [
    "BEHIND",
    "NOT_READY",
    "Progress",
    "Rebuild",
    "StateBehind",
    "StateGate",
    "StateNotReady",
    "applied_key",
    "apply_all",
    "behind_error",
    "committed_offsets",
    "input_offsets",
    "not_ready_error",
    "read_log",
    "ready_key",
    "records_between",
    "remaining_s",
    "watch_gates",
]

log = logging.getLogger(__name__)

NOT_READY = "NEWSFLOW_NOT_READY"
"""The error a gated Lua script returns when its state is not ready (Redis restarted empty)."""

BEHIND = "NEWSFLOW_BEHIND"
"""The error a script returns when a batch starts after a gap in the input offsets its state holds."""

T = TypeVar("T")
R = TypeVar("R")


class StateNotReady(Exception):
    """The state under a namespace is not ready: Redis lost it and it is not rebuilt yet."""


class StateBehind(Exception):
    """The state is in Redis but behind the log: a batch's first offset on a partition comes after a gap in
    the offsets the state holds (``gaps``: ``"topic/partition"`` -> (highest offset held, the batch's first)).
    Redis lost writes (a failover to a replica that lagged), or the records in between are not there to
    read (transaction markers, records deleted by retention, offsets reset by hand)."""

    def __init__(self, gaps: dict[str, tuple[int, int]]) -> None:
        super().__init__(", ".join(f"{p}: state up to offset {a}, batch from {f}" for p, (a, f) in gaps.items()))
        self.gaps = gaps


def ready_key(namespace: str) -> str:
    return f"{namespace}:ready"


def applied_key(namespace: str) -> str:
    """The hash ``"topic/partition"`` -> highest input offset whose decisions the state holds."""
    return f"{namespace}:applied"


def input_offsets(records: Sequence[InRecord]) -> tuple[dict[str, int], dict[str, int]]:
    """The lowest and the highest offset of ``records`` per ``"topic/partition"``."""
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    for r in records:
        part = f"{r.topic}/{r.partition}"
        low[part] = min(low.get(part, r.offset), r.offset)
        high[part] = max(high.get(part, r.offset), r.offset)
    return low, high


def behind_error(exc: BaseException) -> StateBehind | None:
    """The :class:`StateBehind` a Redis error stands for (``NEWSFLOW_BEHIND part=held<first,...``), else None."""
    if not isinstance(exc, ResponseError) or BEHIND not in str(exc):
        return None
    gaps: dict[str, tuple[int, int]] = {}
    for item in str(exc).split(BEHIND, 1)[1].split():
        part, _, rest = item.rpartition("=")
        held, _, first = rest.partition("<")
        if part and held.isdigit() and first.isdigit():
            gaps[part] = (int(held), int(first))
    return StateBehind(gaps)


def not_ready_error(exc: BaseException) -> StateNotReady | None:
    """The :class:`StateNotReady` a Redis error stands for (a gated script's refusal), else None."""
    if isinstance(exc, ResponseError) and NOT_READY in str(exc):
        return StateNotReady(str(exc))
    return None


@dataclass
class Progress:
    """How far a rebuild is: records read of the ones in the window (``total`` grows as it is learnt)."""

    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        return f"{self.done:,} of {self.total:,} records{share} in {time.monotonic() - self.started:.1f}s"


# A rebuild: writes the state from the log, updating the progress; returns the records read.
Rebuild = Callable[[Progress], Awaitable[int]]

_SET_READY = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2], KEYS[3])
return 1
"""
_ACCEPT_GAP = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return 1
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class StateGate:
    """Pause a service's decisions while its state is rebuilt from the log (see the module doc)."""

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        rebuild: Rebuild,
        *,
        service: str,
        scope: str,
        lease_s: float = 30.0,
        poll_s: float = 0.5,
        log_every_s: float = 5.0,
        settle_s: float = 1.0,
        settings: Settings | None = None,
        committed: Callable[[], Awaitable[dict[str, int]]] | None = None,
        companions: Sequence[str] = (),
    ) -> None:
        self.redis = redis
        self.settings = settings  # to read the log where the state is found behind it (StateBehind)
        # the consumer group's committed offsets per "topic/partition", for check_behind (None: not checked)
        self.committed = committed
        # the ready keys of the other states in the same Redis: writes lost here were lost there too
        self.companions = list(companions)
        self.namespace = namespace
        self.rebuild = rebuild
        self.service = service
        self.scope = scope
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.log_every_s = log_every_s
        self.settle_s = settle_s
        self.ready_key = ready_key(namespace)
        self.lease_key = f"{namespace}:rebuild:lease"
        self.epoch_key = f"{namespace}:rebuild:epoch"
        self.applied_key = applied_key(namespace)
        self.rebuilding = False
        self.progress: Progress | None = None
        self.rebuilds = 0
        self._lock = asyncio.Lock()
        self._set_ready = redis.register_script(_SET_READY)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._accept_gap = redis.register_script(_ACCEPT_GAP)

    async def is_ready(self) -> bool:
        return bool(await self.redis.exists(self.ready_key))

    async def guard(self, fn: Callable[[T], Awaitable[R]], arg: T) -> R:
        """``fn(arg)`` once the state is ready; again from the start whenever it raises
        :class:`StateNotReady` (the state was lost meanwhile), after the rebuild."""
        while True:
            await self.ensure()
            try:
                return await fn(arg)
            except StateNotReady:
                log.error("%s: Redis lost the %s state mid-batch; the batch waits for the rebuild", self.service,
                          self.scope)  # fmt: skip
            except StateBehind as exc:
                await self.behind(exc)

    async def check_behind(self) -> None:
        """Compare the offsets the state holds with the consumer group's committed ones, every partition: a
        state behind what the group committed lost writes (see :meth:`behind`). A batch checks only its own
        partitions, and the state of one partition can decide another's (a copy of an article on another
        partition), so the worker runs this on its state-check timer too."""
        if self.committed is None:
            return
        committed = await self.committed()  # first: what the state holds by now includes what they cover
        raw = await self.redis.hgetall(self.applied_key)
        held = {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}
        gaps = {part: (held[part], c) for part, c in committed.items() if part in held and held[part] + 1 < c}
        if gaps:
            await self.behind(StateBehind(gaps))

    async def behind(self, exc: StateBehind) -> None:
        """A batch found the state behind the log: if a record the state should hold is on the log in a gap
        (Redis lost writes), drop the ready key so the whole state is rebuilt (the writes are facts from the
        log: what Redis kept is written again); where the gap holds no record (transaction markers, records
        deleted by retention, offsets moved by hand), accept it."""
        lost = []
        for part, (held, first) in exc.gaps.items():
            topic, _, partition = part.rpartition("/")
            if self.settings is None or await records_between(self.settings, topic, int(partition), held + 1, first):
                lost.append(part)
            else:
                log.warning("%s: %s offsets %d to %d hold no record to read; the %s state goes on from %d",
                            self.service, part, held + 1, first - 1, self.scope, first)  # fmt: skip
                await self._accept_gap(keys=[self.applied_key], args=[part, held, first - 1])
        if lost:
            STATE_BEHIND.labels(service=self.service, scope=self.scope).inc()
            log.error("%s: REDIS IS BEHIND THE LOG: the %s state misses the decisions on records the consumer "
                      "group committed (%s): writes were lost (a failover to a replica that lagged?); rebuilding "
                      "it and the other states in this Redis from the log", self.service, self.scope,
                      exc)  # fmt: skip
            await self.redis.delete(self.ready_key, *self.companions)

    async def ensure(self) -> None:
        """Return once the state is ready: rebuild it (holding the lease) or wait for the holder."""
        if await self.is_ready():
            return
        async with self._lock:
            STATE_REBUILDING.labels(service=self.service, scope=self.scope).set(1)
            self.rebuilding = True
            last_log = time.monotonic()
            try:
                while not await self.is_ready():
                    token = f"{os.getpid()}-{os.urandom(6).hex()}"
                    if await self.redis.set(self.lease_key, token, nx=True, px=int(self.lease_s * 1000)):
                        await self._rebuild(token)
                        continue
                    if time.monotonic() - last_log >= self.log_every_s:
                        last_log = time.monotonic()
                        holder = await self.redis.get(self.lease_key)
                        log.warning("%s: waiting for the %s state rebuild (lease held by %s)", self.service,
                                    self.scope, holder.decode() if isinstance(holder, bytes) else holder)  # fmt: skip
                    await asyncio.sleep(self.poll_s)
            finally:
                self.rebuilding = False
                STATE_REBUILDING.labels(service=self.service, scope=self.scope).set(0)

    async def _rebuild(self, token: str) -> None:
        log.error("%s: the %s state is not in Redis (lost, or never built): rebuilding it from the log before "
                  "deciding anything", self.service, self.scope)  # fmt: skip
        await self.redis.set(self.epoch_key, token)
        await asyncio.sleep(self.settle_s)  # outputs decided just before the loss and still being produced land
        progress = self.progress = Progress()
        renew = asyncio.ensure_future(self._keep_lease(token))
        report = asyncio.ensure_future(self._report(progress))
        try:
            read = await self.rebuild(progress)
            ok = await self._set_ready(keys=[self.ready_key, self.epoch_key, self.applied_key], args=[token, token])
        finally:
            renew.cancel()
            report.cancel()
            with contextlib.suppress(Exception):
                await self._release(keys=[self.lease_key], args=[token])
        elapsed = time.monotonic() - progress.started
        STATE_REBUILD_SECONDS.labels(service=self.service, scope=self.scope).set(elapsed)
        STATE_REBUILD_RECORDS.labels(service=self.service, scope=self.scope).inc(read)
        if ok:
            self.rebuilds += 1
            log.warning("%s: %s state rebuilt from %s records of the log in %.1fs; resuming", self.service,
                        self.scope, f"{read:,}", elapsed)  # fmt: skip
        else:
            log.error("%s: Redis lost the %s state again during the rebuild; starting over", self.service,
                      self.scope)  # fmt: skip

    async def _keep_lease(self, token: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self._renew(keys=[self.lease_key], args=[token, int(self.lease_s * 1000)])
            except Exception as exc:  # Redis trouble: the rebuild's own writes will fail and say so
                log.warning("%s: lease renewal failed: %s", self.service, describe(exc))

    async def _report(self, progress: Progress) -> None:
        while True:
            await asyncio.sleep(self.log_every_s)
            log.warning("%s: rebuilding the %s state from the log: %s", self.service, self.scope, progress.line())

    def status(self) -> str:
        """For ``/readyz``: ``rebuilding ...`` while this process waits for / runs a rebuild, else ``ok``."""
        if not self.rebuilding:
            return "ok"
        return f"rebuilding: {self.progress.line()}" if self.progress else "rebuilding: waiting for the lease holder"


def remaining_s(rec: InRecord, window_s: int, now_s: float) -> int:
    """Seconds a key made from ``rec`` still has to live: its broker timestamp plus the window, from
    ``now_s`` (<= 0: out of the window; the whole window when the record has no timestamp)."""
    return window_s if rec.timestamp_ms is None else int(rec.timestamp_ms / 1000 + window_s - now_s)


async def apply_all(batches: AsyncIterable[list[InRecord]], apply: Callable[[list[InRecord]], Awaitable[None]]) -> int:
    """``apply`` each batch in turn; the number of records read."""
    read = 0
    async for batch in batches:
        await apply(batch)
        read += len(batch)
    return read


def watch_gates(app: faust.App, gates: Sequence[StateGate], interval_s: float) -> None:
    """Check the gates every ``interval_s`` on a timer of ``app`` and rebuild a lost state at once, without
    waiting for a batch to find it (``/readyz`` shows the rebuild; the first batch then need not wait)."""
    if not gates:
        return

    async def check() -> None:
        for gate in gates:
            try:
                if await gate.is_ready():
                    await gate.check_behind()
                if not await gate.is_ready():
                    await gate.ensure()
            except Exception as exc:  # Redis or the broker down: the next check (or batch) tries again
                log.warning("%s: %s state check failed: %s", gate.service, gate.scope, describe(exc))

    app.timer(interval=interval_s)(check)


async def committed_offsets(settings: Settings, group: str, topics: Sequence[str]) -> dict[str, int]:
    """The offsets ``group`` committed on ``topics``, per ``"topic/partition"`` (a consumer's ``committed``,
    which does not join the group: the admin client's ``list_consumer_group_offsets`` fails on Tansu)."""
    from .kafka import aiokafka_kwargs

    consumer = AIOKafkaConsumer(**aiokafka_kwargs(settings), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        out: dict[str, int] = {}
        for topic in topics:
            for p in sorted(consumer.partitions_for_topic(topic) or ()):
                offset = await consumer.committed(TopicPartition(topic, p))
                if offset is not None and offset >= 0:
                    out[f"{topic}/{p}"] = offset
        return out
    finally:
        await consumer.stop()


async def records_between(settings: Settings, topic: str, partition: int, start: int, end: int) -> bool:
    """Whether ``topic``/``partition`` holds a record (a committed one, not a transaction marker) at an offset
    in ``[start, end)``."""
    from .kafka import aiokafka_kwargs

    if end <= start:
        return False
    consumer = AIOKafkaConsumer(**aiokafka_kwargs(settings), group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed", auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, start)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = (await consumer.getmany(tp, timeout_ms=500, max_records=1)).get(tp, [])
            if got:
                return bool(got[0].offset < end)
            hw = consumer.highwater(tp)
            if hw is not None and await consumer.position(tp) >= min(hw, end):
                return False
        raise TimeoutError(f"reading {topic}/{partition} from offset {start}: no answer")
    finally:
        await consumer.stop()


async def _start_positions(consumer: AIOKafkaConsumer, parts: list[TopicPartition], since_ms: int) -> None:
    """Seek each partition to its first record at or after ``since_ms`` (from the start where the broker
    cannot say; records before the window are then skipped by timestamp)."""
    try:
        found = await consumer.offsets_for_times(dict.fromkeys(parts, since_ms))
    except Exception as exc:  # a broker without ListOffsets by time: read from the start
        log.info("offsets_for_times failed (%s); reading from the start", describe(exc))
        found = {}
    for tp in parts:
        at = found.get(tp)
        if at is not None:
            consumer.seek(tp, at.offset)
        else:
            await consumer.seek_to_beginning(tp)


async def read_log(
    settings: Settings,
    topics: list[str],
    since_ms: int,
    progress: Progress | None = None,
    *,
    max_records: int = 5000,
    idle_timeout_s: float = 30.0,
) -> AsyncIterator[list[InRecord]]:
    """Batches of the records of ``topics`` stamped at or after ``since_ms``, every partition read up to its
    fetch high-water mark (the end when it is reached; records produced meanwhile are included).

    Topics that do not exist are skipped. Raises TimeoutError when no partition moves for ``idle_timeout_s``.
    """
    from .kafka import aiokafka_kwargs  # shared.kafka imports the agent, which imports metrics: keep it lazy

    consumer = AIOKafkaConsumer(
        **aiokafka_kwargs(settings), group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
        max_partition_fetch_bytes=max(1 << 20, settings.max_article_bytes * 4),
    )  # fmt: skip
    await consumer.start()
    try:
        known = await consumer.topics()
        parts = [
            TopicPartition(t, p) for t in dict.fromkeys(topics) if t in known
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]  # fmt: skip
        if not parts:
            return
        consumer.assign(parts)
        await _start_positions(consumer, parts, since_ms)
        starts = {tp: await consumer.position(tp) for tp in parts}
        last_move = time.monotonic()
        while True:
            batch = await consumer.getmany(*parts, timeout_ms=500, max_records=max_records)
            out = [
                InRecord(m.topic, m.partition, m.offset, m.key, m.value, header_dict(m.headers), m.timestamp)
                for msgs in batch.values() for m in msgs
            ]  # fmt: skip
            done = True
            total = 0
            for tp in parts:
                hw = consumer.highwater(tp)
                if hw is None:
                    done = False
                    continue
                total += max(0, hw - starts[tp])
                if await consumer.position(tp) < hw:
                    done = False
            if progress is not None:
                progress.total = max(total, progress.total)
                progress.done += len(out)
            if out:
                last_move = time.monotonic()
                fresh = [r for r in out if r.timestamp_ms is None or r.timestamp_ms >= since_ms]
                if fresh:
                    yield fresh
            if done:
                return
            if time.monotonic() - last_move > idle_timeout_s:
                raise TimeoutError(f"reading {', '.join(topics)}: no progress for {idle_timeout_s:.0f}s")
    finally:
        await consumer.stop()
