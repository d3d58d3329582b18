"""The ingest handler with the real Redis dedup store (no broker needed for the decisions)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import orjson
import pytest

from services.ingest.app import build_handler
from shared.records import InRecord, OutRecord

pytestmark = pytest.mark.integration

SAMPLE = (Path(__file__).resolve().parent.parent / "data" / "sample-article-afp-2024-04-14.txt").read_text()


class Feed:
    """Hands out raw records with increasing offsets, like a partition would."""

    def __init__(self) -> None:
        self.offset = 0

    def __call__(self, value: bytes, partition: int = 0) -> InRecord:
        self.offset += 1
        return InRecord(topic="news.raw", partition=partition, offset=self.offset, key=None, value=value,
                        timestamp_ms=1_713_100_000_000 + self.offset)  # fmt: skip


def _one(outs: list[OutRecord]) -> tuple[str, dict]:
    assert len(outs) == 1
    return outs[0].topic, orjson.loads(outs[0].value)


@pytest.fixture
def handler(settings, redis):  # type: ignore[no-untyped-def]
    return build_handler(settings, redis)


async def test_every_raw_shape_is_accepted(handler, settings) -> None:
    feed = Feed()
    shapes = {
        "text": orjson.dumps({"text": SAMPLE}),
        "fields": orjson.dumps({"title": "Budget passes", "body": "The parliament approved the budget on Monday " * 8,
                                "url": "https://example.com/budget", "source": "Example", "authors": ["A. Writer"],
                                "published_at": "2024-05-01T10:00:00Z", "language": "en"}),
        "html": orjson.dumps({"html": "<html><head><title>Rain returns</title></head><body><article><h1>Rain returns"
                              "</h1>" + "<p>Farmers welcomed the first rain in months across the valley on Friday, "
                              "officials said, as reservoirs began to refill after a long drought.</p>" * 4
                              + "</article></body></html>", "url": "https://example.com/rain"}),
        "ninjs": orjson.dumps({"uri": "urn:example:1", "headline": "Museum reopens",
                               "body_text": "The city museum reopened its doors on Sunday after a two-year "
                               "renovation, welcoming thousands of visitors. " * 3,
                               "versioncreated": "2024-06-02T09:00:00Z", "language": "en", "byline": "Ann Lee"}),
        "plain": b"Storm closes schools\n\nSchools across the region closed on Thursday as a storm "
        b"brought heavy snow and strong winds, officials said.",
    }  # fmt: skip
    for fmt, value in shapes.items():
        topic, article = _one(await handler.handle([feed(value)]))
        assert topic == settings.topics.ingested, article
        assert article["raw_format"] == fmt
        assert article["title"] and article["body"]
        assert article["id"].startswith("nf_") and article["version"] == 1


async def test_sample_article_is_split_and_cleaned(handler) -> None:
    _, a = _one(await handler.handle([Feed()(SAMPLE.encode())]))
    assert a["title"] == "US says doesn't want escalation as Israel war cabinet mulls response to Iran attack"
    assert a["dateline"]["agency"] == "AFP" and a["dateline"]["date"] == "2024-04-14"
    assert a["body"].startswith("The United States does not want to see an escalation")
    assert "Situation Room" not in a["body"] and "Short link" not in a["body"]
    assert "We don't want to see this escalate" in a["body"]


async def test_retyped_copy_and_tracking_url_are_exact_duplicates(handler, settings) -> None:
    feed = Feed()
    _, original = _one(await handler.handle([feed(SAMPLE.encode())]))
    retyped = SAMPLE.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'").replace("\n\n", "\n \n  ")
    topic, dup = _one(await handler.handle([feed(orjson.dumps({"text": retyped, "source": "Other Daily"}))]))
    assert topic == settings.topics.duplicates
    assert dup["duplicate_of"] == original["id"] and dup["kind"] == "exact" and dup["similarity"] == 1.0

    body = {"title": "Budget passes", "body": "The parliament approved the budget on Monday. " * 10}
    first = {**body, "url": "https://example.com/news/budget?id=7"}
    again = {**body, "url": "https://EXAMPLE.com/news/budget?utm_source=tw&id=7&utm_medium=social#comments"}
    _, a = _one(await handler.handle([feed(orjson.dumps(first))]))
    topic, d = _one(await handler.handle([feed(orjson.dumps(again))]))
    assert topic == settings.topics.duplicates
    assert d["duplicate_of"] == a["id"] and d["reason"] == "url"


async def test_changed_article_at_the_same_url_is_a_new_version(handler, settings) -> None:
    feed = Feed()
    url = "https://example.com/world/quake"
    v1 = {"title": "Quake hits coast", "body": "A strong earthquake hit the coast on Monday, killing 12 people. " * 5}
    v2 = {**v1, "body": v1["body"] + "Rescuers said the toll rose to 15 on Tuesday as more bodies were found."}
    _, a1 = _one(await handler.handle([feed(orjson.dumps({**v1, "url": url}))]))
    topic, a2 = _one(await handler.handle([feed(orjson.dumps({**v2, "url": url + "?utm_campaign=x"}))]))
    assert topic == settings.topics.ingested
    assert a2["id"] == a1["id"] and (a1["version"], a2["version"]) == (1, 2)


async def test_ninjs_correction_with_the_same_urn_is_a_new_version(handler, settings) -> None:
    feed = Feed()
    urn = "urn:newsml:example.com:20240602:museum"
    v1 = {
        "uri": urn,
        "headline": "Museum reopens",
        "versioncreated": "2024-06-02T09:00:00Z",
        "body_text": "The city museum reopened its doors on Sunday after a two-year renovation. " * 4,
    }
    v2 = {
        **v1,
        "versioncreated": "2024-06-02T11:00:00Z",
        "body_text": v1["body_text"] + "An earlier version of this story misstated the length of the works.",
    }
    other = {**v1, "uri": urn + "-2"}
    _, a1 = _one(await handler.handle([feed(orjson.dumps(v1))]))
    topic, a2 = _one(await handler.handle([feed(orjson.dumps(v2))]))
    assert topic == settings.topics.ingested
    assert a2["id"] == a1["id"] and (a1["version"], a2["version"]) == (1, 2) and a2["uri"] == urn
    topic, dup = _one(await handler.handle([feed(orjson.dumps(other))]))  # same text, another item: a copy
    assert topic == settings.topics.duplicates and dup["duplicate_of"] == a1["id"]


async def test_redelivered_record_gets_the_same_output_not_a_self_duplicate(handler, settings) -> None:
    feed = Feed()
    rec = feed(SAMPLE.encode())
    first = await handler.handle([rec])
    again = await handler.handle([rec])  # the same topic/partition/offset: a redelivery
    assert [o.topic for o in again] == [settings.topics.ingested]
    assert again[0].value == first[0].value and again[0].headers["ce_id"] == first[0].headers["ce_id"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (b"\xff\xfe\xfa not utf-8", "invalid_utf8"),
        (b"[]", "not_an_object"),
        (b"42", "not_an_object"),
        (b"{}", "unknown_shape"),
        (b'{"text": ""}', "no_text"),
        (b'{"body": 42}', "invalid_field"),
        (b"", "empty"),
        (b'{"html": "<html><body><script>var x = 1;</script></body></html>"}', "html_no_text"),
    ],
)
async def test_bad_input_goes_to_the_dlq_with_its_reason(handler, settings, value: bytes, code: str) -> None:
    topic, letter = _one(await handler.handle([Feed()(value)]))
    assert topic == settings.topics.dlq
    assert letter["error"]["code"] == code
    assert len(letter["error"]["message"]) > 20
    assert letter["stage"] == "ingest" and letter["source_topic"] == "news.raw" and letter["source_offset"] == 1
    assert base64.b64decode(letter["original_value_b64"]) == value


async def test_oversized_input_goes_to_the_dlq(settings, redis) -> None:
    handler = build_handler(settings.model_copy(update={"max_article_bytes": 1000}), redis)
    topic, letter = _one(await handler.handle([Feed()(json.dumps({"text": "word " * 500}).encode())]))
    assert topic == settings.topics.dlq and letter["error"]["code"] == "too_large"


async def test_one_output_per_record_in_order_for_a_mixed_batch(handler, settings) -> None:
    feed = Feed()
    values = [
        SAMPLE.encode(),
        b"[]",
        SAMPLE.encode(),
        b"Ferry service resumes\n\nThe ferry between the islands resumed on Monday after repairs. " * 2,
    ]
    outs = await handler.handle([feed(v) for v in values])
    t = settings.topics
    assert [o.topic for o in outs] == [t.ingested, t.dlq, t.duplicates, t.ingested]


async def test_copies_in_one_batch_are_decided_in_broker_timestamp_order(handler, settings) -> None:
    """The copy published first is the original, whatever order the partitions were fetched in."""
    value = SAMPLE.encode()
    later = InRecord(topic="news.raw", partition=0, offset=5, key=None, value=value, timestamp_ms=1_713_100_009_000)
    first = InRecord(topic="news.raw", partition=3, offset=9, key=None, value=value, timestamp_ms=1_713_100_001_000)
    outs = await handler.handle([later, first])  # fetched: partition 0 first
    by_topic = {o.topic: orjson.loads(o.value) for o in outs}
    assert by_topic[settings.topics.ingested]["origin"] == {"topic": "news.raw", "partition": 3, "offset": 9}
    assert by_topic[settings.topics.duplicates]["origin"]["partition"] == 0
