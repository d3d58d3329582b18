"""The publish composition root: real adapters by default (Redis, Kafka), anything else when passed in.

``bootstrap(settings)`` wires the Redis ledger, subscription store, outbox, stream and recent-stories
view around one Redis client; tests pass a :class:`~services.publish.ledger.MemoryLedger` and a
:class:`~services.publish.subscription_store.MemorySubscriptionStore` for a handler without I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver
from redis.asyncio import Redis

from shared.apiauth import ApiAuth
from shared.egress import EgressPolicy, GuardedResolver
from shared.kafka import ensure_topics as create_topics
from shared.records import OutRecord
from shared.redis_client import make_redis
from shared.settings import Settings

from .api import ApiLimits, PublishApi
from .dispatcher import WebhookDispatcher
from .handler import PublishHandler
from .ledger import DeliveryLedger, Journal, RedisLedger
from .outbox import Outbox, OutboxJournal
from .recent import RecentStore
from .routing import Router, load_routing
from .stream import StreamHub
from .subscription_store import RedisSubscriptionStore, SubscriptionCatalog, SubscriptionStore

__all__ = ["Publish", "bootstrap"]


@dataclass
class Publish:
    """Everything the publish service runs, wired."""

    settings: Settings
    redis: Redis
    ledger: DeliveryLedger
    store: SubscriptionStore
    catalog: SubscriptionCatalog
    outbox: Outbox
    hub: StreamHub
    recent: RecentStore
    handler: PublishHandler
    dispatcher: WebhookDispatcher
    api: PublishApi


def bootstrap(
    settings: Settings,
    *,
    redis: Redis | None = None,
    ledger: DeliveryLedger | None = None,
    store: SubscriptionStore | None = None,
    dead_letters: Callable[[list[OutRecord]], Awaitable[None]] | None = None,
    ensure_topics: Callable[[list[str]], Awaitable[object]] | None = None,
    resolver: AbstractResolver | None = None,
    journal: Journal | None = None,
    journal_outbox: OutboxJournal | None = None,
    gated: bool = False,
) -> Publish:
    """Wire publish. ``dead_letters`` produces webhook dead letters, ``journal`` acknowledged webhook / stream
    deliveries to ``news.deliveries`` and ``journal_outbox`` the webhook outbox's entries and dead letters
    there (the worker passes its producer for all three). ``gated``: the Redis ledger
    refuses to answer while it is not rebuilt (the worker, which runs the rebuild, passes ``state_rebuild``).
    ``resolver`` answers DNS for webhook targets (default: the system's; tests pass a stub), always behind
    the egress policy's :class:`~shared.egress.GuardedResolver`."""
    redis = redis if redis is not None else make_redis(settings)
    rules = load_routing(settings.routing_file)
    ledger = ledger if ledger is not None else RedisLedger(
        redis, namespace=settings.redis_key("delivered"), ttl_s=settings.delivery_window_s,
        gated=gated, journal=journal,
    )  # fmt: skip
    store = store if store is not None else RedisSubscriptionStore(redis, namespace=settings.redis_key("publish"))
    catalog = SubscriptionCatalog(store, rules.subscriptions, poll_s=settings.subscription_poll_s)
    outbox = Outbox(redis, namespace=settings.redis_key("webhooks"), ttl_s=settings.delivery_window_s)
    hub = StreamHub(redis, namespace=settings.redis_key("publish"), history=settings.stream_history)
    recent = RecentStore(
        redis, namespace=settings.redis_key("publish", "recent"), ttl_s=settings.recent_ttl_s,
        keep_stories=settings.recent_stories,
    )  # fmt: skip

    async def no_sink(outs: list[OutRecord]) -> None:
        raise RuntimeError("no dead-letter producer wired; the delivery stays in the outbox")

    egress = EgressPolicy(
        allow_insecure=settings.webhook_allow_insecure, allow_private=settings.webhook_allow_private_networks
    )
    guarded = GuardedResolver(egress, resolver)
    dispatcher = WebhookDispatcher(settings, catalog, store, outbox, ledger, dead_letters or no_sink, guarded,
                                   journal_outbox=journal_outbox)  # fmt: skip
    handler = PublishHandler(
        settings, Router(rules.routes), ledger,
        catalog=catalog, outbox=outbox, hub=hub, recent=recent,
        ensure_topics=ensure_topics or (lambda names: create_topics(settings, names)), notify=dispatcher.notify,
        journal_outbox=journal_outbox,
    )  # fmt: skip
    return Publish(settings, redis, ledger, store, catalog, outbox, hub, recent, handler, dispatcher,
                   PublishApi(catalog, store, hub, recent, ApiAuth.from_settings(settings, redis), guarded, ApiLimits(
                       settings.api_max_body_bytes, settings.api_max_subscriptions_per_key, egress)))  # fmt: skip
