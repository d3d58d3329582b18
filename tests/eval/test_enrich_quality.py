"""Enrichment quality on the hand-labelled evaluation set: P/R/F1 per field, with floors.

The floors sit just under what the current enrichers measure (see the table
printed with ``pytest -s``), so a change that makes any field worse fails
here. Spanish articles count too: no Spanish spaCy model is installed, so
their entity and quote fields are null and score as misses.
"""

from __future__ import annotations

import pytest

from services.enrich.enrichers.registry import default_enrichers
from shared.settings import Settings
from tests.eval.enrich_eval import Scores, format_table, load_eval_set, run, score

pytestmark = pytest.mark.slow

# Overall F1 floors (micro-averaged over all articles and languages); for keywords, recall.
FLOORS = {
    "people": 0.89,
    "organizations": 0.69,
    "places": 0.83,
    "countries": 0.95,
    "quotes": 0.90,
    "quote_text": 0.94,
    "category": 0.95,
}
KEYWORD_RECALL_FLOOR = 0.58


@pytest.fixture(scope="module")
def scores() -> Scores:
    items = load_eval_set()
    docs = run(default_enrichers(Settings()), [i.article for i in items])
    s = score(docs, items)
    print(f"\nenrichment quality over {len(items)} articles\n{format_table(s)}")
    return s


def test_eval_set_is_large_and_varied() -> None:
    items = load_eval_set()
    assert len(items) >= 20
    assert sum(1 for i in items if i.language in ("fr", "es")) >= 3
    assert len({i.category for i in items}) >= 7
    for i in items:
        assert 150 <= len(i.article.body.split()) <= 400, i.id


@pytest.mark.parametrize("field", sorted(FLOORS))
def test_field_f1_above_floor(scores: Scores, field: str) -> None:
    c = scores.overall[field]
    assert c.f1 >= FLOORS[field], f"{field}: P={c.precision:.3f} R={c.recall:.3f} F1={c.f1:.3f} < {FLOORS[field]}"


def test_keyword_recall_above_floor(scores: Scores) -> None:
    assert scores.overall["keywords"].recall >= KEYWORD_RECALL_FLOOR
