"""The pure parts of the state rebuild: errors, progress, routed topics, what is journaled, the facts
ingest's outputs carry for a rebuild (no Redis, no broker; ``tests/integration/test_dedup_rebuild.py``
and ``test_state_rebuild.py`` run the rebuild itself)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
from redis.exceptions import ResponseError

from services.enrich.analysis.doc import Doc
from services.enrich.rebuild import enriched_doc
from services.enrich.stories import story_features
from services.ingest.bootstrap import build_handler, minhash_params, near_params
from services.ingest.dedup import MemoryDedupStore
from services.ingest.fingerprint import comparison_text
from services.ingest.handler import SIGNATURE_HEADER
from services.publish.ledger import delivery_record, journaled
from services.publish.rebuild import routed_topics
from shared.models import (
    CountriesField,
    CountryItem,
    EnrichedArticle,
    Enrichment,
    EntitiesField,
    EntityItem,
    KeywordItem,
    KeywordsField,
    TextSpan,
)
from shared.rebuild import NOT_READY, Progress, not_ready_error
from shared.records import InRecord
from shared.settings import Settings
from tests.unit.test_enrichers import make_article


def test_only_a_gated_scripts_refusal_means_the_state_is_not_ready() -> None:
    assert not_ready_error(ResponseError(f"{NOT_READY} newsflow:dedup: the dedup state is not in Redis")) is not None
    assert not_ready_error(ResponseError("NOSCRIPT No matching script")) is None
    assert not_ready_error(ConnectionError(NOT_READY)) is None  # only Redis' own error replies


def test_progress_reads_as_a_share_once_the_total_is_known() -> None:
    p = Progress(done=250, total=1000)
    assert p.line().startswith("250 of 1,000 records (25%) in ")
    assert "%" not in Progress(done=5).line()


def test_route_templates_match_the_topics_they_expand_to() -> None:
    existing = ["news.published.lang.en", "news.published.lang.fr", "news.raw", "desk.japan", "news.published.x.y"]
    templates = ["news.published.lang.{language}", "desk.japan"]
    assert routed_topics(existing, templates) == ["desk.japan", "news.published.lang.en", "news.published.lang.fr"]


def test_only_deliveries_without_a_kafka_record_of_their_own_are_journaled() -> None:
    assert journaled("webhook/desk:a1:v2") and journaled("stream:a1:v1")
    assert not journaled("by-language:a1:v2") and not journaled("sub:desk:a1:v1")
    out = delivery_record(Settings(), "webhook/desk:a1:v2")
    assert out.topic == "news.deliveries" and out.key == b"webhook/desk:a1:v2"
    assert orjson.loads(out.value)["id"] == "webhook/desk:a1:v2"
    assert out.headers["ce_id"] == b"webhook/desk:a1:v2" and out.headers["ce_type"].endswith(b"delivery.acknowledged")


async def test_a_duplicate_record_carries_the_content_hash_a_rebuild_needs() -> None:
    settings = Settings()
    handler = build_handler(settings, store=MemoryDedupStore(near_params(settings)))
    article = {"title": "Rates held", "body": "The central bank held its rates on Thursday, citing inflation."}
    raws = [
        InRecord("news.raw", 0, i, None, orjson.dumps({**article, "url": f"https://ex.org/a?utm_source={i}"}), {}, i)
        for i in range(2)
    ]  # fmt: skip
    first, copy = await handler.handle(raws)
    assert copy.topic == "news.duplicates"
    assert orjson.loads(copy.value)["content_hash"] == orjson.loads(first.value)["content_hash"]


async def test_a_passed_article_carries_the_signature_dedup_indexed() -> None:
    settings = Settings()
    handler = build_handler(settings, store=MemoryDedupStore(near_params(settings)))
    raw = {"title": "Rates held", "body": "The central bank held its rates on Thursday, citing inflation. " * 5}
    (out,) = await handler.handle([InRecord("news.raw", 0, 0, None, orjson.dumps(raw), {}, 1)])
    sig = base64.b64decode(out.headers[SIGNATURE_HEADER])
    assert out.topic == "news.ingested" and len(sig) == 4 * minhash_params(settings).num_perm
    assert handler.signer is not None and handler.signer([comparison_text(raw["title"], raw["body"])])[0][0] == sig


def test_an_enriched_record_gives_back_the_story_signature_and_story_it_was_given() -> None:
    """What the story index rebuild reads from ``news.enriched``: the doc's signature is the one enrich
    computed (entities, countries, key phrases, text, event time), with the story id it recorded."""
    doc = Doc(article=make_article("Kirby: no wider war", "John Kirby said the 300 drones were shot down.", id="k1"))
    first = TextSpan.model_validate({"in": "body", "start": 0, "end": 1})
    doc.fields = {
        "entities": EntitiesField(people=[EntityItem(name="John Kirby", mentions=2, first=first)],
                                  organizations=[EntityItem(name="White House", mentions=1, first=first)],
                                  places=[], method="m", version="1"),
        "countries": CountriesField(value=[CountryItem(code="IL", name="Israel", score=1.0, mentions=1)],
                                    method="m", version="1"),
        "keywords": KeywordsField(value=[KeywordItem(text="wider war", score=1.0)], language="en", method="m",
                                  version="1"),
    }  # fmt: skip
    enrichment = Enrichment.model_validate({"enriched_at": datetime(2024, 4, 14, 13, tzinfo=UTC), **doc.fields})
    value = EnrichedArticle(**doc.article.model_dump(), enrichment=enrichment, story_id="st_1").model_dump_json()
    found = enriched_doc(value.encode())
    assert found is not None
    again, story = found
    assert story == "st_1" and story_features(again) == story_features(doc) and "t:kirby" in story_features(doc)
    # a brief with too little text is signed by its fields: those come back from the record too
    brief = Doc(article=doc.article.model_copy(update={"title": "Kirby", "body": "No war."}), fields=doc.fields)
    record = EnrichedArticle(**brief.article.model_dump(), enrichment=enrichment, story_id="st_1").model_dump_json()
    rebuilt = enriched_doc(record.encode())
    assert rebuilt is not None and story_features(rebuilt[0]) == story_features(brief)
    assert {"e:john kirby", "e:white house", "c:IL", "w:wider"} <= story_features(brief).keys()
    assert again.article.ingested_at == doc.article.ingested_at
    no_story = EnrichedArticle(**doc.article.model_dump(), enrichment=enrichment).model_dump_json()
    assert enriched_doc(no_story.encode()) is None  # enriched without an index: nothing to restore
    assert enriched_doc(b"[1, 2") is None
