"""bench-quality-languages' reading of its sets: which "articles" are a dateline only (pure logic)."""

from __future__ import annotations

import pytest

from bench.quality_languages import dateline_only

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
