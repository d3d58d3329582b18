"""Liveness, readiness and metrics endpoints on the Faust worker's web server."""

from __future__ import annotations

from collections.abc import Sequence

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis

from .rebuild import StateGate
from .state import StateWatch

__all__ = ["add_health"]


def add_health(
    app: faust.App, redis: Redis | None, state: StateWatch | None = None, gates: Sequence[StateGate] = ()
) -> None:
    """``/livez`` (process up), ``/readyz`` (Redis answers, partitions assigned, no state being rebuilt
    from the log (``checks.state`` = ``rebuilding: ...``, 503); and whether Redis lost newsflow's state while
    this process ran, ``checks.state``: reported, not a reason to be unready once rebuilt), ``/metrics``."""

    @app.page("/livez")
    async def livez(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        checks: dict[str, str] = {}
        if redis is not None:
            try:
                await redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:  # any failure means not ready
                checks["redis"] = f"error: {exc}"
        assignment: list[str] = []
        try:
            assignment = sorted(f"{tp.topic}/{tp.partition}" for tp in app.consumer.assignment())
            checks["partitions"] = str(len(assignment)) if assignment else "none assigned"
        except Exception as exc:
            checks["partitions"] = f"error: {exc}"
        if state is not None:
            checks["state"] = state.status()
        rebuilding = [f"{g.scope} {g.status()}" for g in gates if g.rebuilding]
        if rebuilding:
            checks["state"] = "; ".join(rebuilding)
        ok = checks.get("redis", "ok") == "ok" and checks["partitions"].isdigit() and not rebuilding
        body = {"status": "ready" if ok else "not ready", "checks": checks, "assignment": assignment}
        return web.json(body, status=200 if ok else 503)

    @app.page("/metrics")
    async def metrics(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        # aiohttp takes the charset separately from the content type
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0] + "; version=0.0.4")
