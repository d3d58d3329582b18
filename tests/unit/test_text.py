"""Display text: characters and whitespace, paragraphs, quote pairs, one-line titles (and the comparison fold)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ingest.text import clean_text, fix_quote_pairs, normalize_title, split_paragraphs
from shared.textfold import fold_for_comparison

SAMPLE = (Path(__file__).parent.parent / "data" / "sample-article-afp-2024-04-14.txt").read_text(encoding="utf-8")

# --------------------------------------------------------------------------- clean_text


def test_clean_text_composes_unicode_to_nfc() -> None:
    assert clean_text("Cafe\u0301 cre\u0300me") == "Café crème"


def test_clean_text_removes_control_and_invisible_characters() -> None:
    assert clean_text("\ufeffAb\x00c\u200bd\u00ade\x1b\x7f") == "Abcde"


def test_clean_text_keeps_joiners_that_carry_meaning() -> None:
    persian = "می\u200cخواهم"  # ZWNJ is part of the spelling
    assert clean_text(persian) == persian


def test_clean_text_collapses_whitespace_and_keeps_paragraphs() -> None:
    raw = "  First\u00a0 line\t here  \r\nsecond line\r\n\r\n\r\n\n  Next\u2003paragraph \u2029Last"
    assert clean_text(raw) == "First line here\nsecond line\n\nNext paragraph\n\nLast"


def test_clean_text_is_idempotent_on_the_sample() -> None:
    once = clean_text(SAMPLE)
    assert clean_text(once) == once
    assert "\n\n\n" not in once


# --------------------------------------------------------------------------- paragraphs


def test_split_paragraphs_joins_a_hard_wrapped_block() -> None:
    text = (
        "This is a hard wrapped paragraph of text that goes on and\n"
        "on across several lines because the sender wrapped it at\n"
        "seventy characters or so, as email clients still do today.\n\n"
        "Second paragraph."
    )
    assert split_paragraphs(text) == [
        "This is a hard wrapped paragraph of text that goes on and on across several lines because the sender "
        "wrapped it at seventy characters or so, as email clients still do today.",
        "Second paragraph.",
    ]


def test_split_paragraphs_reads_single_newlines_between_sentences_as_breaks() -> None:
    assert split_paragraphs("One sentence.\nAnother one.\nThird") == ["One sentence.", "Another one.", "Third"]


def test_split_paragraphs_joins_a_soft_wrap_inside_a_sentence() -> None:
    assert split_paragraphs("The minister said the\ntalks were inter-\nnational.") == [
        "The minister said the talks were inter-national."
    ]


# --------------------------------------------------------------------------- quotes


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('“This event is not over," Gantz said.', "“This event is not over,” Gantz said."),
        ('"Take the win” he said.', "“Take the win” he said."),
        ('“curly” and "straight" stay', '“curly” and "straight" stay'),
        ('only "straight" quotes', 'only "straight" quotes'),
        ("no quotes at all", "no quotes at all"),
    ],
)
def test_fix_quote_pairs_closes_mismatched_pairs_only(before: str, after: str) -> None:
    assert fix_quote_pairs(before) == after


def test_fold_for_comparison_removes_quotes_and_unifies_spacing() -> None:
    assert fold_for_comparison("He said: « Hello » — “it’s  fine” ( really ) , ok") == (
        "he said: hello-its fine (really), ok"
    )


def test_normalize_title_is_one_line() -> None:
    assert normalize_title('  Iran\u00a0attack:\n“what we know"  ') == "Iran attack: “what we know”"
