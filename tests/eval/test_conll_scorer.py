"""The CoNLL-2003 scorer of bench-quality on a tiny synthetic file (written here, not taken from CoNLL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.conll_eval import (
    Tally,
    cluster,
    default_conll_path,
    detokenize,
    match_counts,
    modern_format,
    read_conll,
    score_story,
    story_shape,
)

SNIPPET = """-DOCSTART- -X- -X- O

TENNIS O
- O
MARTINEZ B-PER
WINS O
IN O
OSLO B-LOC
. O

OSLO B-LOC
2031-05-02 O

Anna B-PER
Martinez I-PER
of O
Oslo B-ORG
Tennis I-ORG
Club I-ORG
beat O
Lena B-PER
Holt I-PER
on O
Friday O
, O
the O
club O
'S O
" O
best O
" O
season O
in O
Norway B-LOC

Martinez B-PER
said O
the O
crowd O
in O
Oslo B-LOC
had O
carried O
her O
through O
the O
final O
set O
and O
that O
she O
would O
now O
rest O
before O
the O
next O
event O
in O
the O
spring O
. O

-DOCSTART- -X- -X- O

HOCKEY O
- O
STANDINGS O
. O

RIGA B-LOC
2031-05-02 O

Standings O
after O
Thursday O
: O

Dinamo B-ORG
4 O
3 O
1 O
12 O

Lokomotiv B-ORG
4 O
2 O
2 O
9 O

"""


@pytest.fixture()
def stories(tmp_path: Path) -> list:
    path = tmp_path / "snippet.txt"
    path.write_text(SNIPPET, encoding="utf-8")
    return read_conll(path)


def test_stories_are_rebuilt_as_wire_text(stories: list) -> None:
    assert len(stories) == 2
    prose = stories[0]
    assert prose.headline == "TENNIS - MARTINEZ WINS IN OSLO."
    lines = prose.text.split("\n")
    assert lines[:3] == ["TENNIS - MARTINEZ WINS IN OSLO.", "OSLO 2031-05-02", ""]
    assert 'Club beat Lena Holt on Friday, the club\'S "best" season in Norway' in prose.text
    assert stories[1].text.endswith("Standings after Thursday:\n\nDinamo 4 3 1 12\n\nLokomotiv 4 2 2 9")


def test_gold_names_per_kind(stories: list) -> None:
    gold = stories[0].gold_mentions
    assert gold["people"] == ["MARTINEZ", "Anna Martinez", "Lena Holt", "Martinez"]
    assert gold["organizations"] == ["Oslo Tennis Club"]
    assert gold["places"] == ["OSLO", "OSLO", "Norway", "Oslo"]
    assert stories[1].gold_mentions["organizations"] == ["Dinamo", "Lokomotiv"]


def test_iob1_tags_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "iob1.txt"
    path.write_text("-DOCSTART- -X- O\n\nAnna I-PER\nHolt I-PER\nand O\nBen I-PER\nvisited O\nRiga I-LOC\n\n")
    assert read_conll(path)[0].gold_mentions["people"] == ["Anna Holt", "Ben"]


def test_shapes(stories: list) -> None:
    assert [s.shape for s in stories] == ["brief", "results"]
    prose_line = ["word"] * 30
    assert story_shape([prose_line] * 4) == "prose"
    assert story_shape([["Team", "3", "1", "0"], ["Other", "2", "2", "1"], prose_line]) == "results"
    assert story_shape([]) == "brief"


def test_detokenize() -> None:
    toks = ["He", "said", '"', "yes", '"', "(", "twice", ")", ",", "did", "n't", "he", "?"]
    assert detokenize(toks) == 'He said "yes" (twice), didn\'t he?'


def test_a_surname_counts_with_its_full_name() -> None:
    people = cluster([["MARTINEZ"], ["Anna Martinez"], ["Lena Holt"], ["Martinez"]], "people")
    assert sorted(sorted(c) for c in people) == [["anna martinez", "martinez"], ["lena holt"]]
    # only for people: an organisation's last word is not its name
    assert len(cluster([["Club"], ["Oslo Tennis Club"]], "organizations")) == 2


def test_matching_is_one_to_one_on_a_shared_name() -> None:
    gold = [{"anna martinez", "martinez"}, {"lena holt"}]
    assert match_counts([{"martinez"}, {"martinez", "a martinez"}, {"oslo"}], gold) == (1, 2, 1)


def test_story_scores_and_tally(stories: list) -> None:
    story = stories[0]
    gold = story.gold_in(story.text)
    assert story.dropped == []
    predicted = {
        "people": [{"Anna Martinez", "Martinez"}, {"Oslo"}],  # one right, one wrong
        "organizations": [],  # the club missed
        "places": [{"Oslo"}, {"Norway"}],  # "OSLO" and "Oslo" are one place
    }
    s = score_story(predicted, gold)
    assert s.counts == {"people": (1, 1, 1), "organizations": (0, 0, 1), "places": (2, 0, 0)}
    assert s.found == 4
    tally = Tally()
    tally.add(story.shape, s)
    assert (tally.overall.tp, tally.overall.fp, tally.overall.fn) == (3, 1, 2)
    assert tally.overall.precision == pytest.approx(0.75)
    assert tally.overall.recall == pytest.approx(0.6)
    assert tally.by_shape["brief"]["places"].f1 == 1.0


def test_gold_names_outside_the_text_read_are_not_scored(stories: list) -> None:
    story = stories[0]
    gold = story.gold_in(story.text.split("\n\n", 1)[1])  # the body alone: no headline, no dateline
    assert gold["places"] == ["Norway", "Oslo"]
    assert story.dropped == ["MARTINEZ", "OSLO", "OSLO"]


def test_path_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NEWSFLOW_CONLL_DEV", raising=False)
    repo = Path(__file__).resolve().parents[2]  # the default is beside this checkout, wherever the scorer lives
    assert default_conll_path() == repo.parent / "shared" / "data" / "external" / "conll2003-dev.txt"
    assert default_conll_path(tmp_path / "repo") == tmp_path / "shared" / "data" / "external" / "conll2003-dev.txt"
    monkeypatch.setenv("NEWSFLOW_CONLL_DEV", str(tmp_path / "x.txt"))
    assert default_conll_path() == tmp_path / "x.txt"


MODERN = """-DOCSTART- - - O

