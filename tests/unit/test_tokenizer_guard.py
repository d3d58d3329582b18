"""Tokenizing is linear in the input: long whitespace-free runs cannot make spaCy's affix loop quadratic
(issue #11 item 3: 20,000 ``&`` took about 100 s in the entities enricher)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import spacy

from services.enrich.analysis.nlp import SpacyPool
from services.enrich.analysis.tokenizer_guard import MAX_CHUNK, guard_tokenizer
from shared.settings import Settings


def _examined(nlp: Any, text: str) -> int:
    """Characters the tokenizer's prefix and suffix searches read while tokenizing ``text`` (uncached)."""
    tok = nlp.tokenizer
    count = [0]

    def counting(search: Callable[[str], Any]) -> Callable[[str], Any]:
        def wrapped(s: str) -> Any:
            count[0] += len(s)
            return search(s)

        return wrapped

    prefix, suffix = tok.prefix_search, tok.suffix_search
    tok.prefix_search, tok.suffix_search = counting(prefix), counting(suffix)  # also empties the cache
    try:
        tok(text)
    finally:
        tok.prefix_search, tok.suffix_search = prefix, suffix
    return count[0]


@pytest.mark.parametrize("mark", ["&", "!", "(", '"', "$", "&!"])
def test_long_punctuation_runs_cost_linear_work(mark: str) -> None:
    nlp = guard_tokenizer(spacy.blank("en"))
    small, large = _examined(nlp, "Text " + mark * 500), _examined(nlp, "Text " + mark * 2000)
    assert large <= 4 * small + 100, (small, large)  # quadratic would be about 16x


def test_without_the_guard_the_same_run_is_quadratic() -> None:
    """The measurement above can fail: stock spaCy reads about 16x more for a 4x longer run."""
    nlp = spacy.blank("en")
    small, large = _examined(nlp, "&" * 500), _examined(nlp, "&" * 2000)
    assert large > 10 * small


def test_ordinary_text_tokenizes_as_before() -> None:
    text = 'The "U.S.-led" talks (in Doha) ended; see https://example.com/a?b=c&d=e, said Kirby\'s aide!!'
    stock, guarded = spacy.blank("en"), guard_tokenizer(spacy.blank("en"))
    assert [t.text for t in guarded(text)] == [t.text for t in stock(text)]
    run = "&" * (MAX_CHUNK + 5)
    assert [t.text for t in guarded(f"before {run} after")] == ["before", run, "after"]


def test_pipelines_of_the_pool_are_guarded() -> None:
    pool = SpacyPool(Settings())
    for lang in ("en", "xx"):  # a model pipeline and a blank one
        nlp, _ = pool.get(lang)
        assert getattr(nlp.tokenizer.token_match, "_newsflow_guard", False)  # type: ignore[union-attr]  # a spaCy Tokenizer
        assert _examined(nlp, "&" * 2000) <= 4 * _examined(nlp, "&" * 500) + 100
