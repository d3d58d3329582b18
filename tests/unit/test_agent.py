"""The batch loop's failure policy: retry what heals, dead-letter what cannot, never lose a record."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Sequence

import orjson
import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.agent import BatchRunner
from shared.failures import BudgetExceeded, classify
from shared.records import InRecord, OutRecord


def _rec(i: int, value: bytes = b"v") -> InRecord:
    return InRecord(topic="in", partition=i % 2, offset=i, key=None, value=value)


def _out(rec: InRecord, topic: str = "out", value: bytes | None = None) -> OutRecord:
    return OutRecord(topic, None, value or rec.value or b"", {"ce_id": str(rec.offset).encode()}, source=rec)


class PanicException(BaseException):
    """Stands in for ``pyo3_runtime.PanicException`` (a BaseException, matched by name)."""


class FakeBroker:
    """Acknowledges records, refusing those over ``max_bytes`` at once; fails ``down`` times first."""

    def __init__(self, max_bytes: int = 10_000, down: int = 0) -> None:
        self.max_bytes = max_bytes
        self.down = down
        self.got: list[OutRecord] = []

    async def send(self, outs: Sequence[OutRecord]) -> list[BaseException | None]:
        if self.down:
            self.down -= 1
            return [KafkaConnectionError("broker down") for _ in outs]
        results: list[BaseException | None] = []
        for out in outs:
            if len(out.value) > self.max_bytes:
                results.append(MessageSizeTooLargeError(f"{len(out.value)} bytes"))
            else:
                self.got.append(out)
                results.append(None)
        return results


def _runner(handler, broker: FakeBroker, **kw) -> BatchRunner:
    return BatchRunner(
        service="ingest", handler=handler, send=broker.send, dlq_topic="dlq", source_name="t",
        first_backoff_s=0.001, max_backoff_s=0.002, **kw,
    )  # fmt: skip


def _letters(broker: FakeBroker) -> list[dict]:
    return [orjson.loads(o.value) for o in broker.got if o.topic == "dlq"]


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (MessageSizeTooLargeError("x"), "output_too_large"),
        (PanicException("BacktrackLimitExceeded"), "library_panic"),
        (BudgetExceeded("over 10s"), "enrich_timeout"),
        (ValueError("bug"), "internal_error"),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), "serialization_error"),
    ],
)
def test_failures_that_retrying_cannot_fix_have_a_code(exc: BaseException, code: str) -> None:
    failure = classify(exc)
    assert failure is not None and failure.code == code


@pytest.mark.parametrize(
    "exc", [KafkaConnectionError("down"), RedisConnectionError("refused"), TimeoutError(), ConnectionRefusedError()]
)
def test_failures_that_can_heal_are_retried(exc: BaseException) -> None:
    assert classify(exc) is None


async def test_a_handler_failing_on_one_record_dead_letters_that_record_only() -> None:
    records = [_rec(i) for i in range(7)]
    calls: list[int] = []

    async def handler(batch: list[InRecord]) -> list[OutRecord]:
        calls.append(len(batch))
        if any(r.offset == 4 for r in batch):
            raise PanicException("BacktrackLimitExceeded")
        return [_out(r) for r in batch]

    broker = FakeBroker()
    delivered = await _runner(handler, broker).run(records)
    assert sorted(o.source.offset for o in delivered if o.topic == "out") == [0, 1, 2, 3, 5, 6]  # type: ignore[union-attr]  # every output here has a source
    [letter] = _letters(broker)
    assert letter["error"]["code"] == "library_panic" and letter["source_offset"] == 4
    assert len(calls) <= 1 + 2 * 3  # bisection: a few re-runs, not one per record


async def test_an_output_over_the_size_limit_becomes_the_dead_letter_of_its_record() -> None:
    records = [_rec(0), _rec(1, b"x" * 500), _rec(2)]

    async def handler(batch: list[InRecord]) -> list[OutRecord]:  # outputs 3x their input
        return [_out(r, value=(r.value or b"") * 3) for r in batch]

    broker = FakeBroker(max_bytes=1400)  # the 1,500-byte output is refused, its dead letter (~1,200) is not
    delivered = await _runner(handler, broker).run(records)
    assert [o.source.offset for o in delivered if o.topic == "out"] == [0, 2]  # type: ignore[union-attr]  # every output here has a source
    [letter] = _letters(broker)
    assert letter["error"]["code"] == "output_too_large" and letter["source_offset"] == 1
    assert base64.b64decode(letter["original_value_b64"]) == b"x" * 500


async def test_a_dead_letter_the_broker_refuses_goes_out_bare_with_its_reason() -> None:
    async def handler(batch: list[InRecord]) -> list[OutRecord]:
        return [_out(r) for r in batch]

    broker = FakeBroker(max_bytes=900)  # the output (1,000 bytes) and its dead letter (base64 of it) are refused
    delivered = await _runner(handler, broker).run([_rec(0, b"x" * 1000)])
    [bare] = [orjson.loads(o.value) for o in delivered]
    assert bare["source_offset"] == 0 and bare["error"]["code"] == "output_too_large"
    assert "original dropped (1,000 bytes)" in bare["error"]["message"] and bare["original_value_b64"] == ""


async def test_an_over_limit_original_is_truncated_in_its_dead_letter_with_size_and_hash() -> None:
    big = b"y" * 5000

    async def handler(batch: list[InRecord]) -> list[OutRecord]:
        raise ValueError("bug")

    broker = FakeBroker(max_bytes=10**9)
    await _runner(handler, broker, max_article_bytes=1000).run([_rec(0, big)])
    [letter] = _letters(broker)
    assert letter["original_truncated"] and letter["original_size"] == 5000
    assert base64.b64decode(letter["original_value_b64"]) == big[:2000]  # twice the article limit
    assert letter["original_sha256"] == hashlib.sha256(big).hexdigest()


async def test_a_broker_outage_is_retried_until_it_heals_and_nothing_is_lost() -> None:
    async def handler(batch: list[InRecord]) -> list[OutRecord]:
        return [_out(r) for r in batch]

    broker = FakeBroker(down=3)
    delivered = await _runner(handler, broker).run([_rec(i) for i in range(5)])
    assert len(delivered) == 5 and not _letters(broker)


async def test_a_redis_outage_in_the_handler_is_retried_not_dead_lettered() -> None:
    fails = [2]

    async def handler(batch: list[InRecord]) -> list[OutRecord]:
        if fails[0]:
            fails[0] -= 1
            raise RedisConnectionError("Connection refused")
        return [_out(r) for r in batch]

    broker = FakeBroker()
    delivered = await _runner(handler, broker).run([_rec(i) for i in range(3)])
    assert len(delivered) == 3 and not _letters(broker)


async def test_a_blocked_batch_still_stops_when_cancelled() -> None:
    async def handler(batch: list[InRecord]) -> list[OutRecord]:
        raise RedisConnectionError("down for good")

    task = asyncio.ensure_future(_runner(handler, FakeBroker()).run([_rec(0)]))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_after_produce_sees_only_the_delivered_outputs() -> None:
    seen: list[OutRecord] = []

    async def handler(batch: list[InRecord]) -> list[OutRecord]:
        return [_out(r, value=b"z" * (1000 if r.offset == 1 else 1)) for r in batch]

    async def after(outs: list[OutRecord]) -> None:
        seen.extend(outs)

    broker = FakeBroker(max_bytes=900)
    await _runner(handler, broker, after_produce=after).run([_rec(i) for i in range(3)])
    assert sorted(o.source.offset for o in seen if o.topic == "out") == [0, 2]  # type: ignore[union-attr]  # every output here has a source
