"""Liveness, readiness, metrics and graceful SIGTERM of a service process."""

from __future__ import annotations

import json
import signal
import time

import pytest

from devtools.embedded import free_port

from ..httputil import get, wait_for
from ..kafkautil import collect, produce

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_probes_metrics_and_sigterm(settings, workers) -> None:
    port = free_port()
    proc = workers.start("ingest", NEWSFLOW_WEB_PORT=str(port))
    assert json.loads(wait_for(port, "/livez", 200)) == {"status": "ok"}
    ready = json.loads(wait_for(port, "/readyz", 200))
    assert ready["checks"]["redis"] == "ok" and ready["checks"]["partitions"] == str(settings.partitions)
    assert ready["checks"]["state"] in ("ok", "not checked yet")  # the Redis state marker (shared/state.py)
    await produce(settings, [b'{"title": "t", "body": "a body of an article that is long enough"}', b"[]"])
    await collect(settings, [settings.topics.ingested, settings.topics.dlq], count=2, timeout_s=60)
    _, metrics = get(port, "/metrics")
    assert f'newsflow_records_in_total{{service="ingest",topic="{settings.topics.raw}"}} 2.0'.encode() in metrics
    assert f'newsflow_records_out_total{{service="ingest",topic="{settings.topics.dlq}"}} 1.0'.encode() in metrics
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert time.monotonic() - started < 15, "SIGTERM took too long"


async def test_not_ready_while_redis_is_unreachable(settings_factory, workers) -> None:
    port = free_port()
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    workers.settings = settings_factory(redis_url=dead_redis)
    workers.start("publish", NEWSFLOW_WEB_PORT=str(port))
    wait_for(port, "/livez", 200)
    body = json.loads(wait_for(port, "/readyz", 503))
    assert body["status"] == "not ready" and body["checks"]["redis"].startswith("error")
