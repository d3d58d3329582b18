"""bench-quality-languages' reading of its sets: which "articles" are a dateline only, and how a gold person
named with an apposition is scored (pure logic; the examples are written here)."""

from __future__ import annotations

import pytest

from bench.quality_languages import Tally, dateline_only, gold_names

DATELINES_ONLY = (
    "Lima , 4 oct ( EFE ) .\n-",
    "( PX1234 ) Santiago de Chile , 12 ene ( EFECOM ) .\n-",
    "Bristol ( Reino Unido ) , 9 mar ( EFE ) .",
)
ARTICLES = (
    "Lima , 4 oct ( EFE ) .\n-\nEl presidente peruano viajará mañana a Quito .",
    "Resultados\nAlianza Lima - Sporting Cristal 2-1",
    "",
)


@pytest.mark.parametrize(("text", "expected"), [(t, True) for t in DATELINES_ONLY] + [(t, False) for t in ARTICLES])
def test_an_article_that_is_a_dateline_only_is_told_apart(text: str, expected: bool) -> None:
    assert dateline_only(text) is expected


def test_a_gold_person_with_an_apposition_is_found_by_any_of_its_parts() -> None:
    assert gold_names("people", "M. Paul Roux, ancien ministre") == {
        "M. Paul Roux, ancien ministre", "M. Paul Roux", "ancien ministre",
    }  # fmt: skip
    assert gold_names("people", "M. Paul Roux, ancien ministre", strict=True) == {"M. Paul Roux, ancien ministre"}
    assert gold_names("people", "Paul Roux") == {"Paul Roux"}
    assert gold_names("places", "Sion, Valais") == {"Sion, Valais"}  # only people carry HIPE's apposition


@pytest.mark.parametrize(("strict", "tp", "fp", "fn"), [(False, 1, 0, 0), (True, 0, 1, 1)])
def test_the_tally_measures_around_the_apposition_unless_strict(strict: bool, tp: int, fp: int, fn: int) -> None:
    text = "Hier, M. Paul Roux, ancien ministre, est arrivé à Sion."
    tally = Tally(strict=strict)
    tally.add(
        {"people": [{"Paul Roux", "M. Paul Roux"}], "organizations": [], "places": [{"Sion"}]},
        {"people": ["M. Paul Roux, ancien ministre"], "organizations": [], "places": ["Sion"]},
        text,
    )
    people = tally.by_kind["people"]
    assert (people.tp, people.fp, people.fn) == (tp, fp, fn)
    assert tally.by_kind["places"].tp == 1
