"""The publish service: ``news.enriched`` -> routed topics, subscriptions, webhooks, the live stream and page.

The HTTP API and the page are routes on the Faust worker's own web server (aiohttp, on
``NEWSFLOW_WEB_PORT``): one port per replica for the API, the page, ``/livez``, ``/readyz`` and
``/metrics``, started and stopped with the worker, with nothing else to run or probe.
"""

from __future__ import annotations

import faust

from shared.agent import add_batch_agent, produce_all
from shared.kafka import make_app, raw_topic, run_worker
from shared.rebuild import Progress, StateGate, watch_gates
from shared.records import InRecord, OutRecord
from shared.settings import Settings, get_settings
from shared.sources import SourceStore
from shared.state import watch_state
from shared.web import add_health

from .api import add_routes
from .bootstrap import Publish, bootstrap
from .ledger import delivery_record
from .rebuild import ledger_rebuild
from .search_api import SearchApi, add_search_routes
from .sources_view import SourcesView, add_source_routes
from .subscriptions import KafkaTarget

__all__ = ["build_app", "main"]


def build_app(settings: Settings) -> tuple[faust.App, Publish]:
    app = make_app("publish", settings)

    async def produce(outs: list[OutRecord]) -> None:  # webhook dead letters, the outbox's journal
        await produce_all(app, outs)

    async def journal(ids: list[str]) -> None:
        await produce_all(app, [delivery_record(settings, i) for i in ids])

    publish = bootstrap(
        settings, dead_letters=produce, journal=journal, journal_outbox=produce, gated=settings.state_rebuild
    )
    handler = publish.handler
    handle = handler.handle
    gates: list[StateGate] = []
    if settings.state_rebuild:  # routing waits while the delivery ledger is rebuilt from the log

        def sink_topics() -> list[str]:
            subs = publish.catalog.current()
            return [r.topic for r in handler.router.routes] + [
                s.target.topic for s in subs if isinstance(s.target, KafkaTarget)
            ]

        rebuild_ledger = ledger_rebuild(settings, publish.redis, sink_topics)

        async def rebuild(progress: Progress) -> int:
            await publish.catalog.ensure_loaded()  # its Kafka subscriptions' topics are sinks too
            return await rebuild_ledger(progress)

        gate = StateGate(
            publish.redis, settings.redis_key("delivered"), rebuild, service="publish", scope="ledger",
            lease_s=settings.state_rebuild_lease_s,
        )  # fmt: skip
        gates.append(gate)

        async def handle(records: list[InRecord]) -> list[OutRecord]:
            await publish.catalog.ensure_loaded()
            return await gate.guard(handler.handle, records)

    add_batch_agent(
        app, "publish", raw_topic(app, settings.topics.enriched), handle,
        batch_size=settings.batch_size, batch_wait_s=settings.batch_wait_s, after_produce=handler.mark_delivered,
        settings=settings,
    )  # fmt: skip
    add_health(app, publish.redis, watch_state(app, publish.redis, settings, "publish"), gates)
    watch_gates(app, gates, settings.state_check_interval_s)

    @app.task
    async def subscriptions() -> None:
        await publish.catalog.run()

    @app.task
    async def webhooks() -> None:
        await publish.catalog.ensure_loaded()
        await publish.dispatcher.run()

    if settings.web_port > 0:
        web_app = app.web.web_app  # type: ignore[attr-defined]  # Faust's aiohttp Web driver has it; the Web interface does not
        add_routes(web_app, publish.api)
        add_search_routes(web_app, SearchApi(settings), publish.api.auth)  # the archive, in PostgreSQL
        # the sources intake polls, with their health, for the page (read-only: intake's port changes them)
        add_source_routes(web_app, SourcesView(SourceStore(publish.redis, settings.redis_namespace)), publish.api.auth)

        async def stop_streams(_app: object) -> None:
            publish.hub.close()

        web_app.on_shutdown.append(stop_streams)

        @app.task
        async def stream() -> None:
            await publish.hub.run()

    return app, publish


def main() -> None:
    settings = get_settings()
    app, _ = build_app(settings)
    run_worker(app, settings, settings.topics.all())
