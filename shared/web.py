"""Liveness, readiness and metrics endpoints on the Faust worker's web server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis

from .rebuild import StateGate
from .state import StateWatch

__all__ = ["add_health"]


CHECK_TIMEOUT_S = 2.0  # a dependency that does not answer a readiness check within this is not ready


def add_health(
    app: faust.App,
    redis: Redis | None,
    state: StateWatch | None = None,
    gates: Sequence[StateGate] = (),
    checks: Mapping[str, Callable[[], Awaitable[object]]] | None = None,
) -> None:
    """``/livez`` (process up), ``/readyz`` (Redis answers, partitions assigned, no state being rebuilt
    from the log (``checks.state`` = ``rebuilding: ...``, 503); and whether Redis lost newsflow's state while
    this process ran, ``checks.state``: reported, not a reason to be unready once rebuilt), ``/metrics``.

    ``checks`` names a service's other dependencies (the archive's PostgreSQL): each is awaited with a
    ``CHECK_TIMEOUT_S`` bound on every ``/readyz``; one that raises or times out makes the process not ready,
    with its error under its name."""
    extra = dict(checks or {})

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
        for name, check in extra.items():
            try:
                await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
                checks[name] = "ok"
            except TimeoutError:
                checks[name] = f"error: no answer within {CHECK_TIMEOUT_S:g}s"
            except Exception as exc:  # any failure means not ready
                checks[name] = f"error: {exc}"
        if state is not None:
            checks["state"] = state.status()
        rebuilding = [f"{g.scope} {g.status()}" for g in gates if g.rebuilding]
        if rebuilding:
            checks["state"] = "; ".join(rebuilding)
        ok = (
            all(checks.get(name, "ok") == "ok" for name in ("redis", *extra))
            and checks["partitions"].isdigit()
            and not rebuilding
        )
        body = {"status": "ready" if ok else "not ready", "checks": checks, "assignment": assignment}
        return web.json(body, status=200 if ok else 503)

    @app.page("/metrics")
    async def metrics(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        # aiohttp takes the charset separately from the content type
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0] + "; version=0.0.4")
