"""The enrich service: ``news.ingested`` -> ``news.enriched``.

settings -> bootstrap (spaCy models, enrichers, Redis story index, handler) -> Faust app -> agent.
"""

from __future__ import annotations

import faust

from shared.agent import add_batch_agent
from shared.kafka import make_app, raw_topic, run_worker
from shared.rebuild import StateGate, watch_gates
from shared.records import InRecord, OutRecord
from shared.redis_client import make_redis
from shared.settings import Settings, get_settings
from shared.state import watch_state
from shared.web import add_health

from .bootstrap import build_handler
from .rebuild import story_rebuild
from .stories import RedisStoryIndex

__all__ = ["build_app", "main"]


def build_app(settings: Settings) -> faust.App:
    app = make_app("enrich", settings)
    redis = make_redis(settings)
    handler = build_handler(settings, redis=redis, gated=settings.state_rebuild)
    gates: list[StateGate] = []
    handle = handler.handle
    if settings.state_rebuild:  # story assignment waits while the story index is rebuilt from the log
        gate = StateGate(
            redis, settings.redis_key("story"), story_rebuild(settings, RedisStoryIndex(redis, settings)),
            service="enrich", scope="stories", lease_s=settings.state_rebuild_lease_s,
        )  # fmt: skip
        gates.append(gate)

        async def handle(records: list[InRecord]) -> list[OutRecord]:
            return await gate.guard(handler.handle, records)

    add_batch_agent(
        app, "enrich", raw_topic(app, settings.topics.ingested), handle,
        batch_size=settings.enrich_batch_size * 4, batch_wait_s=settings.batch_wait_s, settings=settings,
    )  # fmt: skip
    add_health(app, redis, watch_state(app, redis, settings, "enrich"), gates)
    watch_gates(app, gates, settings.state_check_interval_s)
    return app


def main() -> None:
    settings = get_settings()
    run_worker(build_app(settings), settings, settings.topics.all())
