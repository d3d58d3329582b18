"""bench-quality-languages' reading of its sets: which "articles" are a dateline only (pure logic)."""

from __future__ import annotations

from bench.quality_languages import dateline_only


def test_an_article_that_is_a_dateline_only_is_told_apart() -> None:
    assert dateline_only("Lima , 4 oct ( EFE ) .\n-")
    assert dateline_only("( PX1234 ) Santiago de Chile , 12 ene ( EFECOM ) .\n-")
    assert dateline_only("Bristol ( Reino Unido ) , 9 mar ( EFE ) .")
    assert not dateline_only("Lima , 4 oct ( EFE ) .\n-\nEl presidente peruano viajará mañana a Quito .")
    assert not dateline_only("Resultados\nAlianza Lima - Sporting Cristal 2-1")
    assert not dateline_only("")
