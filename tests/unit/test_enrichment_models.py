"""The typed enrichment payload (``shared.models.Enrichment``) against what enrich really writes.

The articles are the shipped samples through the ingest handler plus a few written here for the
shapes the samples do not reach (a language with no spaCy model, a declaration with no ISO code, a
table with no prose): every field the pipeline writes for them is the model of its name, fully
modelled (no key lands in ``model_extra``: a key an enricher adds without a model change fails
here), and what a reader (publish) validates from the JSON is what enrich wrote (explicit nulls
kept, keys not written left out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from services.clients import iter_inputs
from services.enrich.analysis.doc import Doc
from services.enrich.bootstrap import build_pipeline
from services.enrich.enrichers.base import Enricher, Fields
from services.enrich.pipeline import EnrichmentPipeline
from services.ingest.dedup import MemoryDedupStore, NearParams
from services.ingest.handler import IngestHandler
from shared import codec
from shared.models import FIELD_MODELS, Article, EnrichedArticle, Enrichment, Origin
from shared.records import InRecord
from shared.settings import Settings

SAMPLES = Path(__file__).resolve().parents[2] / "services" / "samples"
ENRICHED_AT = datetime(2024, 4, 14, 12, 0, 0, 123456, tzinfo=UTC)


def _article(i: int, title: str, body: str, language: str | None = None) -> Article:
    return Article(
        id=f"nf_own_{i}", content_hash=f"own{i}", title=title, body=body, language=language, raw_format="fields",
        ingested_at=ENRICHED_AT, origin=Origin(topic="news.raw", partition=0, offset=i),
    )  # fmt: skip


async def _articles() -> list[Article]:
    """The samples as ingest writes them (the retyped copy is a duplicate), then shapes they do not reach."""
    handler = IngestHandler(Settings(near_dedup=False), MemoryDedupStore(NearParams(min_equal_slots=0)))
    raws = [r.value for r in iter_inputs([str(SAMPLES)])]
    outs = await handler.handle([InRecord("news.raw", 0, i, None, v) for i, v in enumerate(raws)])
    samples = [Article.model_validate_json(o.value) for o in outs if o.topic == handler.settings.topics.ingested]
    own = [
        _article(
            1, "Volkswagen meldet Verlust im dritten Quartal",
            'Volkswagen hat im dritten Quartal einen Verlust verbucht. "Wir sind mitten in einem großen Umbau", '
            "sagte Konzernchef Oliver Blume in Wolfsburg. Der Umsatz stieg leicht auf 80 Milliarden Euro.",
        ),
        _article(
            2, "Le gouvernement annonce un plan pour l'hôpital",
            "Le Premier ministre a présenté lundi à Paris un plan de deux milliards d'euros pour l'hôpital public. "
            "« Nous tiendrons nos engagements », a-t-il déclaré devant les soignants.",
            language="fr-FR",
        ),
        _article(3, "Markets", "The index rose on Monday as investors bought shares of banks.", language="klingon"),
        _article(4, "RESULTS", "1. Team A 3 2. Team B 2\n3. Team C 1 4. Team D 0\nPTS 12 10 8 4"),
        _article(  # Polish: no category lexicon (a null category with its reason)
            5, "Sejm przyjął ustawę o podatkach",
            "Posłowie Sejmu przyjęli w piątek ustawę o podatkach. Rząd zapowiedział, że nowe przepisy wejdą w życie "
            "w styczniu, a opozycja skrytykowała projekt.",
        ),
    ]  # fmt: skip
    return samples + own


@pytest.fixture(scope="module")
def pipeline() -> EnrichmentPipeline:
    return build_pipeline(Settings(), warm=False)


@pytest.fixture(scope="module")
def docs(pipeline: EnrichmentPipeline) -> list[Doc]:
    return pipeline.run(asyncio.run(_articles()))


def _extra_keys(model: BaseModel, where: str) -> Iterator[str]:
    """Every key anywhere in ``model`` that no model declares, as a dotted path."""
    yield from (f"{where}.{k}" for k in model.model_extra or {})
    for name in type(model).model_fields:
        yield from _extra_in(getattr(model, name), f"{where}.{name}")


def _extra_in(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, BaseModel):
        yield from _extra_keys(value, where)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _extra_in(v, f"{where}[{i}]")


def _sorted_json(value: Any) -> bytes:
    return orjson.dumps(orjson.loads(value) if isinstance(value, bytes) else value, option=orjson.OPT_SORT_KEYS)


def _written(doc: Doc) -> dict[str, dict[str, Any]]:
    """The fields of ``doc`` as they go on the wire (the keys written, no others)."""
    return {name: f.model_dump(mode="json") for name, f in doc.fields.items()}


def test_the_samples_reach_the_shapes_worth_checking(docs: list[Doc]) -> None:
    """The fixture covers found and null-with-reason fields, optional keys included (else the rest proves less)."""
    fields = [_written(d) for d in docs]

    def null(payload: dict[str, Any], key: str) -> bool:
        return key in payload and payload[key] is None

    assert any(f["dateline"].get("raw") for f in fields) and any(null(f["dateline"], "value") for f in fields)
    assert any(null(f["entities"], "people") for f in fields) and any(f["entities"].get("people") for f in fields)
    assert any(null(f["sentiment"], "score") for f in fields) and any("sentences" in f["sentiment"] for f in fields)
    assert any(f["quotes"].get("value") for f in fields) and any(null(f["quotes"], "value") for f in fields)
    assert any(f["category"].get("value") for f in fields) and any(null(f["category"], "value") for f in fields)
    assert any("declared_by" in f["language"] for f in fields) and any("reason" in f["language"] for f in fields)
    assert any(null(f["language"], "declared") for f in fields)
    quotes = [q for f in fields for q in f["quotes"].get("value") or []]
    assert any(q["speaker"] is None for q in quotes) and any(q["speaker"] for q in quotes)
    entities = [e for f in fields for group in ("people", "places") for e in f["entities"].get(group) or []]
    assert any("aliases" in e for e in entities) and any("country" in e for e in entities)


def test_every_field_the_pipeline_writes_is_the_model_of_its_name_and_fully_modelled(docs: list[Doc]) -> None:
    for doc in docs:
        assert {n: type(f) for n, f in doc.fields.items()} == {n: FIELD_MODELS[n] for n in doc.fields}, doc.article.id
        enrichment = Enrichment.model_validate({"enriched_at": ENRICHED_AT, **doc.fields})
        assert list(_extra_keys(enrichment, "enrichment")) == [], doc.article.id
        # the handler's Enrichment takes the fields as they are: their contents are not validated again
        assert all(getattr(enrichment, n) is f for n, f in doc.fields.items()), doc.article.id


def test_a_reader_validates_from_the_json_what_enrich_wrote(docs: list[Doc]) -> None:
    """Explicit nulls stay, keys an enricher did not write do not appear, numbers keep their type."""
    for doc in docs:
        enrichment = Enrichment.model_validate({"enriched_at": ENRICHED_AT, **doc.fields})
        wire = codec.dumps(enrichment)
        read = Enrichment.model_validate_json(wire)
        for name, written in doc.fields.items():
            got = getattr(read, name)
            assert got == written and got.model_fields_set == written.model_fields_set, (doc.article.id, name)
        assert codec.dumps(read) == wire, doc.article.id
        assert _sorted_json(wire) == _sorted_json({"enriched_at": ENRICHED_AT.isoformat(), **_written(doc)})
        assert orjson.loads(wire)["enriched_at"] == "2024-04-14T12:00:00.123456+00:00"


class _Failing:
    """An enricher with the name and fields of a real one that fails on every article."""

    name: ClassVar[str] = ""
    provides: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        raise RuntimeError("boom")


def _failing(real: Enricher) -> Enricher:
    cls = type(f"Failing{real.name}", (_Failing,), {"name": real.name, "provides": real.provides})
    return cls()


def test_the_fields_of_a_failed_enricher_validate_and_are_fully_modelled(
    pipeline: EnrichmentPipeline, docs: list[Doc]
) -> None:
    failing = EnrichmentPipeline([_failing(e) for e in pipeline.enrichers])
    (doc,) = failing.run([docs[0].article])
    assert set(doc.fields) == {f for e in pipeline.enrichers for f in e.provides}
    assert {n: type(f) for n, f in doc.fields.items()} == {n: FIELD_MODELS[n] for n in doc.fields}
    enrichment = Enrichment.model_validate({"enriched_at": ENRICHED_AT, **doc.fields})
    assert list(_extra_keys(enrichment, "enrichment")) == []
    assert enrichment.entities is not None and enrichment.entities.value is None
    assert enrichment.entities.reason == "enricher failed: RuntimeError: boom"
    assert enrichment.entities.people is None and enrichment.entities.version == "?"
    wire = orjson.loads(codec.dumps(enrichment))
    boom = {"value": None, "method": "entities", "version": "?", "reason": "enricher failed: RuntimeError: boom"}
    assert wire["entities"] == boom  # only the null value and the provenance: no key of a found field
    assert wire["reading_time"] == {**boom, "method": "readability"}


def test_a_reader_keeps_the_fields_and_keys_a_newer_enrich_adds(docs: list[Doc]) -> None:
    fields = _written(docs[0])
    fields["sentiment"]["magnitude"] = 0.7
    newer = {
        "enriched_at": ENRICHED_AT.isoformat(),
        **fields,
        "emotion": {"value": "joy", "method": "m", "version": "2"},
    }
    enrichment = Enrichment.model_validate(newer)
    assert enrichment.model_extra == {"emotion": {"value": "joy", "method": "m", "version": "2"}}
    assert enrichment.sentiment is not None and enrichment.sentiment.model_extra == {"magnitude": 0.7}
    assert sorted(_extra_keys(enrichment, "enrichment")) == ["enrichment.emotion", "enrichment.sentiment.magnitude"]
    assert _sorted_json(codec.dumps(enrichment)) == _sorted_json(newer)


def test_an_enrichment_that_breaks_the_contract_does_not_validate(docs: list[Doc]) -> None:
    fields = _written(docs[0])
    with pytest.raises(ValidationError, match=r"sentiment\.score"):
        Enrichment.model_validate({"enriched_at": ENRICHED_AT, "sentiment": {**fields["sentiment"], "score": "high"}})
    with pytest.raises(ValidationError, match=r"language\.method"):
        Enrichment.model_validate({"enriched_at": ENRICHED_AT, "language": {"code": "en", "version": "1"}})
    with pytest.raises(ValidationError, match="enriched_at"):
        Enrichment.model_validate({"language": fields["language"]})


def test_an_enriched_article_round_trips_through_the_codec(docs: list[Doc]) -> None:
    doc = docs[0]
    article = EnrichedArticle(
        **doc.article.model_dump(), enrichment=Enrichment.model_validate({"enriched_at": ENRICHED_AT, **doc.fields})
    )
    again = EnrichedArticle.model_validate_json(codec.dumps(article))
    assert codec.dumps(again) == codec.dumps(article)
    assert again.enrichment.entities is not None and again.enrichment.entities.people
