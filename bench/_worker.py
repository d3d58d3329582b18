"""A worker process for the benchmarks: ``python -m bench._worker MODE`` (settings from the environment).

Modes: ``ingest`` (the real service), ``faust-passthrough`` (the batch agent on Faust's stream,
``take_events``, with a handler that does no work), ``bulk-passthrough`` (the same on newsflow's lean
path, :mod:`shared.bulk`), ``faust-naive`` (one ``await send`` per event, the textbook Faust agent).
"""

from __future__ import annotations

import sys

import faust

from shared.agent import add_batch_agent
from shared.kafka import make_app, raw_topic, run_worker
from shared.records import InRecord, OutRecord
from shared.settings import get_settings


def main(mode: str) -> None:
    settings = get_settings()
    if mode == "ingest":
        from services.ingest.app import build_app

        run_worker(build_app(settings), settings, settings.topics.all())
        return
    app = make_app(f"bench-{mode}", settings)
    src = raw_topic(app, settings.topics.raw)
    dst = settings.topics.ingested
    if mode in ("faust-passthrough", "bulk-passthrough"):

        async def passthrough(records: list[InRecord]) -> list[OutRecord]:
            return [OutRecord(dst, r.key, r.value or b"", {}) for r in records]

        add_batch_agent(
            app, "bench", src, passthrough, batch_size=settings.batch_size, batch_wait_s=settings.batch_wait_s,
            settings=settings,
            lean=mode == "bulk-passthrough",
        )  # fmt: skip
    elif mode == "faust-naive":
        out = raw_topic(app, dst)

        @app.agent(src)
        async def naive(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                await out.send(key=event.key, value=event.value)

    else:
        raise SystemExit(f"unknown mode {mode}")
    run_worker(app, settings, settings.topics.all())


if __name__ == "__main__":
    main(sys.argv[1])
