"""The enrich handler from its bootstrap, on the memory story index: no Redis, no broker.

``tests/integration/test_story_index_contract.py`` runs the story-index contract against Redis too,
and ``tests/e2e`` runs the service through the broker.
"""

from __future__ import annotations

import orjson
import pytest

from services.enrich.bootstrap import build_handler, build_pipeline
from services.enrich.handler import EnrichHandler
from services.enrich.pipeline import EnrichmentPipeline
from services.enrich.stories import MemoryStoryIndex, story_id_for
from shared.codec import dumps
from shared.records import InRecord
from shared.settings import Settings

from .test_enrichers import sample_article


@pytest.fixture(scope="module")
def pipeline() -> EnrichmentPipeline:
    return build_pipeline(Settings(), warm=False)


@pytest.fixture
def handler(pipeline: EnrichmentPipeline) -> EnrichHandler:
    settings = Settings(enrich_batch_size=2)  # several NLP chunks in one batch of records
    return build_handler(settings, stories=MemoryStoryIndex(settings), pipeline=pipeline)


def _record(offset: int, value: bytes) -> InRecord:
    return InRecord(topic="news.ingested", partition=0, offset=offset, key=None, value=value)


async def test_one_output_per_record_in_order_with_bad_records_dead_lettered(handler: EnrichHandler) -> None:
    base = sample_article()
    articles = [base.model_copy(update={"id": f"a{i}", "content_hash": f"a{i}"}) for i in range(3)]
    values = [dumps(articles[0]), b"not json", dumps(articles[1]), b'{"id": "x"}', dumps(articles[2])]
    outs = await handler.handle([_record(i, v) for i, v in enumerate(values)])
    t = handler.settings.topics
    assert [o.topic for o in outs] == [t.enriched, t.dlq, t.enriched, t.dlq, t.enriched]
    assert [orjson.loads(outs[k].value)["id"] for k in (0, 2, 4)] == ["a0", "a1", "a2"]
    assert {orjson.loads(outs[k].value)["error"]["code"] for k in (1, 3)} == {"invalid_article"}


async def test_copies_of_one_report_share_the_story_of_the_first(handler: EnrichHandler) -> None:
    base = sample_article()
    values = [dumps(base.model_copy(update={"id": f"c{i}", "content_hash": f"c{i}"})) for i in range(3)]
    outs = await handler.handle([_record(i, v) for i, v in enumerate(values)])
    enriched = [orjson.loads(o.value) for o in outs]
    assert [e["story_id"] for e in enriched] == [story_id_for("c0")] * 3
    assert all(e["enrichment"]["entities"]["people"] for e in enriched)
