"""Entity quality on real agency copy, 2020 and 1996 (CoNLL-2020 dev and CoNLL-2003 dev, read by path), with
floors from measured values.

Each set is skipped when its file is absent (``NEWSFLOW_CONLL2020_DEV`` / ``NEWSFLOW_CONLL_DEV`` or
``<repo>/../shared/data/external``). The floors sit just under what ``make bench-quality`` measured on
2026-12-06 with the default model, ``en_core_web_md`` (docs/quality-entities-en.md): on CoNLL-2020 dev newsflow
0.850 micro F1 beside stock ``en_core_web_md`` 0.802 and stock ``en_core_web_sm`` 0.734; on CoNLL-2003 dev
0.874 beside 0.698 and 0.676, in the same run. The issue's targets are asserted as they are: on the modern set
newsflow at least stock md + 0.03 and stock sm + 0.08, on the old one 0.85. Stories newsflow detects as another
language are left out of the "none found" check: that is the language decision's business, scored apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bench.quality import Measurement, measure
from evaluation.conll_eval import KINDS, Tally, default_conll_path

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Floors:
    micro: float
    over_stock: dict[str, float]  # stock model -> least micro F1 gap
    kinds: dict[str, float]
    shapes: dict[str, float]


SETS = {
    "conll2020-dev.txt": Floors(
        micro=0.84,
        over_stock={"en_core_web_md": 0.03, "en_core_web_sm": 0.08},  # the targets
        kinds={"people": 0.85, "organizations": 0.74, "places": 0.85},
        shapes={"prose": 0.83, "brief": 0.82},
    ),
    "conll2003-dev.txt": Floors(
        micro=0.865,  # the target is 0.85
        over_stock={"en_core_web_md": 0.15, "en_core_web_sm": 0.15},
        kinds={"people": 0.89, "organizations": 0.79, "places": 0.87},
        shapes={"prose": 0.84, "results": 0.88, "brief": 0.85},
    ),
}
STOCK = ("en_core_web_sm", "en_core_web_md")


@pytest.fixture(scope="module", params=sorted(SETS))
def measured(request: pytest.FixtureRequest) -> tuple[str, Measurement]:
    path = default_conll_path(name=request.param)
    if not path.is_file():
        pytest.skip(f"no CoNLL file at {path}")
    return request.param, measure(path, stock=STOCK)


def test_newsflow_beats_stock_spacy_by_the_targets(measured: tuple[str, Measurement]) -> None:
    name, m = measured
    ours = m.all[0].overall
    assert ours.f1 >= SETS[name].micro, f"{name}: newsflow micro F1 {ours.f1:.3f}"
    for k, model in enumerate(STOCK):
        stock = m.all[m.n_newsflow + k].overall
        gap = SETS[name].over_stock[model]
        assert ours.f1 - stock.f1 >= gap, f"{name}: newsflow {ours.f1:.3f} vs stock {model} {stock.f1:.3f}"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_above_floor(measured: tuple[str, Measurement], kind: str) -> None:
    name, m = measured
    c = m.all[0].by_kind[kind]
    floor = SETS[name].kinds[kind]
    assert c.f1 >= floor, f"{name} {kind}: P={c.precision:.3f} R={c.recall:.3f} F1={c.f1:.3f}"


def test_each_shape_above_floor(measured: tuple[str, Measurement]) -> None:
    name, m = measured
    for shape, floor in SETS[name].shapes.items():
        f1 = Tally.micro(m.all[0].by_shape[shape]).f1
        assert f1 >= floor, f"{name} {shape}: micro F1 {f1:.3f}"


def test_no_english_story_where_stock_finds_entities_and_newsflow_none(measured: tuple[str, Measurement]) -> None:
    _, m = measured
    missing = [m.stories[i].headline for i in m.none() if not m.not_english[i]]
    assert missing == []
