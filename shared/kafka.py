"""Kafka plumbing: the one way to build a Faust app, create topics and produce.

Services call :func:`make_app` for their ``faust.App`` and :func:`run_worker`
to run it, the same way in a container as on a laptop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from typing import Any

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from . import logs, tracing
from .agent import blocked_batches
from .limits import max_record_bytes
from .settings import Settings

__all__ = [
    "aiokafka_kwargs",
    "ensure_topics",
    "make_app",
    "make_producer",
    "partition_lags",
    "run_worker",
    "wait_for_broker",
]

log = logging.getLogger(__name__)


def _ssl_context(settings: Settings) -> ssl.SSLContext | None:
    sec = settings.kafka_security
    if sec.protocol not in ("SSL", "SASL_SSL"):
        return None
    ctx = ssl.create_default_context(cafile=str(sec.ssl_cafile) if sec.ssl_cafile else None)
    if sec.ssl_certfile:
        ctx.load_cert_chain(str(sec.ssl_certfile), str(sec.ssl_keyfile) if sec.ssl_keyfile else None)
    return ctx


def aiokafka_kwargs(settings: Settings) -> dict[str, Any]:
    """Connection arguments for aiokafka clients (producer, consumer, admin)."""
    sec = settings.kafka_security
    kw: dict[str, Any] = {"bootstrap_servers": settings.bootstrap_servers, "security_protocol": sec.protocol}
    ctx = _ssl_context(settings)
    if ctx is not None:
        kw["ssl_context"] = ctx
    if sec.protocol.startswith("SASL"):
        kw["sasl_mechanism"] = sec.sasl_mechanism
        kw["sasl_plain_username"] = sec.sasl_username
        kw["sasl_plain_password"] = sec.sasl_password.get_secret_value() if sec.sasl_password else None
    return kw


def _faust_credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    sec = settings.kafka_security
    ctx = _ssl_context(settings)
    if sec.protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=sec.sasl_username,
            password=sec.sasl_password.get_secret_value() if sec.sasl_password else None,
            mechanism=sec.sasl_mechanism,
            ssl_context=ctx,
        )
    if ctx is not None:
        return faust.SSLCredentials(ctx)
    return None


def make_app(service: str, settings: Settings) -> faust.App:
    """A ``faust.App`` for one service; its id is the consumer group id."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tracing.setup(service, settings)  # a no-op unless an OTLP endpoint is configured
    servers = ";".join(f"kafka://{s.strip()}" for s in settings.bootstrap_servers.split(","))
    return faust.App(
        settings.group_id(service),
        broker=servers,
        broker_credentials=_faust_credentials(settings),
        store="memory://",
        datadir=str(settings.data_dir / "{conf.id}"),
        autodiscover=False,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_commit_interval=settings.commit_interval_s,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger_ms=5,
        producer_max_batch_size=1_048_576,  # Faust's 16 KB: a batch of 3 KB articles took several round trips
        # every output of an accepted article fits (shared/limits.py); so does every record we read
        producer_max_request_size=max_record_bytes(settings.max_article_bytes),
        consumer_max_fetch_size=max_record_bytes(settings.max_article_bytes),
        topic_partitions=settings.partitions,
        topic_disable_leader=True,
        topic_allow_declare=False,
        web_enabled=settings.web_port > 0,
        web_port=settings.web_port or 6066,
        web_bind="0.0.0.0",
        logging_config=None,
    )


def raw_topic(app: faust.App, name: str) -> faust.TopicT:
    """A topic of bytes keys and values (our codec works on bytes)."""
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")


__all__ += ["raw_topic"]


