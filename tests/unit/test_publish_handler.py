"""The publish handler on the memory twins (no broker, no Redis): routes, subscriptions, the ledger."""

from __future__ import annotations

from services.publish.handler import PublishHandler
from services.publish.ledger import MemoryLedger
from services.publish.routing import Route, Router
from services.publish.subscription_store import MemorySubscriptionStore, SubscriptionCatalog
from services.publish.subscriptions import Subscription
from shared import codec
from shared.records import InRecord
from shared.settings import Settings

from .publish_articles import enriched


def _rec(offset: int, **kw: object) -> InRecord:
    a = enriched(**kw)  # type: ignore[arg-type]  # field values of mixed types
    return InRecord(topic="enriched", partition=0, offset=offset, key=a.id.encode(), value=codec.dumps(a))


async def _handler(*subs: Subscription) -> tuple[PublishHandler, MemorySubscriptionStore, SubscriptionCatalog]:
    store = MemorySubscriptionStore()
    for s in subs:
        await store.put(s)
    catalog = SubscriptionCatalog(store)
    h = PublishHandler(Settings(), Router([Route(name="lang", topic="pub.{language}")]), MemoryLedger(3600),
                       catalog=catalog)  # fmt: skip
    return h, store, catalog


async def test_a_kafka_subscription_adds_its_topic_for_matching_articles_only() -> None:
    sub = Subscription.model_validate(
        {"id": "jp", "filter": {"countries": ["JP"]}, "target": {"kind": "kafka", "topic": "desk.jp"}}
    )
    h, _, _ = await _handler(sub)
    outs = await h.handle([_rec(0), _rec(1, article_id="nf_fr", countries=("FR",))])
    assert sorted((o.topic, o.key) for o in outs) == [("desk.jp", b"nf_1"), ("pub.en", b"nf_1"), ("pub.en", b"nf_fr")]
    assert {o.headers["ce_id"] for o in outs if o.topic == "desk.jp"} == {b"sub:jp/desk.jp:nf_1:v1"}
    await h.mark_delivered(outs)
    assert await h.handle([_rec(2)]) == []  # replayed: every sink already has it


async def test_a_subscription_created_later_is_seen_after_a_refresh_and_a_deleted_one_stops() -> None:
    h, store, catalog = await _handler()
    assert [o.topic for o in await h.handle([_rec(0)])] == ["pub.en"]
    await store.put(Subscription.model_validate({"id": "q", "target": {"kind": "kafka", "topic": "desk.q"}}))
    assert await catalog.refresh()
    assert sorted(o.topic for o in await h.handle([_rec(1, article_id="nf_2")])) == ["desk.q", "pub.en"]
    await store.delete("q")
    await catalog.refresh()
    assert [o.topic for o in await h.handle([_rec(2, article_id="nf_3")])] == ["pub.en"]


async def test_a_configured_subscription_cannot_be_overridden_by_a_stored_one() -> None:
    configured = Subscription.model_validate({"id": "c", "target": {"kind": "kafka", "topic": "desk.c"}})
    store = MemorySubscriptionStore()
    await store.put(Subscription.model_validate({"id": "c", "target": {"kind": "kafka", "topic": "elsewhere"}}))
    catalog = SubscriptionCatalog(store, [configured])
    await catalog.refresh()
    got = catalog.get("c")
    assert got is not None and got.origin == "config" and got.target.topic == "desk.c"  # type: ignore[union-attr]  # a Kafka target here
    await store.disable("c", "410 Gone")
    await catalog.refresh()
    assert catalog.get("c").disabled == "410 Gone"  # type: ignore[union-attr]  # the subscription exists
    assert await store.enable("c") and not await store.enable("c")
    await catalog.refresh()
    assert catalog.get("c").disabled is None  # type: ignore[union-attr]  # the subscription exists


async def test_an_enrichment_that_breaks_the_contract_is_a_dead_letter_that_says_where() -> None:
    h, _, _ = await _handler()
    article = codec.loads(_rec(0).value or b"")
    article["enrichment"]["sentiment"]["score"] = "very negative"
    bad = InRecord(topic="enriched", partition=0, offset=1, key=b"nf_1", value=codec.dumps(article))
    (out,) = await h.handle([bad])
    letter = codec.loads(out.value)
    assert out.topic == h.settings.topics.dlq and letter["error"]["code"] == "invalid_enriched_article"
    assert letter["error"]["message"] == (
        "not a newsflow enriched article: Input should be a valid number, unable to parse string as a number "
        "at enrichment.sentiment.score"
    )
    assert [o.topic for o in await h.handle([_rec(2, article_id="nf_2")])] == ["pub.en"]  # the next one goes on


async def test_a_reenriched_article_version_reaches_the_kafka_sinks_again_under_a_new_id() -> None:
    h, _, _ = await _handler()
    first = await h.handle([_rec(0)])
    await h.mark_delivered(first)
    a = enriched().model_copy(update={"enrichment_revision": 1})
    again = InRecord(topic="enriched", partition=0, offset=1, key=a.id.encode(), value=codec.dumps(a))
    outs = await h.handle([again])
    assert [(o.topic, o.headers["ce_id"]) for o in outs] == [("pub.en", b"lang/pub.en:nf_1:v1r1")]
    await h.mark_delivered(outs)
    assert await h.handle([again]) == []  # the re-enrichment replayed: delivered once
