"""The sorted word list behind rule ``common_nouns``."""

from __future__ import annotations

import pytest

from services.enrich.analysis.lexicon import SortedWords, common_nouns


def test_sorted_words_finds_each_word_and_nothing_else() -> None:
    words = SortedWords.of(["Apfel", "Bär", "Kuchen", "Äpfel", "Öl"])
    assert len(words) == 5
    for w in ("Apfel", "Bär", "Kuchen", "Äpfel", "Öl"):
        assert w in words
    for other in ("", "A", "Apfe", "Apfels", "Bar", "kuchen", "Zebra", "Ö", "Bär\nKuchen", 3, None):
        assert other not in words


def test_sorted_words_refuses_an_unsorted_or_repeated_list() -> None:
    with pytest.raises(ValueError, match="out of order"):
        SortedWords.of(["Kuchen", "Apfel"])
    with pytest.raises(ValueError, match="repeated"):
        SortedWords.of(["Apfel", "Apfel"])
    with pytest.raises(ValueError, match="empty"):
        SortedWords(b"Apfel\n\nBirne\n")
    assert len(SortedWords(b"")) == 0 and "Apfel" not in SortedWords(b"")


def test_the_german_list_has_common_nouns_in_every_form_and_no_names() -> None:
    nouns = common_nouns("de")
    assert nouns is not None and len(nouns) > 200_000
    for w in ("Kuchen", "Saison", "Plastik", "Nationalparks", "Häuser"):
        assert w in nouns, w
    for w in ("Essen", "Europa", "Engel", "Berlin", "Merkel", "kuchen"):  # names too in Wiktionary, or lowercase
        assert w not in nouns, w
    assert common_nouns("fr") is None
