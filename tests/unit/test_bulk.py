"""The lean event path's acknowledgements: only after the batch is handled, never across a rebalance."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from shared import bulk


class FakeConsumer:
    def __init__(self) -> None:
        self.acked: list[int] = []
        self._unacked_messages: set[Any] = set()
        self.flow_active = True

    async def _drain_messages(self, fetcher: Any) -> None:  # replaced by bulk's
        raise AssertionError("not the bulk drain")

    def ack(self, message: Any) -> bool:
        self.acked.append(message.offset)
        self._unacked_messages.discard(message)
        return True


class FakeApp:
    def __init__(self) -> None:
        self.consumer = FakeConsumer()
        self.consumer_generation_id = 1


@dataclass(eq=False)  # hashed by identity, as Faust's messages are
class FakeMessage:
    offset: int
    topic: str = "raw"
    partition: int = 0
    key: bytes | None = None
    value: bytes = b"v"
    headers: list[tuple[str, bytes]] = field(default_factory=lambda: [("traceparent", b"00-x")])
    timestamp: float = 1700000000.5


def _fill(app: FakeApp, *batches: bulk.Batch) -> None:
    queue = bulk._sinks(app).queue("raw")  # type: ignore[arg-type]  # the fakes stand in for faust.App and TopicT
    for b in batches:
        app.consumer._unacked_messages.update(b.messages)
        queue.put_nowait(b)


def _batch(generation: int, *offsets: int) -> bulk.Batch:
    return bulk.Batch(generation, [FakeMessage(o) for o in offsets])  # type: ignore[misc]  # fake messages stand in for faust Messages


def test_a_batch_is_acknowledged_only_when_the_next_one_is_asked_for() -> None:
    async def go() -> None:
        app = FakeApp()
        _fill(app, _batch(1, 0, 1), _batch(1, 2))
        it = bulk.batches(app, SimpleNamespace(topics=["raw"]), max_records=10)  # type: ignore[arg-type]  # the fakes stand in for faust.App and TopicT
        first = await anext(it)
        assert [r.offset for r in first] == [0, 1, 2]  # runs already fetched are coalesced
        assert first[0].headers == {"traceparent": "00-x"} and first[0].timestamp_ms == 1700000000500
        assert app.consumer.acked == []  # handled, outputs not yet acknowledged: nothing acked
        _fill(app, _batch(1, 3))
        await anext(it)
        assert app.consumer.acked == [0, 1, 2]
        assert app.consumer._drain_messages.__func__ is bulk._drain  # type: ignore[attr-defined]  # the bound method that _install set

    asyncio.run(go())


def test_batches_hold_at_most_max_records() -> None:
    async def go() -> None:
        app = FakeApp()
        _fill(app, _batch(1, *range(5)))
        it = bulk.batches(app, SimpleNamespace(topics=["raw"]), max_records=2)  # type: ignore[arg-type]  # the fakes stand in for faust.App and TopicT
        sizes = [len(await anext(it)) for _ in range(3)]
        assert sizes == [2, 2, 1]
        assert app.consumer.acked == [0, 1, 2, 3]

    asyncio.run(go())


def test_a_batch_handled_across_a_rebalance_is_never_acknowledged() -> None:
    async def go() -> None:
        app = FakeApp()
        _fill(app, _batch(1, 0, 1))
        it = bulk.batches(app, SimpleNamespace(topics=["raw"]), max_records=10)  # type: ignore[arg-type]  # the fakes stand in for faust.App and TopicT
        await anext(it)
        app.consumer_generation_id = 2  # a rebalance while the batch was handled
        _fill(app, _batch(2, 0, 1))  # the new owner (here: us again) fetches from the committed offset
        again = await anext(it)
        assert [r.offset for r in again] == [0, 1]
        assert app.consumer.acked == []  # the first handling was not acked: it is redelivered instead
        _fill(app, _batch(2, 2))
        await anext(it)
        assert app.consumer.acked == [0, 1]

    asyncio.run(go())


def test_a_batch_fetched_before_a_rebalance_is_dropped_unacknowledged() -> None:
    async def go() -> None:
        app = FakeApp()
        _fill(app, _batch(1, 7, 8))
        app.consumer_generation_id = 2
        _fill(app, _batch(2, 5, 6))
        it = bulk.batches(app, SimpleNamespace(topics=["raw"]), max_records=10)  # type: ignore[arg-type]  # the fakes stand in for faust.App and TopicT
        got = await anext(it)
        assert [r.offset for r in got] == [5, 6]
        assert all(m.offset in (5, 6) for m in app.consumer._unacked_messages)  # the stale ones untracked

    asyncio.run(go())


def test_batches_queued_when_a_rebalance_starts_are_dropped_and_not_waited_for() -> None:
    async def go() -> None:
        app = FakeApp()
        _fill(app, _batch(1, 0, 1))
        it = bulk.batches(app, SimpleNamespace(topics=["raw"]), max_records=2)  # type: ignore[arg-type]  # the fakes stand in for faust.App and TopicT
        await anext(it)
        _fill(app, _batch(1, 2, 3))
        app.consumer.flow_active = False  # Faust's revoke: stop_flow, then wait for the unacked messages
        task = asyncio.ensure_future(anext(it))
        await asyncio.sleep(0.01)
        assert app.consumer.acked == [0, 1]  # the batch in flight finished: acked
        assert not app.consumer._unacked_messages  # the queued one dropped: nothing left to wait for
        assert not task.done()
        task.cancel()

    asyncio.run(go())
