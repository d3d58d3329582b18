"""Routing rules: which topics an enriched article is delivered to."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.publish.routing import Route, Router, load_router
from shared.models import CategoryField, EnrichedArticle, Enrichment, Origin


def _article(language: str | None = "en", categories: list[str] | None = None, countries: list[str] | None = None):
    enrichment: dict[str, object] = {"enriched_at": datetime.now(UTC)}
    if language:
        enrichment["language"] = {"code": language, "confidence": 0.99, "method": "py3langid", "version": "0.4.0"}
    if categories is not None:
        enrichment["category"] = {
            "value": [{"code": f"medtop:{i}", "name": c, "score": 0.5} for i, c in enumerate(categories)],
            "method": "iptc-lexicon", "version": "1",
        }  # fmt: skip
    if countries is not None:
        enrichment["countries"] = {
            "value": [{"code": c, "name": c, "score": 1.0, "mentions": 1} for c in countries],
            "method": "gazetteer", "version": "1",
        }  # fmt: skip
    return EnrichedArticle(
        id="nf_1", content_hash="h", title="t", body="b", raw_format="fields", source="AFP",
        ingested_at=datetime.now(UTC), origin=Origin(topic="raw", partition=0, offset=0),
        enrichment=Enrichment.model_validate(enrichment),
    )  # fmt: skip


def test_default_rules_route_by_language() -> None:
    targets = load_router().route(_article("fr"))
    assert [t.topic for t in targets] == ["news.published.lang.fr"]


def test_no_language_means_no_language_route() -> None:
    assert load_router().route(_article(language=None)) == []


def test_category_route_uses_the_top_category_as_a_topic_safe_slug() -> None:
    router = Router([Route(name="cat", topic="desk.{category}")])
    targets = router.route(_article(categories=["conflict, war and peace", "politics"]))
    assert [t.topic for t in targets] == ["desk.conflict-war-and-peace"]


def test_country_placeholder_expands_once_per_country() -> None:
    router = Router([Route(name="geo", topic="geo.{country}")])
    assert [t.topic for t in router.route(_article(countries=["IL", "IR", "IL"]))] == ["geo.il", "geo.ir"]


def test_not_computed_field_routes_nowhere() -> None:
    art = _article()
    art.enrichment.category = CategoryField(value=None, reason="no model", method="x", version="1")
    assert Router([Route(name="cat", topic="desk.{category}")]).route(art) == []


def test_when_conditions_must_all_match() -> None:
    router = Router([Route(name="mideast", topic="desk.mideast", when={"country": ["IL", "IR"], "language": ["en"]})])
    assert [t.topic for t in router.route(_article("en", countries=["US", "IR"]))] == ["desk.mideast"]
    assert router.route(_article("fr", countries=["IR"])) == []
    assert router.route(_article("en", countries=["US"])) == []


def test_unknown_placeholder_or_condition_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown placeholder"):
        Route(name="x", topic="t.{colour}")
    with pytest.raises(ValidationError, match="unknown condition"):
        Route(name="x", topic="t", when={"colour": ["red"]})


def test_rules_file_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("routes:\n  - name: all\n    topic: everything\n")
    assert [t.sink for t in load_router(path).route(_article())] == ["all/everything"]
