"""The ingest handler on the memory dedup store: no Redis, no broker (``tests/integration`` runs the
store contract against Redis too, and ``tests/e2e`` the service through the broker).

Every record read yields exactly one output, in input order: the accounting is checked here for
batches larger than one dedup chunk, mixing every kind of output, and with a failing signer.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.ingest.bootstrap import build_handler, near_params
from services.ingest.dedup import MemoryDedupStore
from services.ingest.handler import DECIDE_CHUNK, IngestHandler
from shared.records import InRecord, OutRecord
from shared.settings import Settings

SAMPLE = (Path(__file__).resolve().parent.parent / "data" / "sample-article-afp-2024-04-14.txt").read_text()


class Feed:
    """Hands out raw records with increasing offsets, like a partition would."""

    def __init__(self) -> None:
        self.offset = 0

    def __call__(self, value: bytes, partition: int = 0) -> InRecord:
        self.offset += 1
        return InRecord(topic="news.raw", partition=partition, offset=self.offset, key=None, value=value,
                        timestamp_ms=1_713_100_000_000 + self.offset)  # fmt: skip


def _one(outs: list[OutRecord]) -> tuple[str, dict[str, Any]]:
    assert len(outs) == 1
    return outs[0].topic, orjson.loads(outs[0].value)


def memory_handler(settings: Settings) -> IngestHandler:
    """The bootstrap's handler with the memory twin of the dedup store."""
    return build_handler(settings, store=MemoryDedupStore(near_params(settings)))


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def handler(settings: Settings) -> IngestHandler:
    return memory_handler(settings)


async def test_every_raw_shape_is_accepted(handler: IngestHandler, settings: Settings) -> None:
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


async def test_sample_article_is_split_and_cleaned(handler: IngestHandler) -> None:
    _, a = _one(await handler.handle([Feed()(SAMPLE.encode())]))
    assert a["title"] == "US says doesn't want escalation as Israel war cabinet mulls response to Iran attack"
    assert a["dateline"]["agency"] == "AFP" and a["dateline"]["date"] == "2024-04-14"
    assert a["body"].startswith("The United States does not want to see an escalation")
    assert "Situation Room" not in a["body"] and "Short link" not in a["body"]
    assert "We don't want to see this escalate" in a["body"]


async def test_retyped_copy_and_tracking_url_are_exact_duplicates(handler: IngestHandler, settings: Settings) -> None:
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


async def test_changed_article_at_the_same_url_is_a_new_version(handler: IngestHandler, settings: Settings) -> None:
    feed = Feed()
    url = "https://example.com/world/quake"
    v1 = {"title": "Quake hits coast", "body": "A strong earthquake hit the coast on Monday, killing 12 people. " * 5}
    v2 = {**v1, "body": v1["body"] + "Rescuers said the toll rose to 15 on Tuesday as more bodies were found."}
    _, a1 = _one(await handler.handle([feed(orjson.dumps({**v1, "url": url}))]))
    topic, a2 = _one(await handler.handle([feed(orjson.dumps({**v2, "url": url + "?utm_campaign=x"}))]))
    assert topic == settings.topics.ingested
    assert a2["id"] == a1["id"] and (a1["version"], a2["version"]) == (1, 2)


async def test_ninjs_correction_with_the_same_urn_is_a_new_version(handler: IngestHandler, settings: Settings) -> None:
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


async def test_redelivered_record_gets_the_same_output_not_a_self_duplicate(
    handler: IngestHandler, settings: Settings
) -> None:
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
async def test_bad_input_goes_to_the_dlq_with_its_reason(
    handler: IngestHandler, settings: Settings, value: bytes, code: str
) -> None:
    topic, letter = _one(await handler.handle([Feed()(value)]))
    assert topic == settings.topics.dlq
    assert letter["error"]["code"] == code
    assert len(letter["error"]["message"]) > 20
    assert letter["stage"] == "ingest" and letter["source_topic"] == "news.raw" and letter["source_offset"] == 1
    assert base64.b64decode(letter["original_value_b64"]) == value


async def test_oversized_input_goes_to_the_dlq(settings: Settings) -> None:
    handler = memory_handler(settings.model_copy(update={"max_article_bytes": 1000}))
    topic, letter = _one(await handler.handle([Feed()(json.dumps({"text": "word " * 500}).encode())]))
    assert topic == settings.topics.dlq and letter["error"]["code"] == "too_large"


async def test_one_output_per_record_in_order_for_a_mixed_batch(handler: IngestHandler, settings: Settings) -> None:
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


def _origin(out: OutRecord) -> tuple[int, int]:
    """The raw record (partition, offset) an output came from, whatever its topic."""
    v = orjson.loads(out.value)
    if "source_offset" in v:  # a dead letter
        return v["source_partition"], v["source_offset"]
    return v["origin"]["partition"], v["origin"]["offset"]