async def wait_for_broker(settings: Settings, timeout_s: float = 30.0) -> None:
    """Return once the broker answers metadata requests, else raise."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    last: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            last = exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise KafkaConnectionError(f"broker {settings.bootstrap_servers} not reachable after {timeout_s}s: {last}")


async def ensure_topics(settings: Settings, names: list[str] | None = None) -> list[str]:
    """Create newsflow's topics with the configured partitions; return the created ones.

    Idempotent: existing topics are left as they are. Run before workers start,
    since a broker would otherwise auto-create them with its own defaults.
    """
    wanted = names if names is not None else settings.topics.all()
    admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(wanted) if t not in existing]
        if not missing:
            return []
        # topic-level max.message.bytes: the broker's default (about 1 MB on Apache Kafka) is too small
        configs = {"max.message.bytes": str(max_record_bytes(settings.max_article_bytes))}
        compacted = {**configs, "cleanup.policy": "compact"}  # the ledger's log: the latest record per delivery id
        new = [
            NewTopic(t, settings.partitions, settings.replication_factor,
                     topic_configs=compacted if t == settings.topics.deliveries else configs)
            for t in missing
        ]  # fmt: skip
        with contextlib.suppress(TopicAlreadyExistsError):  # a concurrent creator won; fine
            await admin.create_topics(new)
        return missing
    finally:
        await admin.close()


def partition_lags(app: faust.App) -> list[tuple[str, int, int]]:
    """(topic, partition, lag) per assigned partition: the fetch high-water mark minus the next
    offset the stream reads (Faust's read offset, else its committed one). Partitions not fetched
    yet, or with no position, are left out. ``end_offsets`` are not used: they are wrong on Tansu.
    (Right after an assignment, before the first record is read, Faust's read offset is the seek
    position, so the figure is one below the true lag until then.)"""
    consumer = app.consumer
    read = getattr(consumer, "_read_offset", {})
    committed = getattr(consumer, "_committed_offset", {})
    lags: list[tuple[str, int, int]] = []
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        last = read.get(tp)
        if last is None:
            last = committed.get(tp)
        if highwater is not None and last is not None:
            lags.append((tp.topic, tp.partition, highwater - (last + 1)))
    return lags


def make_producer(settings: Settings, **overrides: Any) -> AIOKafkaProducer:
    kw: dict[str, Any] = {
        "acks": "all",
        "linger_ms": 5,
        "max_batch_size": 1_048_576,
        "max_request_size": max_record_bytes(settings.max_article_bytes),
        **aiokafka_kwargs(settings),
    }
    kw.update(overrides)
    return AIOKafkaProducer(**kw)


def run_worker(app: faust.App, settings: Settings, topics: list[str]) -> None:
    """Run one Faust worker until SIGINT/SIGTERM (the container entrypoint).

    Waits for the broker and creates the topics first, so a worker started
    before the broker (compose, Kubernetes) simply waits.
    """
    asyncio.run(_prepare(settings, topics))
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker = _Worker(
        app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False, **logs.worker_logging(settings)
    )
    # Faust's terminal spinner sets the root logger to DEBUG (for itself): every aiokafka/Faust
    # ``log.debug`` then builds a record, about 6% of a no-work worker's CPU. No spinner, no DEBUG.
    worker.spinner = None
    worker.execute_from_commandline()


class _Worker(faust.Worker):
    """A Faust worker that stops on SIGTERM even while a batch is blocked on a failed dependency.

    Faust waits for every event being processed to be acked before it stops (``stream_wait_empty``),
    which a batch retrying a dead Redis never is: the worker would never stop. When a batch is blocked,
    the worker stops without waiting; the batch's offsets are not committed, so it is redone by the
    next owner (at-least-once; outputs are idempotent).
    """

    def _schedule_shutdown(self, signal: Any) -> None:
        if blocked_batches():
            log.warning("stopping with %d blocked batch(es): their offsets stay uncommitted", blocked_batches())
            self.app.conf.stream_wait_empty = False
        super()._schedule_shutdown(signal)


async def _prepare(settings: Settings, topics: list[str]) -> None:
    await wait_for_broker(settings, timeout_s=60)
    created = await ensure_topics(settings, topics)
    if created:
        log.info("created topics %s with %d partitions", created, settings.partitions)
