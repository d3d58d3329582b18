"""The publish service: ``news.enriched`` -> routed topics, subscriptions, webhooks, the live stream and page.

The HTTP API and the page are routes on the Faust worker's own web server (aiohttp, on
``NEWSFLOW_WEB_PORT``): one port per replica for the API, the page, ``/livez``, ``/readyz`` and
``/metrics``, started and stopped with the worker, with nothing else to run or probe.
"""

from __future__ import annotations

import faust

from shared.agent import add_batch_agent, produce_all
from shared.kafka import make_app, raw_topic, run_worker
from shared.records import OutRecord
from shared.settings import Settings, get_settings
from shared.state import watch_state
from shared.web import add_health

from .api import add_routes
from .bootstrap import Publish, bootstrap
from .search_api import SearchApi, add_search_routes

__all__ = ["build_app", "main"]


def build_app(settings: Settings) -> tuple[faust.App, Publish]:
    app = make_app("publish", settings)

    async def dead_letters(outs: list[OutRecord]) -> None:
        await produce_all(app, outs)

    publish = bootstrap(settings, dead_letters=dead_letters)
    handler = publish.handler
    add_batch_agent(
        app, "publish", raw_topic(app, settings.topics.enriched), handler.handle,
        batch_size=settings.batch_size, batch_wait_s=settings.batch_wait_s, after_produce=handler.mark_delivered,
        settings=settings,
    )  # fmt: skip
    add_health(app, publish.redis, watch_state(app, publish.redis, settings, "publish"))

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
        add_search_routes(web_app, SearchApi(settings))  # the archive, in PostgreSQL

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
