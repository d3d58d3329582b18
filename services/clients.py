"""User-side Kafka helpers behind the CLI: send raw articles, read topics, re-drive the DLQ."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.events import cloudevent_headers
from shared.kafka import aiokafka_kwargs, make_producer
from shared.models import DeadLetter
from shared.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["RawInput", "consume", "iter_inputs", "redrive_dlq", "send_raw", "topic_partitions"]


@dataclass(frozen=True)
class RawInput:
    """One raw article to publish on ``news.raw`` and where it came from."""

    value: bytes
    origin: str


def _from_file(path: Path) -> Iterator[RawInput]:
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        for n, line in enumerate(data.splitlines(), 1):
            if line.strip():
                yield RawInput(line.strip(), f"{path}:{n}")
    elif suffix == ".json":
        yield RawInput(data, str(path))
    elif suffix in (".html", ".htm"):
        yield RawInput(json.dumps({"html": data.decode("utf-8", "replace")}).encode(), str(path))
    else:  # .txt and anything else: the article's text, sent as it is
        yield RawInput(data, str(path))


def iter_inputs(paths: list[str]) -> Iterator[RawInput]:
    """Raw values from files (.txt, .json, .jsonl, .html; folders recursively) or ``-`` (stdin)."""
    for p in paths:
        if p == "-":
            yield RawInput(sys.stdin.buffer.read(), "<stdin>")
            continue
        path = Path(p)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in (".txt", ".json", ".jsonl", ".html", ".htm"):
                    yield from _from_file(child)
        else:
            yield from _from_file(path)


async def send_raw(
    settings: Settings, inputs: list[RawInput], topic: str | None = None, progress: Callable[[], object] | None = None
) -> int:
    """Produce ``inputs`` to ``news.raw`` (or ``topic``); return how many were acknowledged."""
    producer = make_producer(settings)
    await producer.start()
    try:
        futures = []
        for item in inputs:
            headers = cloudevent_headers(event_type="article.raw", source=f"{settings.source_name}/cli")
            futures.append(await producer.send(topic or settings.topics.raw, item.value, headers=list(headers.items())))
            if progress:
                progress()
        for f in futures:
            await f
        return len(futures)
    finally:
        await producer.stop()


async def topic_partitions(consumer: AIOKafkaConsumer, topic: str, timeout_s: float = 30.0) -> list[TopicPartition]:
    """The partitions of ``topic``, waiting (up to ``timeout_s``) for it to exist."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return [TopicPartition(topic, p) for p in sorted(parts)]
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"topic {topic!r} does not exist")
        consumer._client.add_topic(topic)  # make the metadata request include it
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.2)


async def consume(
    settings: Settings, topic: str, *, from_beginning: bool, limit: int | None, idle_timeout_s: float | None = None
) -> AsyncIterator[tuple[TopicPartition, int, bytes | None, bytes | None, dict[str, bytes]]]:
    """Read every partition of ``topic`` without a consumer group."""
    consumer = AIOKafkaConsumer(
        **aiokafka_kwargs(settings),
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        group_id=None,
    )
    await consumer.start()
    try:
        tps = await topic_partitions(consumer, topic)
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        seen = 0
        while limit is None or seen < limit:
            batch = await consumer.getmany(timeout_ms=int((idle_timeout_s or 1.0) * 1000))
            if not batch:
                if idle_timeout_s is not None:
                    return
                continue
            for tp, msgs in batch.items():
                for m in msgs:
                    yield tp, m.offset, m.key, m.value, dict(m.headers or [])
                    seen += 1
                    if limit is not None and seen >= limit:
                        return
    finally:
        await consumer.stop()


async def redrive_dlq(
    settings: Settings, *, code: str | None, stage: str | None, dry_run: bool, idle_timeout_s: float = 2.0
) -> list[DeadLetter]:
    """Send dead letters back to the topic they came from, each once.

    Uses the consumer group ``<prefix>-dlq-redrive``: a re-driven letter is
    committed and not re-driven again; letters filtered out are skipped (and
    also committed, unless ``dry_run``). Letters written after the re-drive
    started (for example by a re-driven record that fails again) are left for
    the next re-drive, so it always ends.
    """
    consumer = AIOKafkaConsumer(
        settings.topics.dlq,
        **aiokafka_kwargs(settings),
        group_id=settings.group_id("dlq-redrive"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=int(settings.session_timeout_s * 1000),
        heartbeat_interval_ms=int(settings.heartbeat_interval_s * 1000),
    )
    producer = make_producer(settings)
    await consumer.start()
    await producer.start()
    sent: list[DeadLetter] = []
    started = datetime.now(UTC)
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle_timeout_s * 1000), max_records=500)
            if not batch:
                break
            futures = []
            done: dict[TopicPartition, int] = {}
            for tp, msgs in batch.items():
                for m in msgs:
                    letter = DeadLetter.model_validate_json(m.value or b"")
                    if letter.failed_at >= started:
                        # a letter written after this re-drive began (maybe by it): leave it for the next one
                        consumer.pause(tp)
                        break
                    done[tp] = m.offset + 1
                    if (code and letter.error.code != code) or (stage and letter.stage != stage):
                        continue
                    if letter.original_truncated:  # only the start of the original was kept: nothing to resend
                        log.warning("not re-driving %s/%s/%s: its original (%s bytes) was too long to keep whole",
                                    m.topic, m.partition, m.offset, letter.original_size)  # fmt: skip
                        continue
                    sent.append(letter)
                    if dry_run:
                        continue
                    key = base64.b64decode(letter.original_key_b64) if letter.original_key_b64 else None
                    headers = [(k, v.encode()) for k, v in letter.original_headers.items()]
                    headers.append(("newsflow_redriven_from", f"{m.topic}/{m.partition}/{m.offset}".encode()))
                    value = base64.b64decode(letter.original_value_b64)
                    futures.append(await producer.send(letter.source_topic, value, key=key, headers=headers))
            for f in futures:
                await f
            if done and not dry_run:
                await consumer.commit(done)
    finally:
        await producer.stop()
        await consumer.stop()
    return sent
