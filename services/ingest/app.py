"""The ingest service: ``news.raw`` -> ``news.ingested`` / ``news.duplicates`` / ``news.dlq``.

settings -> bootstrap (Redis, dedup store, handler) -> Faust app -> agent.
"""

from __future__ import annotations

import faust

from shared.agent import add_batch_agent
from shared.kafka import make_app, raw_topic, run_worker
from shared.rebuild import StateGate, committed_offsets, ready_key, watch_gates
from shared.records import InRecord, OutRecord
from shared.redis_client import make_redis
from shared.settings import Settings, get_settings
from shared.state import watch_state
from shared.web import add_health

from .bootstrap import build_handler, minhash_params
from .dedup import Handle, past_dead_letters
from .rebuild import dedup_rebuild

__all__ = ["build_app", "main"]


def build_app(settings: Settings) -> faust.App:
    app = make_app("ingest", settings)
    redis = make_redis(settings)
    handler = build_handler(settings, redis=redis, gated=settings.state_rebuild)
    gates: list[StateGate] = []
    handle: Handle = handler.handle
    if settings.state_rebuild:  # decisions wait while the dedup state is rebuilt from the log
        rebuild = dedup_rebuild(settings, redis, handler.signer, minhash_params(settings))
        gate = StateGate(
            redis, settings.redis_key("dedup"), rebuild, service="ingest", scope="dedup",
            lease_s=settings.state_rebuild_lease_s, settings=settings,  # settings: to read a gap found on news.raw
            committed=lambda: committed_offsets(settings, settings.group_id("ingest"), [settings.topics.raw]),
            # a Redis behind the log lost publish's and enrich's last writes too: they rebuild theirs
            companions=[ready_key(settings.redis_key("delivered")), ready_key(settings.redis_key("story"))],
        )  # fmt: skip
        gates.append(gate)

        async def guarded(records: list[InRecord]) -> list[OutRecord]:
            return await gate.guard(handler.handle, records)

        handle = past_dead_letters(guarded, handler.store)

    add_batch_agent(
        app, "ingest", raw_topic(app, settings.topics.raw), handle,
        batch_size=settings.batch_size, batch_wait_s=settings.batch_wait_s, settings=settings,
    )  # fmt: skip
    add_health(app, redis, watch_state(app, redis, settings, "ingest"), gates)
    watch_gates(app, gates, settings.state_check_interval_s)
    return app


def main() -> None:
    settings = get_settings()
    run_worker(build_app(settings), settings, settings.topics.all())
