"""The PolNeAR quote scoring rules (evaluation/quote_eval.py) on invented brat files."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.quote_eval import QuoteScore, classify_source, read_polnear, same_speaker, score_article

TEXT = (
    "Mayor Visits Harbour.\n\n"
    "“We will rebuild the harbour this year,” Mayor Jane Doe, a former engineer, said on Monday.\n\n"
    "“It will take time,” she added. Critics called it a “pipe dream” and “The Harbour Plan” stayed a title.\n\n"
    "“Nobody asked the fishermen what they want,” a local resident said."
)


def _brat(text: str) -> str:
    """An annotation file for TEXT: three attributions, their sources and contents."""
    rows = []
    spans = [
        ("Content", "We will rebuild the harbour this year,"),
        ("Source", "Mayor Jane Doe, a former engineer,"),
        ("Content", "It will take time,"),
        ("Source", "she"),
        ("Content", "Nobody asked the fishermen what they want,"),
        ("Source", "a local resident"),
    ]
    for i, (label, surface) in enumerate(spans, start=1):
        start = text.index(surface)
        rows.append(f"T{i}\t{label} {start} {start + len(surface)}\t{surface}")
    for e, (content, source) in enumerate(((1, 2), (3, 4), (5, 6)), start=1):
        rows.append(f"E{e}\tAttribution:T{content} Content:T{content} Source:T{source}")
    return "\n".join(rows) + "\n"


@pytest.fixture
def polnear(tmp_path: Path) -> Path:
    (tmp_path / "text").mkdir()
    (tmp_path / "attributions").mkdir()
    (tmp_path / "text" / "outlet_2016-10-01_harbour.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "attributions" / "outlet_2016-10-01_harbour_ab12.ann").write_text(_brat(TEXT), encoding="utf-8")
    return tmp_path


def test_sources_are_names_pronouns_or_descriptions() -> None:
    assert classify_source("he") == ("pronoun", None)
    assert classify_source("Hillary Clinton’s campaign manager Robby Mook") == ("name", "Robby Mook")
    assert classify_source("Flynn, a top Trump surrogate,") == ("name", "Flynn")
    assert classify_source("Another critic, Laurence H. Tribe,") == ("name", "Laurence H. Tribe")
    assert classify_source("a spokesman for Trump") == ("description", None)
    assert classify_source("The Republican nominee") == ("description", None)
    assert classify_source("Officials", "Officials said so. The officials left.") == ("description", None)
    assert classify_source(None) == ("none", None)


def test_a_predicted_name_matches_by_surname_and_the_word_before_it() -> None:
    assert same_speaker("Donald Trump", "Trump")
    assert same_speaker("Barack Obama", "Mr. Obama")
    assert same_speaker("Paul Ryan", "House Speaker Paul D. Ryan")
    assert same_speaker("New York Post", "The New York Post")
    assert not same_speaker("Hillary Clinton", "Former President Bill Clinton")
    assert not same_speaker(None, "Trump")
    assert same_speaker(None, None)


def test_gold_quotes_are_quoted_passages_of_three_words_inside_a_content(polnear: Path) -> None:
    (article,) = read_polnear(polnear)
    assert [(article.text[q.start : q.end], q.kind) for q in article.quotes] == [
        ("We will rebuild the harbour this year,", "name"),
        ("It will take time,", "pronoun"),
        ("Nobody asked the fishermen what they want,", "description"),
    ]
    assert article.quotes[1].referent == "Mayor Jane Doe"  # the last name source before the pronoun
    assert [article.text[a:b] for a, b in article.ignored] == ["pipe dream"]


def test_scoring_counts_quotes_speakers_and_errors(polnear: Path) -> None:
    (article,) = read_polnear(polnear)
    gold = [(q.start, q.end) for q in article.quotes]
    title = article.text.index("The Harbour Plan")
    pipe = article.text.index("pipe dream")
    predicted = [
        (*gold[0], "Jane Doe"),
        (*gold[1], "Jane Doe"),  # the pronoun's referent
        (*gold[2], "Jane Doe"),  # an indefinite description: no speaker is right
        (pipe, pipe + len("pipe dream"), None),  # a short quoted passage: not counted
        (title, title + len("The Harbour Plan"), None),  # outside every Content: a false positive
    ]
    score = QuoteScore()
    score_article(article, predicted, score)
    assert (score.tp, score.fp, score.fn) == (3, 1, 0)
    assert (score.speaker_right, score.speaker_scored) == (2, 3)
    assert score.errors == {"quote: not a gold quote": 1, "speaker (description): one given, none expected": 1}
    assert score.by_kind == {"name": [1, 1], "pronoun": [1, 1], "description": [0, 1]}
