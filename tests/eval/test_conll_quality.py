"""Entity quality on real agency copy (CoNLL-2003 dev, read by path), with floors from measured values.

Skipped when the file is absent (``NEWSFLOW_CONLL_DEV`` or ``<repo>/../shared/data/external``). The
floors sit just under what ``make bench-quality`` measured on 2026-12-01 (newsflow with
``en_core_web_sm`` micro F1 0.855, stock ``en_core_web_sm`` 0.676 in the same run), so a rule that costs
recall or precision on real copy fails here. Stories newsflow detects as another language are left out of
the "none found" check: that is the language decision's business (issue #10 part 1), scored apart.
"""

from __future__ import annotations

import pytest

from bench.quality import Measurement, measure
from evaluation.conll_eval import KINDS, Tally, default_conll_path

pytestmark = pytest.mark.slow

MICRO_F1_FLOOR = 0.84
GAP_OVER_STOCK_FLOOR = 0.05  # the target: newsflow at least stock spaCy + 0.05
KIND_F1_FLOORS = {"people": 0.87, "organizations": 0.77, "places": 0.86}
SHAPE_F1_FLOORS = {"prose": 0.82, "results": 0.89, "brief": 0.83}


@pytest.fixture(scope="module")
def measured() -> Measurement:
    path = default_conll_path()
    if not path.is_file():
        pytest.skip(f"no CoNLL-2003 file at {path}")
    return measure(path)


def test_newsflow_beats_stock_spacy_by_the_target(measured: Measurement) -> None:
    ours, stock = measured.all[0].overall, measured.all[1].overall
    assert ours.f1 >= MICRO_F1_FLOOR, f"newsflow micro F1 {ours.f1:.3f}"
    assert ours.f1 - stock.f1 >= GAP_OVER_STOCK_FLOOR, f"newsflow {ours.f1:.3f} vs stock {stock.f1:.3f}"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_above_floor(measured: Measurement, kind: str) -> None:
    c = measured.all[0].by_kind[kind]
    assert c.f1 >= KIND_F1_FLOORS[kind], f"{kind}: P={c.precision:.3f} R={c.recall:.3f} F1={c.f1:.3f}"


@pytest.mark.parametrize("shape", sorted(SHAPE_F1_FLOORS))
def test_each_shape_above_floor(measured: Measurement, shape: str) -> None:
    f1 = Tally.micro(measured.all[0].by_shape[shape]).f1
    assert f1 >= SHAPE_F1_FLOORS[shape], f"{shape}: micro F1 {f1:.3f}"


def test_no_english_story_where_stock_finds_entities_and_newsflow_none(measured: Measurement) -> None:
    missing = [measured.stories[i].headline for i in measured.none() if not measured.not_english[i]]
    assert missing == []
