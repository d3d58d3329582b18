"""The ninjs publish format: an enriched article as an IPTC ninjs 2.1 item, valid against IPTC's schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from services.publish.ninjs import to_ninjs
from services.publish.routing import Route, Router
from shared.models import Dateline, EnrichedArticle, Enrichment, Origin

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "ninjs-schema_2.1.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _enrichment() -> dict[str, Any]:
    return {
        "enriched_at": "2024-04-14T12:00:00+00:00",
        "language": {"code": "en", "confidence": 0.99, "method": "py3langid", "version": "0.4.0"},
        "word_count": {"value": 9, "method": "regex-words", "version": "1"},
        "summary": {"text": "Iran launched drones towards Israel.", "method": "lead", "version": "1"},
        "entities": {
            "people": [{"name": "John Kirby", "mentions": 2, "first": {"in": "body", "start": 37, "end": 42}}],
            "organizations": [{"name": "White House", "mentions": 1, "first": {"in": "title", "start": 0, "end": 2}}],
            "places": [{"name": "Israel", "mentions": 3, "country": "IL",
                        "first": {"in": "body", "start": 29, "end": 35}}],
            "groups": [],
            "method": "spacy-ner:en_core_web_sm", "version": "3.8.0",
        },
        "countries": {"value": [{"code": "IL", "name": "Israel", "score": 1.0, "mentions": 3},
                                {"code": "IR", "name": "Iran", "score": 0.5, "mentions": 1}],
                      "method": "gazetteer", "version": "1"},
        "category": {
            "value": [{"code": "medtop:16000000", "name": "conflict, war and peace", "score": 0.719},
                      {"code": "medtop:11000000", "name": "politics", "score": 0.164}],
            "method": "iptc-lexicon", "version": "1",
        },
    }  # fmt: skip


def _article(**overrides: Any) -> EnrichedArticle:
    fields: dict[str, Any] = {
        "id": "nf_25360a496bee824aaada5302", "version": 2, "content_hash": "h",
        "title": "US says it does not want escalation", "body": "Iran launched drones towards Israel, Kirby said.",
        "canonical_url": "https://example.com/a", "url": "https://example.com/a?utm_source=x", "source": "AFP",
        "published_at": datetime(2024, 4, 14, 9, 30, tzinfo=UTC), "authors": ["Jane Doe", "Ali Reza"],
        "dateline": Dateline(raw="WASHINGTON, April 14 (AFP)", agency="AFP", location="WASHINGTON"),
        "raw_format": "fields", "ingested_at": datetime(2024, 4, 14, 10, 0, tzinfo=UTC),
        "origin": Origin(topic="news.raw", partition=0, offset=7),
        "enrichment": Enrichment.model_validate(_enrichment()),
    }  # fmt: skip
    fields.update(overrides)
    return EnrichedArticle(**fields)


def _errors(item: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(item)]


def test_an_enriched_article_is_a_valid_ninjs_2_1_item() -> None:
    item = to_ninjs(_article())
    assert _errors(item) == []
    assert item["uri"] == "urn:newsflow:article:nf_25360a496bee824aaada5302"
    assert item["version"] == "2"
    assert item["headlines"] == [{"role": "main", "value": "US says it does not want escalation"}]
    assert item["bodies"][0]["value"].startswith("Iran launched") and item["bodies"][0]["wordcount"] == 9
    assert item["versioncreated"] == "2024-04-14T10:00:00Z" and item["firstcreated"] == "2024-04-14T09:30:00Z"
    assert item["language"] == "en"
    assert item["descriptions"] == [
        {"role": "summary", "contenttype": "text/plain", "value": "Iran launched drones towards Israel."}
    ]
    assert item["by"] == "Jane Doe, Ali Reza" and item["located"] == "WASHINGTON"
    assert {"role": "url", "value": "https://example.com/a"} in item["altids"]


def test_categories_become_iptc_media_topic_subjects() -> None:
    subjects = to_ninjs(_article())["subjects"]
    assert subjects[0] == {
        "uri": "http://cv.iptc.org/newscodes/mediatopic/16000000",
        "literal": "medtop:16000000",
        "name": "conflict, war and peace",
        "relevance": 72,
        "creator": "newsflow/iptc-lexicon",
    }
    assert [s["literal"] for s in subjects] == ["medtop:16000000", "medtop:11000000"]


def test_people_organisations_and_places_carry_their_names() -> None:
    item = to_ninjs(_article())
    assert item["people"] == [{"name": "John Kirby", "rel": "mentioned"}]
    assert item["organisations"] == [{"name": "White House", "rel": "mentioned"}]
    # the places NER found, then the countries not already among them
    assert item["places"] == [{"name": "Israel", "rel": "mentioned"}, {"name": "Iran", "rel": "country"}]


def test_a_ninjs_uri_in_the_input_is_kept_and_missing_fields_are_left_out() -> None:
    bare = _article(
        uri="urn:newsml:example.com:20240414:abc",
        enrichment=Enrichment.model_validate({"enriched_at": "2024-04-14T12:00:00+00:00"}),
        published_at=None, authors=[], dateline=None, source=None, canonical_url=None, url=None,
    )  # fmt: skip
    item = to_ninjs(bare)
    assert _errors(item) == []
    assert item["uri"] == "urn:newsml:example.com:20240414:abc"
    for absent in ("subjects", "people", "places", "genres", "by", "located", "firstcreated", "descriptions"):
        assert absent not in item


def test_a_genre_is_written_only_when_an_enrichment_names_one() -> None:
    assert "genres" not in to_ninjs(_article())
    enrichment = {
        **_enrichment(),
        "genre": {"code": "genre:Interview", "name": "interview", "method": "m", "version": "1"},
    }
    item = to_ninjs(_article(enrichment=Enrichment.model_validate(enrichment)))
    assert item["genres"] == [
        {"name": "interview", "literal": "genre:Interview", "uri": "http://cv.iptc.org/newscodes/genre/Interview"}
    ]
    assert _errors(item) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [({"uri": None}, ""), ({"urgency": 12}, "urgency"), ({"bodies": [{"role": "main"}]}, "bodies/0")],
)
def test_the_schema_rejects_items_that_break_it(change: dict[str, Any], where: str) -> None:
    """The shipped schema is the real constraint: items that break it are reported."""
    item = {**to_ninjs(_article()), **change}
    item = {k: v for k, v in item.items() if v is not None}
    assert any(e.startswith(where) for e in _errors(item))


def test_a_route_with_format_ninjs_gives_ninjs_targets() -> None:
    router = Router([Route(name="wire", topic="news.ninjs", format="ninjs"), Route(name="all", topic="news.all")])
    assert [(t.topic, t.format) for t in router.route(_article())] == [
        ("news.ninjs", "ninjs"),
        ("news.all", "newsflow"),
    ]
    with pytest.raises(ValueError, match="format"):
        Route(name="x", topic="t", format="xml")  # type: ignore[arg-type]  # an invalid format on purpose
