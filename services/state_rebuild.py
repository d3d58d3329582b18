"""The states newsflow can rebuild from the log, for the ``newsflow state`` commands and the benchmark.

Each service wires its own gate in its app (with its running parts: ingest's signer, publish's
subscription catalog); this builds the same gates from the settings alone, so an operator can rebuild
a state by hand (``newsflow state rebuild``) while the workers wait, or see where a rebuild is.
"""

from __future__ import annotations

from redis.asyncio import Redis

from services.enrich.rebuild import story_rebuild
from services.enrich.stories import RedisStoryIndex
from services.ingest.bootstrap import minhash_params, signer
from services.ingest.rebuild import dedup_rebuild
from services.publish.rebuild import ledger_rebuild
from services.publish.routing import load_routing
from services.publish.subscription_store import RedisSubscriptionStore
from services.publish.subscriptions import KafkaTarget
from shared.rebuild import Progress, StateGate
from shared.settings import Settings

__all__ = ["SCOPES", "state_gates"]

SCOPES = ("dedup", "ledger", "stories")
"""``dedup``: ingest's dedup state (``<ns>:dedup``); ``ledger``: publish's delivery ledger (``<ns>:delivered``);
``stories``: enrich's story index (``<ns>:story``)."""


def state_gates(settings: Settings, redis: Redis, *, service: str = "cli") -> dict[str, StateGate]:
    """A :class:`~shared.rebuild.StateGate` per scope, on ``redis``."""
    rules = load_routing(settings.routing_file)
    store = RedisSubscriptionStore(redis, namespace=settings.redis_key("publish"))

    async def ledger_with_subscriptions(progress: Progress) -> int:
        subs = [*rules.subscriptions, *await store.all()]
        topics = [r.topic for r in rules.routes] + [s.target.topic for s in subs if isinstance(s.target, KafkaTarget)]
        return await ledger_rebuild(settings, redis, lambda: topics)(progress)

    params = minhash_params(settings)
    dedup = dedup_rebuild(settings, redis, signer(params) if settings.near_dedup else None, params)
    stories = story_rebuild(settings, RedisStoryIndex(redis, settings))
    lease = settings.state_rebuild_lease_s
    return {
        "dedup": StateGate(redis, settings.redis_key("dedup"), dedup, service=service, scope="dedup", lease_s=lease),
        "ledger": StateGate(redis, settings.redis_key("delivered"), ledger_with_subscriptions,
                            service=service, scope="ledger", lease_s=lease),
        "stories": StateGate(redis, settings.redis_key("story"), stories, service=service, scope="stories",
                             lease_s=lease),
    }  # fmt: skip
