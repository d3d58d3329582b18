"""Redis losing newsflow's state is noticed: the marker key disappears or changes."""

from __future__ import annotations

import pytest

from shared.metrics import STATE_LOST
from shared.state import StateWatch

pytestmark = pytest.mark.integration


async def test_a_lost_marker_is_noticed_counted_and_reported(settings, redis) -> None:
    key = settings.redis_key("state", "marker")
    a, b = StateWatch(redis, key, "ingest"), StateWatch(redis, key, "enrich")
    before = STATE_LOST.labels(service="ingest")._value.get()
    assert not await a.check() and not await b.check()  # first sight: a new namespace, not a loss
    assert not await a.check() and a.status() == "ok"
    await redis.delete(key)  # what a Redis restarted without persistence looks like to newsflow
    assert await a.check()  # a notices first and writes a new marker ...
    assert await b.check()  # ... which b has never seen: a loss for b too
    assert STATE_LOST.labels(service="ingest")._value.get() == before + 1
    assert a.status().startswith("lost 1x")
    assert not await a.check() and not await b.check()  # the new marker is the known one now