def _mixed_values(n: int) -> list[bytes]:
    """New articles, exact copies, near copies, corrections and bad input, interleaved."""
    values: list[bytes] = []
    for i in range(n):
        base = f"Story {i // 5} about the harbour {i // 5}. " * 12
        kind = i % 5
        if kind == 0:
            values.append(orjson.dumps({"title": f"Harbour {i // 5}", "body": base, "url": f"https://e.com/{i // 5}"}))
        elif kind == 1:  # an exact copy of the one before, under another URL
            values.append(orjson.dumps({"title": f"Harbour {i // 5}", "body": base, "url": f"https://m.com/{i}"}))
        elif kind == 2:  # a correction at the first one's URL
            values.append(
                orjson.dumps(
                    {"title": f"Harbour {i // 5}", "body": base + "Updated.", "url": f"https://e.com/{i // 5}"}
                )
            )
        elif kind == 3:
            values.append(b"[1, 2]" if i % 2 else b"\xff not utf-8")
        else:
            values.append(
                f"Plain text {i}\n\nA short report number {i} on the weather, written as plain text.".encode()
            )
    return values


@pytest.mark.parametrize("n", [1, DECIDE_CHUNK - 1, DECIDE_CHUNK, DECIDE_CHUNK + 1, 2 * DECIDE_CHUNK + 37])
async def test_every_record_of_a_batch_has_exactly_one_output_in_input_order(
    handler: IngestHandler, settings: Settings, n: int
) -> None:
    feed = Feed()
    records = [feed(v, partition=i % 3) for i, v in enumerate(_mixed_values(n))]
    outs = await handler.handle(records)
    assert [_origin(o) for o in outs] == [(r.partition, r.offset) for r in records]
    t = settings.topics
    topics = {o.topic for o in outs}
    assert topics <= {t.ingested, t.duplicates, t.dlq}
    if n >= 5:
        assert topics == {t.ingested, t.duplicates, t.dlq}


async def test_a_replayed_batch_gets_the_same_outputs(handler: IngestHandler, settings: Settings) -> None:
    def same(out: OutRecord) -> tuple[str, bytes | None, bytes]:
        """What a replay must repeat: a dead letter's ``failed_at`` is the time of the attempt."""
        return out.topic, out.key, out.value if out.topic != settings.topics.dlq else out.headers["ce_id"]

    feed = Feed()
    records = [feed(v) for v in _mixed_values(DECIDE_CHUNK + 20)]
    first = await handler.handle(records)
    again = await handler.handle(records)
    assert [same(o) for o in again] == [same(o) for o in first]
    assert {o.topic for o in first} == {settings.topics.ingested, settings.topics.duplicates, settings.topics.dlq}


async def test_a_signer_that_fails_on_one_text_dead_letters_that_record_only(settings: Settings) -> None:
    store = MemoryDedupStore(near_params(settings))

    def signer(texts: list[str]) -> list[tuple[bytes, tuple[str, ...]]]:
        if any("poison" in t for t in texts):
            raise RuntimeError("signer failed")
        return [(b"", ()) for _ in texts]

    handler = IngestHandler(settings, store, signer)
    feed = Feed()
    values = [orjson.dumps({"title": f"T {i}", "body": f"Body number {i} " * 20 + ("poison" if i == 3 else "")})
              for i in range(8)]  # fmt: skip
    outs = await handler.handle([feed(v) for v in values])
    t = settings.topics
    assert [o.topic for o in outs] == [t.ingested] * 3 + [t.dlq] + [t.ingested] * 4
    assert orjson.loads(outs[3].value)["error"]["code"] == "internal_error"


async def test_a_failing_store_raises_for_the_whole_batch_and_loses_nothing(settings: Settings) -> None:
    class Down:
        calls = 0

        async def decide(self, items: list[Any], **offsets: Any) -> list[Any]:
            self.calls += 1
            raise ConnectionError("redis down")

    handler = IngestHandler(settings, Down())
    with pytest.raises(ConnectionError):
        await handler.handle([Feed()(SAMPLE.encode())])


async def test_copies_in_one_batch_are_decided_in_broker_timestamp_order(
    handler: IngestHandler, settings: Settings
) -> None:
    """The copy published first is the original, whatever order the partitions were fetched in."""
    value = SAMPLE.encode()
    later = InRecord(topic="news.raw", partition=0, offset=5, key=None, value=value, timestamp_ms=1_713_100_009_000)
    first = InRecord(topic="news.raw", partition=3, offset=9, key=None, value=value, timestamp_ms=1_713_100_001_000)
    outs = await handler.handle([later, first])  # fetched: partition 0 first
    by_topic = {o.topic: orjson.loads(o.value) for o in outs}
    assert by_topic[settings.topics.ingested]["origin"] == {"topic": "news.raw", "partition": 3, "offset": 9}
    assert by_topic[settings.topics.duplicates]["origin"]["partition"] == 0
