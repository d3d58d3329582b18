"""Publish: routing and idempotent delivery, with the real Redis."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.publish.handler import PublishHandler
from services.publish.ledger import RedisLedger
from services.publish.routing import Route, Router
from shared import codec
from shared.models import EnrichedArticle, Enrichment, Origin
from shared.records import InRecord

pytestmark = pytest.mark.integration


def _record(offset: int, article_id: str = "nf_1", version: int = 1, language: str = "en") -> InRecord:
    ingested = datetime.now(UTC)
    a = EnrichedArticle(
        id=article_id, version=version, content_hash="h", title="t", body="b", raw_format="fields",
        ingested_at=ingested, origin=Origin(topic="raw", partition=0, offset=offset),
        enrichment=Enrichment.model_validate(
            {"enriched_at": ingested, "language": {"code": language, "method": "py3langid", "version": "0.4.0"}}
        ),
    )  # fmt: skip
    return InRecord(topic="enriched", partition=0, offset=offset, key=article_id.encode(), value=codec.dumps(a))


def _ledger(settings, redis) -> RedisLedger:
    return RedisLedger(redis, namespace=settings.redis_key("delivered"), ttl_s=settings.delivery_window_s)


async def test_a_redelivered_article_is_not_delivered_twice(settings, redis) -> None:
    created: list[list[str]] = []

    async def ensure(names: list[str]) -> None:
        created.append(names)

    router = Router([Route(name="lang", topic="pub.{language}")])
    h = PublishHandler(settings, router, _ledger(settings, redis), ensure_topics=ensure)
    outs = await h.handle([_record(0), _record(1)])  # the same article twice in one batch
    assert [o.topic for o in outs] == ["pub.en"]
    assert outs[0].headers["ce_type"] == b"io.newsflow.article.published"
    assert created == [["pub.en"]]
    await h.mark_delivered(outs)
    assert await h.handle([_record(2)]) == []  # redelivered later: nothing
    v2 = await h.handle([_record(3, version=2)])  # a new version is a new delivery
    assert [o.topic for o in v2] == ["pub.en"]
    ttl = await redis.ttl(f"{settings.redis_namespace}:delivered:{outs[0].headers['ce_id'].decode()}")
    assert 0 < ttl <= settings.delivery_window_s


async def test_not_yet_acknowledged_delivery_is_retried(settings, redis) -> None:
    """Without mark_delivered (a crash before the broker acked), the article is sent again."""
    h = PublishHandler(settings, Router([Route(name="all", topic="pub.all")]), _ledger(settings, redis))
    assert len(await h.handle([_record(0)])) == 1
    assert len(await h.handle([_record(0)])) == 1


async def test_bad_record_goes_to_the_dlq(settings, redis) -> None:
    h = PublishHandler(settings, Router([Route(name="all", topic="pub.all")]), _ledger(settings, redis))
    bad = InRecord(topic="enriched", partition=1, offset=7, key=b"k", value=b'{"id": 1}')
    (out,) = await h.handle([bad])
    letter = codec.loads(out.value)
    assert out.topic == settings.topics.dlq
    assert letter["error"]["code"] == "invalid_enriched_article"
    assert letter["stage"] == "publish" and letter["source_offset"] == 7
