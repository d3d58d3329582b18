"""The NER pipelines shipped in services/enrich/models load on first use, take the fast NER path, and find names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.enrich.analysis import fast_ner
from services.enrich.analysis.nlp import MODELS_DIR, SpacyPool
from shared.settings import Settings

SHIPPED = ("de", "nl", "pt", "it", "ar")
# one short made-up news sentence per language, each with a person, an organisation and a place
SENTENCES = {
    "de": "Bundeskanzler Olaf Scholz hat am Montag in Berlin mit Vertretern der Deutschen Bank gesprochen.",
    "nl": "Premier Mark Rutte sprak maandag in Amsterdam met de directie van Philips over de nieuwe fabriek.",
    "pt": "O presidente Luiz Inácio Lula da Silva reuniu-se em Brasília com a direção da Petrobras na segunda-feira.",
    "it": "Il presidente Sergio Mattarella ha incontrato lunedì a Roma i vertici della Fiat per discutere del piano.",
    "ar": "التقى الرئيس عبد الفتاح السيسي في القاهرة يوم الاثنين وفدا من البنك الدولي لبحث الأزمة الاقتصادية .",
}


def test_every_language_defaults_to_a_model() -> None:
    models = Settings().spacy_models
    for lang in ("es", "de", "fr", "pt", "it", "nl", "ar"):
        assert lang in models, lang
    for lang in SHIPPED:
        assert (MODELS_DIR / models[lang] / "meta.json").is_file(), lang


@pytest.mark.parametrize("lang", SHIPPED)
def test_shipped_model_records_its_sources_and_licence(lang: str) -> None:
    meta = json.loads((MODELS_DIR / f"newsflow_ner_{lang}" / "meta.json").read_text(encoding="utf-8"))
    assert meta["lang"] == lang and meta["license"]
    assert meta["sources"] and all(s["url"].startswith("https://") and len(s["sha256"]) == 64 for s in meta["sources"])


def test_loaded_on_first_use_only() -> None:
    pool = SpacyPool(Settings())
    assert not pool._pipelines
    pool.get("nl")
    assert set(pool._pipelines) == {"nl"}


@pytest.mark.parametrize("lang", SHIPPED)
def test_fast_path_same_entities_and_names_found(lang: str) -> None:
    fast_nlp, info = SpacyPool(Settings(spacy_fast_ner=True)).get(lang)
    slow_nlp, _ = SpacyPool(Settings(spacy_fast_ner=False)).get(lang)
    assert info.has_ner and {"PER", "ORG", "LOC"} <= info.labels
    ner: Any = fast_nlp.get_pipe("ner")  # spaCy types get_pipe as a plain callable
    assert ner.model.layers[0].name == fast_ner._FAST_NAME  # the fast token vectors are in use
    texts = [SENTENCES[lang], "", " ", SENTENCES[lang] * 3]
    got = [[(e.text, e.label_) for e in d.ents] for d in fast_nlp.pipe(texts)]
    assert got == [[(e.text, e.label_) for e in d.ents] for d in slow_nlp.pipe(texts)]
    assert got[0], f"{lang}: no entity in {SENTENCES[lang]!r}"