BERGEN 0 6 I-LOC
( 7 8 O
Reuters 8 15 I-ORG
) 15 16 O
- 17 18 O
Nordvik 19 26 I-ORG
Shipping 27 35 I-ORG
said 36 40 O
Kari 41 45 I-PER
Lund 46 50 I-PER
will 51 55 O
lead 56 60 O
it 61 63 O
. 63 64 O

REUTERS 66 73 I-ORG
/ 74 75 O
Ola 76 79 I-PER
Berg 80 84 I-PER

-DOCSTART- - - O

Lund 0 4 I-PER
spoke 5 10 O
in 11 13 O
Oslo 14 18 I-LOC
. 18 19 O
"""


def test_a_conll2020_file_is_read_without_a_headline_line(tmp_path: Path) -> None:
    path = tmp_path / "modern.txt"
    path.write_text(MODERN, encoding="utf-8")
    old = tmp_path / "old.txt"
    old.write_text(SNIPPET, encoding="utf-8")
    assert modern_format(path) and not modern_format(old)
    first, second = read_conll(path)
    assert first.text == "BERGEN (Reuters) - Nordvik Shipping said Kari Lund will lead it.\n\nREUTERS / Ola Berg"
    assert first.headline.startswith("BERGEN (Reuters)")  # the first paragraph, dateline and all
    assert first.gold_mentions == {
        "people": ["Kari Lund", "Ola Berg"],
        "organizations": ["Reuters", "Nordvik Shipping", "REUTERS"],
        "places": ["BERGEN"],
    }
    assert second.text == "Lund spoke in Oslo." and second.gold_mentions["places"] == ["Oslo"]


def test_the_modern_set_has_its_own_default_path_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSFLOW_CONLL2020_DEV", raising=False)
    assert default_conll_path(name="conll2020-dev.txt").name == "conll2020-dev.txt"
    monkeypatch.setenv("NEWSFLOW_CONLL2020_DEV", "/elsewhere/modern.txt")
    monkeypatch.setenv("NEWSFLOW_CONLL_DEV", "/elsewhere/old.txt")
    assert default_conll_path(name="conll2020-dev.txt") == Path("/elsewhere/modern.txt")
    assert default_conll_path() == Path("/elsewhere/old.txt")
