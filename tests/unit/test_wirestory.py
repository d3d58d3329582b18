"""Wire stories split into headline, dateline and body."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from services.ingest.wirestory import split_wire_story

SAMPLE = (Path(__file__).parent.parent / "data" / "sample-article-afp-2024-04-14.txt").read_text(encoding="utf-8")


def test_split_wire_story_on_the_real_sample() -> None:
    title, dateline, body = split_wire_story(SAMPLE)
    assert title == "US says doesn't want escalation as Israel war cabinet mulls response to Iran attack"
    assert dateline is not None
    assert dateline.agency == "AFP"
    assert dateline.date == date(2024, 4, 14)
    assert dateline.raw == "AFP , Sunday 14 Apr 2024"
    assert body.startswith("The United States does not want to see an escalation")
    assert "President Joe Biden, along with members" not in body  # the photo caption
    assert "Short link" not in body
    assert "AFP , Sunday" not in body
    assert body.endswith("or do something more measured.")
    # quotes are kept, straight and curly; the mismatched “...," pair is closed
    assert '"We don\'t want to see this escalate," White House' in body
    assert "“We must be prepared for every scenario.”" in body
    assert "strengthened precisely now,” Gantz continued." in body
    assert "\n\nIsraels mulls response\n\n" in body  # a sub-heading stays a paragraph
    assert (
        body.count("\n\n") == 18
    )  # 19 paragraphs: the source's 23 blocks minus headline, dateline, caption, "Short link:"


def test_split_wire_story_with_the_dateline_in_the_first_paragraph() -> None:
    text = "Iran attack: US urges restraint\n\nWASHINGTON (Reuters) - The United States urged restraint.\n\nMore."
    story = split_wire_story(text)
    assert story.title == "Iran attack: US urges restraint"
    assert story.dateline is not None
    assert (story.dateline.agency, story.dateline.location) == ("Reuters", "WASHINGTON")
    assert story.body == "The United States urged restraint.\n\nMore."


def test_split_wire_story_merges_a_byline_and_a_dateline() -> None:
    text = "Headline here\nBy Jane Doe, AP\nLONDON, April 14 —\nBritain said.\n"
    story = split_wire_story(text, reference=date(2024, 4, 20))
    assert story.title == "Headline here"
    assert story.dateline is not None
    assert story.dateline.raw == "By Jane Doe, AP\nLONDON, April 14 —"
    assert (story.dateline.agency, story.dateline.location, story.dateline.date) == ("AP", "LONDON", date(2024, 4, 14))
    assert story.body == "Britain said."


def test_split_wire_story_without_a_headline() -> None:
    one_paragraph = "The United States does not want to see an escalation, a top official said on Sunday."
    assert split_wire_story(one_paragraph) == ("", None, one_paragraph)
    wrapped = "The United States does not want to see an\nescalation of the crisis, an official said."
    assert split_wire_story(wrapped).title == ""
    assert split_wire_story("Headline\nBody.", has_headline=False) == ("", None, "Headline\n\nBody.")


def test_split_wire_story_of_nothing() -> None:
    assert split_wire_story("  \n\n ") == ("", None, "")
